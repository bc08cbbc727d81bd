// sabre compare end to end: inputs in both formats, outputs (HDF5 gamma map, PNG), the JSON
// report, and the input/usage errors (one line, the documented exit code, no output).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/compare/compare.hh"
#include "engine/compare/gamma_output.hh"
#include "core/errors.hh"
#include "core/h5.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/rtdose.hh"
#include "engine/viz/png.hh"
#include "tests/support/skip.hh"

namespace fs = std::filesystem;
using sabre::DoseResult;

namespace {

int code(sabre::ExitCode c) { return static_cast<int>(c); }
long count_lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("sabre_compare_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

// 12 x 10 x 8 voxels of 2.5 mm: a 5 Gy box in the middle on a 1 Gy background, times scale.
DoseResult box_dose(double scale, const std::string& unit = "Gy") {
  DoseResult d;
  d.dose_unit = unit;
  d.grid.nx = 12;
  d.grid.ny = 10;
  d.grid.nz = 8;
  d.grid.spacing_cm = {0.25, 0.25, 0.25};
  d.grid.origin_cm = {-1.5, -1.25, -1.0};
  d.dose_gy.assign(d.grid.size(), 1.0 * scale);
  for (int k = 2; k < 6; ++k)
    for (int j = 3; j < 7; ++j)
      for (int i = 4; i < 8; ++i) d.dose_gy[d.grid.index(i, j, k)] = 5.0 * scale;
  d.rel_uncertainty.assign(d.grid.size(), 0.0);
  d.histories = 1000;
  return d;
}

void write_rtdose_file(const std::string& path, const DoseResult& d) {
  sabre::io::RtDoseOptions opt;
  opt.ids.frame_of_reference_uid = "1.2.826.0.1.3680043.10.1";
  opt.ids.study_instance_uid = "1.2.826.0.1.3680043.10.2";
  opt.ids.patient_id = "TEST";
  sabre::io::write_rtdose(path, d, opt);
}

std::string q(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST_CASE("compare: RT Dose against sabre HDF5, text and JSON reports, HDF5 and PNG outputs",
          "[compare][cli]") {
  TempDir tmp;
  const auto ref = tmp / "ref.dcm";
  const auto ev = tmp / "ev.h5";
  write_rtdose_file(ref, box_dose(1.0));
  sabre::io::write_dose_hdf5(ev, box_dose(1.02));  // +2 %: gamma 2/3 everywhere (global)

  const auto text = sabre::test::run(sabre::test::sabre_exe() + " compare " + q(ref) + " " + q(ev));
  REQUIRE(text.status == 0);
  CHECK(text.out.find("pass rate: 100.00 % (960 of 960 voxels)") != std::string::npos);

  const auto h5 = tmp / "gamma.h5";
  const auto png = tmp / "gamma.png";
  const auto js = sabre::test::run(sabre::test::sabre_exe() + " compare " + q(ref) + " " + q(ev) +
                                   " --dose-criterion 1 --distance-mm 1 --local --output-h5 " +
                                   q(h5) + " --output-png " + q(png) + " --json");
  REQUIRE(js.status == 0);
  const auto j = nlohmann::json::parse(js.out);
  // The same comparison in process: the CLI must report exactly what the engine computes.
  sabre::compare::CompareInputs in;
  in.reference_path = ref;
  in.evaluated_path = ev;
  in.criteria.dose_fraction = 0.01;
  in.criteria.distance_mm = 1;
  in.criteria.local = true;
  const auto rep = sabre::compare::run_compare(in);
  CHECK(j["gamma"]["pass_rate_percent"].get<double>() == rep.gamma.pass_rate_percent);
  CHECK(j["gamma"]["evaluated_voxels"].get<std::int64_t>() == 960);
  CHECK(j["criteria"]["normalisation"] == "local");
  // Local 1 %: a 2 % excess gives gamma 2 wherever no shift helps, e.g. voxel (0,0,0), whose
  // neighbours within 1 mm all hold 1.02 Gy.
  CHECK(rep.gamma.gamma[0] == Approx(2.0).margin(0.01));
  CHECK(rep.gamma.pass_rate_percent < 50);
  CHECK(j["reference"]["format"] == "dicom-rtdose");
  CHECK(j["evaluated"]["format"] == "sabre-hdf5");
  CHECK(j["dose_difference"]["mean_gy"].get<double>() ==
        Approx(0.02 * (1 + 4 * 64.0 / 960)).margin(1e-6));
  CHECK(j["outputs"]["png_slice_k"].get<int>() == 2);

  // The gamma map file holds the same map.
  auto f = sabre::h5::File::open(h5);
  const auto root = f.root();
  CHECK(root.attr_string("format") == "sabre-gamma");
  CHECK(root.attr_int("schema_version") == 1);
  std::vector<double> gamma;
  const auto dims = root.read("gamma", gamma);
  REQUIRE(dims == std::vector<hsize_t>{8, 10, 12});
  bool same = true;
  for (std::size_t v = 0; v < gamma.size(); ++v) same = same && float(gamma[v]) == rep.gamma.gamma[v];
  CHECK(same);
  std::vector<std::int32_t> pass;
  root.read("pass", pass);
  CHECK(std::count(pass.begin(), pass.end(), 1) == rep.gamma.passed);
  CHECK(std::count(pass.begin(), pass.end(), -1) == 0);
  CHECK(root.group("criteria").attr_double("dose_percent") == Approx(1.0));
  CHECK(root.group("criteria").attr_string("normalisation") == "local");
  CHECK(root.group("summary").attr_double("pass_rate_percent") == rep.gamma.pass_rate_percent);
  CHECK(root.group("grid").attr_doubles("spacing_cm")[0] == Approx(0.25));

  // The picture: 8 pixels per voxel (12 x 10 voxels), a 4-pixel gap and an 8-pixel bar.
  const auto img = sabre::viz::read_png(png);
  CHECK(img.width() == 96);
  CHECK(img.height() == 80 + 4 + 8);
  CHECK(img.get(0, 0) == sabre::viz::colour(sabre::viz::Colormap::gamma,
                                            rep.gamma.gamma[rep.gamma.grid.index(0, 0, 2)] / 2));
}

TEST_CASE("compare: the same dose stored flipped and on the other format gives gamma 0",
          "[compare]") {
  TempDir tmp;
  const auto a = tmp / "a.h5";
  const auto b = tmp / "b.dcm";
  sabre::io::write_dose_hdf5(a, box_dose(1.0));
  write_rtdose_file(b, box_dose(1.0));
  sabre::compare::CompareInputs in;
  in.reference_path = a;
  in.evaluated_path = b;
  const auto rep = sabre::compare::run_compare(in);
  CHECK(rep.gamma.evaluated == 960);
  CHECK(rep.gamma.max_gamma < 1e-3);  // RT Dose stores 32-bit integers: tiny rounding only
  CHECK(rep.gamma.pass_rate_percent == 100.0);
}

TEST_CASE("compare: bad inputs are one-line input errors naming the file, with no output",
          "[compare][cli]") {
  TempDir tmp;
  const auto good = tmp / "good.h5";
  sabre::io::write_dose_hdf5(good, box_dose(1.0));
  const auto out = tmp / "g.h5";
  const std::string tail = " --output-h5 " + q(out);
  auto expect_input_error = [&](const std::string& args, const std::string& file,
                                const std::string& words) {
    const auto r = sabre::test::run(sabre::test::sabre_exe() + " compare " + args + tail);
    INFO(r.err);
    CHECK(r.status == code(sabre::ExitCode::input));
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("sabre: error: " + file + ": ") != std::string::npos);
    CHECK(r.err.find(words) != std::string::npos);
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(out));
  };
  SECTION("missing file") {
    expect_input_error(q(tmp / "nope.dcm") + " " + q(good), tmp / "nope.dcm", "no such file");
  }
  SECTION("not a dose file") {
    const auto txt = tmp / "notes.txt";
    std::ofstream(txt) << "not a dose\n";
    expect_input_error(q(good) + " " + q(txt), txt, "neither a DICOM RT Dose nor a sabre HDF5");
  }
  SECTION("RT Dose in relative units") {
    const auto rel = tmp / "rel.dcm";
    write_rtdose_file(rel, box_dose(1.0, "Gy/MU"));  // written with DoseUnits RELATIVE
    expect_input_error(q(good) + " " + q(rel), rel, "DoseUnits is not GY");
  }
  SECTION("different dose units") {
    const auto per_history = tmp / "ph.h5";
    sabre::io::write_dose_hdf5(per_history, box_dose(1e-12, "Gy/history"));
    expect_input_error(q(good) + " " + q(per_history), per_history, "differs from the reference");
  }
  SECTION("grids that do not overlap") {
    auto far = box_dose(1.0);
    far.grid.origin_cm.x += 100;
    const auto farp = tmp / "far.h5";
    sabre::io::write_dose_hdf5(farp, far);
    expect_input_error(q(good) + " " + q(farp), farp, "does not overlap");
  }
  SECTION("a reference that is zero everywhere") {
    const auto zero = tmp / "zero.h5";
    sabre::io::write_dose_hdf5(zero, box_dose(0.0));
    expect_input_error(q(zero) + " " + q(good), zero, "zero everywhere");
  }
}

TEST_CASE("compare: bad options are usage errors, an unwritable output fails before work",
          "[compare][cli]") {
  TempDir tmp;
  const auto good = tmp / "good.h5";
  sabre::io::write_dose_hdf5(good, box_dose(1.0));
  const std::string base = sabre::test::sabre_exe() + " compare " + q(good) + " " + q(good);
  for (const std::string opt : {" --distance-mm 0", " --dose-criterion -1", " --local --global",
                                " --threshold 100", " --max-search-mm -2", " --norm-dose -1"}) {
    const auto r = sabre::test::run(base + opt);
    INFO(opt << ": " << r.err);
    CHECK(r.status == code(sabre::ExitCode::usage));
    CHECK(count_lines(r.err) == 1);
  }
  const auto r = sabre::test::run(base + " --output-png " + q(tmp / "no/such/dir/g.png"));
  CHECK(r.status == code(sabre::ExitCode::runtime));
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("does not exist") != std::string::npos);
  CHECK(r.out.empty());
}
