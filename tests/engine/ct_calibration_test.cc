// CT calibration: curve interpolation, material bins, the CSV format's errors, structure
// overrides and air outside the body, dose grids and resampling.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/errors.hh"
#include "engine/ct_calibration.hh"
#include "engine/io/rtstruct.hh"
#include "physics/tables/table_set.hh"
#include "tests/support/skip.hh"
#include "tests/engine/io/io_test_util.hh"

using namespace sabre;
namespace fs = std::filesystem;

namespace {
std::string write_csv(const std::string& name, const std::string& text) {
  const auto dir = test::io::scratch_dir("calib_" + name);
  const auto p = (dir / (name + ".csv")).string();
  std::ofstream(p) << text;
  return p;
}
const char* kHeader = "format,sabre-ct-calibration,1\n";
}  // namespace

TEST_CASE("the built-in calibrations interpolate the curve and bin materials", "[calibration]") {
  const auto s = CtCalibration::load("schneider");
  CHECK(s.density(-1000) == Approx(0.00121));
  CHECK(s.density(-2000) == Approx(0.00121));  // clamped
  CHECK(s.density(14) == Approx(1.03));
  CHECK(s.density(850) == Approx(1.1199 + (1.929 - 1.1199) * 750.0 / 1500.0));
  CHECK(s.density(5000) == Approx(2.83));
  CHECK(s.bin_material[s.material_bin(s.density(-1000))] == "air");
  CHECK(s.bin_material[s.material_bin(s.density(-750))] == "lung");
  CHECK(s.bin_material[s.material_bin(s.density(-100))] == "adipose");
  CHECK(s.bin_material[s.material_bin(s.density(0))] == "soft_tissue");
  CHECK(s.bin_material[s.material_bin(s.density(1200))] == "bone_cortical");
  const auto r = CtCalibration::load("ramp4");
  CHECK(r.bin_material.size() == 4);
  CHECK(r.bin_material[r.material_bin(r.density(0))] == "water");
}

TEST_CASE("user calibration files: documented format, clear errors", "[calibration]") {
  const auto ok = write_csv("ok", std::string("# mine\n") + kHeader +
                                      "point,-1000,0.001\npoint,1000,2.0\n"
                                      "material,0.5,air\nmaterial,inf,water\n");
  const auto c = CtCalibration::load(ok);
  CHECK(c.density(0) == Approx(1.0005));
  CHECK(c.bin_material[c.material_bin(0.4)] == "air");
  CHECK(c.bin_material[c.material_bin(0.5)] == "water");  // upper limits are exclusive

  auto msg = [](const std::string& p) {
    try {
      CtCalibration::load(p);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const auto dec = write_csv("dec", std::string(kHeader) + "point,0,1\npoint,-5,1\nmaterial,inf,water\n");
  CHECK(msg(dec) == dec + ":3: HU values must increase");
  const auto nan = write_csv("nan", std::string(kHeader) + "point,0,abc\n");
  CHECK(msg(nan) == nan + ":2: 'abc' is not a number");
  const auto noinf = write_csv("noinf", std::string(kHeader) + "point,0,1\npoint,1,1\nmaterial,2,water\n");
  CHECK(msg(noinf) == noinf + ": the last 'material' line must have the upper limit inf");
  const auto nofmt = write_csv("nofmt", "point,0,1\n");
  CHECK(msg(nofmt).rfind(nofmt + ": no 'format", 0) == 0);
  const auto kind = write_csv("kind", std::string(kHeader) + "curve,0,1\n");
  CHECK(msg(kind) == kind + ":2: unknown line kind 'curve' (format, point, material)");
  CHECK(msg("/nonexistent/cal.csv") == "/nonexistent/cal.csv: cannot open the CT calibration file");
}

TEST_CASE("structure overrides and air outside the body", "[calibration][overrides]") {
  PhantomSpec spec;
  spec.kind = "thorax";
  spec.size_mm = {200, 140, 30};
  spec.slice_mm = 3;
  const auto dir = test::io::write_phantom("overrides", spec);
  const auto ct = io::read_ct_series(dir.string());
  const auto rs_path = (dir / "RS.dcm").string();
  const auto rs = io::read_rtstruct(rs_path);
  const auto cal = CtCalibration::load("schneider");
  const auto plain = build_phantom(ct, cal, nullptr, "");

  PhantomBuildOptions opt;
  opt.overrides.push_back(parse_override("LUNG_L=material:water,density:1.0"));
  const auto ov = build_phantom(ct, cal, &rs, rs_path, opt);
  const auto mask = io::rasterise(*rs.find("LUNG_L"), ct.grid, rs_path);
  const auto water = std::find(ov.material_names.begin(), ov.material_names.end(), "water") -
                     ov.material_names.begin();
  long inside = 0, unchanged_outside = 0, outside = 0;
  for (std::size_t v = 0; v < mask.size(); ++v) {
    if (mask[v]) {
      inside += ov.material[v] == water && ov.density_g_cm3[v] == 1.0f;
    } else {
      ++outside;
      unchanged_outside += ov.density_g_cm3[v] == plain.density_g_cm3[v];
    }
  }
  CHECK(inside == std::accumulate(mask.begin(), mask.end(), 0L));
  CHECK(inside > 1000);
  CHECK(unchanged_outside == outside);

  // A density override keeps the calibrated material.
  PhantomBuildOptions dens;
  dens.overrides.push_back(parse_override("SPINAL_CORD=density:1.2"));
  const auto d = build_phantom(ct, cal, &rs, rs_path, dens);
  int i, j, k;
  REQUIRE(ct.grid.locate({0.0, 7.8 * 140 / 200, 0.1}, i, j, k));  // cord centre, scaled
  CHECK(d.density_g_cm3[ct.grid.index(i, j, k)] == 1.2f);
  CHECK(d.material[ct.grid.index(i, j, k)] == plain.material[ct.grid.index(i, j, k)]);

  // Air outside the body: the air margin and nothing inside the body changes.
  PhantomBuildOptions air;
  air.air_outside_body = true;
  const auto a = build_phantom(ct, cal, &rs, rs_path, air);
  REQUIRE(ct.grid.locate({9.9, 6.9, 0.1}, i, j, k));  // outside the ellipse, inside the grid
  CHECK(a.material_names[a.material[ct.grid.index(i, j, k)]] == "air");
  REQUIRE(ct.grid.locate({0.0, 0.0, 0.1}, i, j, k));
  CHECK(a.density_g_cm3[ct.grid.index(i, j, k)] == plain.density_g_cm3[ct.grid.index(i, j, k)]);

  // Errors name the structure set file.
  PhantomBuildOptions missing;
  missing.overrides.push_back(parse_override("COUCH=density:0.3"));
  CHECK_THROWS_WITH(build_phantom(ct, cal, &rs, rs_path, missing),
                    Catch::StartsWith(rs_path + ": no ROI named 'COUCH'"));
  CHECK_THROWS_AS(parse_override("LUNG_L"), UsageError);
  CHECK_THROWS_AS(parse_override("LUNG_L=density:-1"), UsageError);
  // Not wholly a finite number (before: '1.0abc' read as 1.0, 'inf' taken as a density).
  CHECK_THROWS_AS(parse_override("LUNG_L=density:1.0abc"), UsageError);
  CHECK_THROWS_AS(parse_override("LUNG_L=density:inf"), UsageError);
  CHECK_THROWS_AS(parse_override("LUNG_L=density:nan"), UsageError);
  CHECK_THROWS_AS(build_phantom(ct, cal, nullptr, "", air), UsageError);
}

TEST_CASE("material names resolve against the table set, or fail clearly", "[calibration]") {
  Phantom p;
  p.grid.nx = p.grid.ny = p.grid.nz = 1;
  p.grid.spacing_cm = {1, 1, 1};
  p.material = {1};
  p.density_g_cm3 = {1.0f};
  p.material_names = {"air", "water"};
  p.resolve_materials({"water", "lung", "air"}, "tables.h5");
  CHECK(p.material == std::vector<std::int32_t>{0});
  CHECK(p.material_names[0] == "water");
  Phantom q = p;
  q.material_names = {"unobtainium"};
  q.material = {0};
  CHECK_THROWS_WITH(q.resolve_materials({"water"}, "tables.h5"),
                    Catch::StartsWith("tables.h5: the physics table set has no material 'unobtainium'"));
  CHECK(p.view().max_density_g_cm3 == 1.0f);
}

TEST_CASE("dose grids with a user spacing cover the CT exactly from its corner", "[calibration][grid]") {
  phys::GridGeometry ct;
  ct.origin_cm = {-10.0, -8.0, -3.0};
  ct.spacing_cm = {0.1, 0.1, 0.3};
  ct.nx = 200;
  ct.ny = 160;
  ct.nz = 20;
  const auto g = dose_grid(ct, 2.5);
  CHECK(g.origin_cm.x == ct.origin_cm.x);
  CHECK(g.spacing_cm.x == 0.25);
  CHECK(g.nx == 80);
  CHECK(g.ny == 64);
  CHECK(g.nz == 24);  // 60 mm / 2.5 mm
  CHECK(dose_grid(ct, 0).nx == 200);
  Phantom p;
  p.grid = ct;
  p.material.assign(ct.size(), 0);
  p.density_g_cm3.assign(ct.size(), 1.0f);
  p.material_names = {"water"};
  const auto r = resample_phantom(p, dose_grid(ct, 9.0));  // 23 x 9 mm = 207 mm > 200 mm in x
  CHECK(r.material_names == std::vector<std::string>{"water", "air"});
  CHECK(r.density_g_cm3.front() == 1.0f);
  CHECK(r.density_g_cm3.back() == 0.00121f);
}

TEST_CASE("the built-in calibrations' materials exist in the shipped table set", "[calibration][tables]") {
  const auto file = (fs::path(SABRE_SOURCE_DIR) / "physics" / "data" / "default.h5").string();
  if (!fs::exists(file)) {
    sabre::test::skip("physics/data/default.h5 is not built");
    return;
  }
  const auto names = phys::tables::read_table_file(file).names;
  for (const std::string cal : {"schneider", "ramp4"}) {
    INFO(cal);
    const auto c = CtCalibration::load(cal);
    Phantom p;
    p.grid.nx = int(c.bin_material.size());
    p.grid.ny = p.grid.nz = 1;
    p.grid.spacing_cm = {1, 1, 1};
    p.material_names = c.bin_material;
    for (std::size_t m = 0; m < c.bin_material.size(); ++m) {
      p.material.push_back(std::int32_t(m));
      p.density_g_cm3.push_back(1.0f);
    }
    CHECK_NOTHROW(p.resolve_materials(names, file));
    for (std::size_t m = 0; m < c.bin_material.size(); ++m)
      CHECK(p.material_names[p.material[m]] == c.bin_material[m]);
  }
}
