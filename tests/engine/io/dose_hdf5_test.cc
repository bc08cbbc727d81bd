// HDF5 dose output: round trip through our reader, an independent reader (h5py) with the
// documented names, provenance fields, no partial output, bad input.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/io/dose_hdf5.hh"
#include "tests/support/skip.hh"

namespace fs = std::filesystem;

namespace {

sabre::DoseResult sample_result() {
  sabre::DoseResult r;
  r.grid.origin_cm = {-1.25, -2.0, 3.5};
  r.grid.spacing_cm = {0.25, 0.5, 0.3};
  r.grid.nx = 4;
  r.grid.ny = 3;
  r.grid.nz = 2;
  const auto n = r.grid.size();
  for (std::int64_t v = 0; v < n; ++v) {
    r.dose_gy.push_back(1e-12 * (v + 1));
    r.rel_uncertainty.push_back(0.01 * (v % 5));
    r.material.push_back(int(v % 3));
    r.density_g_cm3.push_back(0.5f + 0.1f * float(v));
  }
  r.material_names = {"water", "lung", "cortical bone"};
  r.dose_unit = "Gy/history";
  r.dose_to_water = false;
  r.histories = 123456789;
  r.batches = 10;
  r.seed = 0xDEADBEEFCAFEULL;
  r.device = "cpu:2 threads";
  r.wall_seconds = 1.5;
  r.mean_rel_uncertainty_50 = 0.0123;
  r.provenance["physics_tables_sha256"] = "ab12";
  r.provenance["machine_model_sha256"] = "cd34";
  r.provenance["input_sha256:plan.dcm"] = "ef56";
  return r;
}

fs::path scratch(const std::string& name) {
  fs::path dir = fs::path(SABRE_BINARY_DIR) / "test-scratch" / "io";
  fs::create_directories(dir);
  fs::remove(dir / name);
  return dir / name;
}

}  // namespace

TEST_CASE("dose HDF5 round trip keeps every field", "[io][hdf5]") {
  const auto r = sample_result();
  const auto path = scratch("roundtrip.h5");
  sabre::io::write_dose_hdf5(path.string(), r);
  const auto b = sabre::io::read_dose_hdf5(path.string());
  CHECK(b.grid.nx == 4);
  CHECK(b.grid.ny == 3);
  CHECK(b.grid.nz == 2);
  CHECK(b.grid.origin_cm.x == r.grid.origin_cm.x);
  CHECK(b.grid.origin_cm.z == r.grid.origin_cm.z);
  CHECK(b.grid.spacing_cm.y == r.grid.spacing_cm.y);
  CHECK(b.dose_gy == r.dose_gy);
  CHECK(b.rel_uncertainty == r.rel_uncertainty);
  CHECK(b.material == r.material);
  CHECK(b.density_g_cm3 == r.density_g_cm3);
  CHECK(b.material_names == r.material_names);
  CHECK(b.histories == r.histories);
  CHECK(b.batches == r.batches);
  CHECK(b.seed == r.seed);
  CHECK(b.device == r.device);
  CHECK(b.dose_unit == r.dose_unit);
  CHECK(b.dose_to_water == r.dose_to_water);
  CHECK(b.mean_rel_uncertainty_50 == r.mean_rel_uncertainty_50);
  CHECK(b.calibration_rel_uncertainty == 0);
  CHECK(b.provenance.at("physics_tables_sha256") == "ab12");
  CHECK(b.provenance.at("input_sha256:plan.dcm") == "ef56");
  CHECK(b.provenance.at("sabre_version") == sabre::build::version());
  CHECK(b.provenance.at("sabre_commit") == sabre::build::git_commit());
  CHECK(b.provenance.at("created_utc").size() == 20);
  // No temporary file is left beside it.
  int files = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    if (e.path().filename().string().find("roundtrip.h5") != std::string::npos) ++files;
  CHECK(files == 1);
}

TEST_CASE("dose HDF5 of a non-uniform grid: schema 3, planes round trip, no spacing", "[io][hdf5]") {
  auto r = sample_result();
  r.edges.set_axis(r.grid, 0, {-2.0, -1.0, -0.9, -0.8, 1.0});  // nx stays 4
  r.edges.set_axis(r.grid, 2, {3.5, 3.6, 5.0});                  // nz stays 2
  REQUIRE(r.grid.nx == 4);
  REQUIRE(r.grid.nz == 2);
  const auto path = scratch("nonuniform.h5");
  sabre::io::write_dose_hdf5(path.string(), r);
  const auto b = sabre::io::read_dose_hdf5(path.string());
  CHECK(b.edges.cm[0] == r.edges.cm[0]);
  CHECK(b.edges.cm[2] == r.edges.cm[2]);
  // y was uniform: it comes back as its planes (a schema 3 file has no spacing_cm).
  REQUIRE(b.edges.cm[1].size() == 4);
  for (int c = 0; c <= 3; ++c) CHECK(b.edges.cm[1][std::size_t(c)] == r.grid.plane(1, c));
  CHECK(b.grid.origin_cm.x == -2.0);
  CHECK(b.grid.spacing_cm.x == Approx(0.1));  // smallest width
  CHECK(b.grid.spacing_cm.y == r.grid.spacing_cm.y);
  CHECK(b.dose_gy == r.dose_gy);
  // The file: version 3, no spacing_cm, planes on every axis (y from its spacing).
  const hid_t f = H5Fopen(path.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  std::int64_t version = 0;
  const hid_t va = H5Aopen(f, "schema_version", H5P_DEFAULT);
  H5Aread(va, H5T_NATIVE_INT64, &version);
  H5Aclose(va);
  CHECK(version == 3);
  const hid_t g = H5Gopen2(f, "grid", H5P_DEFAULT);
  CHECK(H5Aexists(g, "spacing_cm") == 0);
  CHECK(H5Aexists(g, "first_voxel_centre_mm") == 0);
  double y[4] = {};
  const hid_t ya = H5Aopen(g, "y_edges_cm", H5P_DEFAULT);
  REQUIRE(ya >= 0);
  H5Aread(ya, H5T_NATIVE_DOUBLE, y);
  H5Aclose(ya);
  CHECK(y[0] == -2.0);
  CHECK(y[3] == Approx(-0.5));
  H5Gclose(g);
  H5Fclose(f);
  // A uniform grid's file stays version 2 (readers of 2 read it).
  const auto u = scratch("uniform.h5");
  sabre::io::write_dose_hdf5(u.string(), sample_result());
  const hid_t fu = H5Fopen(u.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ua = H5Aopen(fu, "schema_version", H5P_DEFAULT);
  H5Aread(ua, H5T_NATIVE_INT64, &version);
  H5Aclose(ua);
  H5Fclose(fu);
  CHECK(version == 2);
}

TEST_CASE("dose HDF5 of an absolute dose: total uncertainty written, statistical part read back",
          "[io][hdf5]") {
  auto r = sample_result();
  r.dose_unit = "Gy";
  r.calibration_rel_uncertainty = 0.02;
  r.dose_gy[0] = 0;  // no dose: no uncertainty
  const auto path = scratch("calibrated.h5");
  sabre::io::write_dose_hdf5(path.string(), r);
  const auto b = sabre::io::read_dose_hdf5(path.string());
  CHECK(b.rel_uncertainty == r.rel_uncertainty);  // the statistical part, bit for bit
  CHECK(b.calibration_rel_uncertainty == 0.02);
  CHECK(b.dose_gy == r.dose_gy);
  const auto total = sabre::total_rel_uncertainty(b);
  CHECK(total[0] == 0);
  for (std::size_t v = 1; v < total.size(); ++v)
    CHECK(total[v] == std::sqrt(r.rel_uncertainty[v] * r.rel_uncertainty[v] + 0.02 * 0.02));
  // Without a calibration term the total is the statistical array itself.
  const auto plain = sabre::total_rel_uncertainty(sample_result());
  CHECK(plain == sample_result().rel_uncertainty);
}

TEST_CASE("dose HDF5 schema version 1 files are still read", "[io][hdf5]") {
  // A version 1 file had the statistical uncertainty under /dose/rel_uncertainty and no
  // calibration term: make one from a version 2 file without a calibration term (there the
  // two datasets are equal) by removing the new names and setting the version to 1.
  const auto r = sample_result();
  const auto path = scratch("v1.h5");
  sabre::io::write_dose_hdf5(path.string(), r);
  {
    const hid_t f = H5Fopen(path.string().c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    const hid_t dose = H5Gopen2(f, "dose", H5P_DEFAULT);
    REQUIRE(H5Ldelete(dose, "rel_uncertainty_statistical", H5P_DEFAULT) >= 0);
    REQUIRE(H5Adelete(dose, "calibration_rel_uncertainty") >= 0);
    H5Gclose(dose);
    const hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
    const std::int64_t one = 1;
    REQUIRE(H5Awrite(a, H5T_NATIVE_INT64, &one) >= 0);
    H5Aclose(a);
    H5Fclose(f);
  }
  const auto b = sabre::io::read_dose_hdf5(path.string());
  CHECK(b.rel_uncertainty == r.rel_uncertainty);
  CHECK(b.calibration_rel_uncertainty == 0);
}

TEST_CASE("dose HDF5 files are identical apart from the date", "[io][hdf5]") {
  const auto r = sample_result();
  const auto a = scratch("det_a.h5"), b = scratch("det_b.h5");
  sabre::io::write_dose_hdf5(a.string(), r);
  sabre::io::write_dose_hdf5(b.string(), r);
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  std::string x = slurp(a), y = slurp(b);
  REQUIRE(x.size() == y.size());
  // Blank out the two created_utc strings ("YYYY-MM-DDTHH:MM:SSZ") before comparing.
  auto blank_dates = [](std::string& s) {
    for (std::size_t p = 0; p + 20 <= s.size(); ++p)
      if (s[p + 4] == '-' && s[p + 7] == '-' && s[p + 10] == 'T' && s[p + 13] == ':' &&
          s[p + 19] == 'Z')
        std::fill(s.begin() + p, s.begin() + p + 20, '#');
  };
  blank_dates(x);
  blank_dates(y);
  CHECK(x == y);
}

TEST_CASE("h5py reads the dose HDF5 with the documented names and provenance", "[io][hdf5]") {
  const auto path = scratch("h5py.h5");
  auto r = sample_result();  // an absolute dose with a calibration term
  r.dose_unit = "Gy";
  r.calibration_rel_uncertainty = 0.02;
  r.dose_gy[0] = 0;
  sabre::io::write_dose_hdf5(path.string(), r);
  const std::string script = std::string(SABRE_SOURCE_DIR) + "/tests/engine/io/check_dose_hdf5.py";
  const auto res = sabre::test::run("/usr/bin/python3 " + script + " " + path.string() + " " +
                                    sabre::build::version() + " " + sabre::build::git_commit());
  INFO(res.out << res.err);
  if (res.status == 77) {
    sabre::test::skip("h5py is not available: " + res.out);
    return;
  }
  CHECK(res.status == 0);
  CHECK(res.out.find("OK") != std::string::npos);
}

TEST_CASE("a write that fails leaves no file", "[io][hdf5]") {
  auto r = sample_result();
  r.provenance["bad/name"] = "x";  // invalid attribute name: the writer throws mid-file
  const auto path = scratch("failed.h5");
  CHECK_THROWS(sabre::io::write_dose_hdf5(path.string(), r));
  CHECK(!fs::exists(path));
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    CHECK(e.path().filename().string().find("failed.h5") == std::string::npos);
  CHECK_THROWS_AS(sabre::io::write_dose_hdf5("/nonexistent-dir/x.h5", sample_result()),
                  sabre::RuntimeError);
}

TEST_CASE("reading a bad dose file names the file", "[io][hdf5]") {
  const auto path = scratch("not_hdf5.h5");
  std::ofstream(path) << "this is not HDF5";
  try {
    sabre::io::read_dose_hdf5(path.string());
    FAIL("no exception");
  } catch (const sabre::InputError& e) {
    CHECK(std::string(e.what()).find(path.string()) == 0);
  }
  CHECK_THROWS_AS(sabre::io::read_dose_hdf5(scratch("missing.h5").string()), sabre::InputError);
}
