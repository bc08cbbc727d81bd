// sabre simulate: a small phantom file end to end (summary, HDF5 output, overrides),
// and its error paths (exit codes 2, 3, 4; no partial output).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/io/dose_hdf5.hh"
#include "tests/support/skip.hh"

using sabre::test::run;
using sabre::test::sabre_exe;
namespace fs = std::filesystem;

namespace {
int code(sabre::ExitCode c) { return static_cast<int>(c); }

fs::path tmpdir() {
  const auto d = fs::temp_directory_path() / "sabre_simulate_cli_test";
  fs::create_directories(d);
  return d;
}

const char* kPhantom = R"(
[phantom]
voxels = [6, 6, 12]
voxel_cm = [1.0, 1.0, 0.5]
material = "water"
[[slab]]
from_cm = 2.0
to_cm = 4.0
material = "lung"
[source]
position_cm = [0, 0, -50]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2, 2]
field_y_cm = [-2, 2]
energy_mev = 2.0
[run]
histories = 2000
seed = 5
)";

std::string write(const std::string& name, const std::string& text) {
  const auto p = tmpdir() / name;
  std::ofstream(p) << text;
  return p.string();
}

bool have_tables() {
  std::error_code ec;
  return fs::is_regular_file(fs::path(sabre::build::data_dir()) / "physics/data/default.h5", ec);
}
}  // namespace

TEST_CASE("simulate runs a phantom file and writes the dose as HDF5", "[cli][simulate]") {
  if (!have_tables()) {
    sabre::test::skip("no physics table file (physics/data/default.h5)");
    return;
  }
  const auto file = write("p.toml", kPhantom);
  const auto out = (tmpdir() / "dose.h5").string();
  fs::remove(out);
  const auto r = run(sabre_exe() + " --log-level warn simulate " + file + " -o " + out +
                     " --histories 3000 --threads 2 --seed 9 --device cpu");
  if (r.status == code(sabre::ExitCode::runtime) &&
      r.err.find("no electron/positron transport") != std::string::npos) {
    sabre::test::skip("this build has no charged-particle transport");
    return;
  }
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("histories: 3000 in 10 batches, seed 9, cpu:2 threads") != std::string::npos);
  CHECK(r.out.find("mean relative uncertainty") != std::string::npos);
  CHECK(r.out.find("energy [MeV/history]: emitted 2.000000") != std::string::npos);
  const auto d = sabre::io::read_dose_hdf5(out);
  CHECK(d.histories == 3000);
  CHECK(d.batches == 10);
  CHECK(d.seed == 9);
  CHECK(d.grid.nz == 12);
  CHECK(d.dose_unit == "Gy/history");
  double total = 0;
  for (double x : d.dose_gy) total += x;
  CHECK(total > 0);
  CHECK(d.mean_rel_uncertainty_50 > 0);
}

TEST_CASE("simulate: errors name the file and use the documented exit codes", "[cli][simulate]") {
  const auto missing = run(sabre_exe() + " simulate /nonexistent/p.toml");
  CHECK(missing.status == code(sabre::ExitCode::input));
  CHECK(missing.err.find("/nonexistent/p.toml: phantom file not found") != std::string::npos);

  const auto bad = write("bad.toml", "[phantom]\nvoxels = [1, 1]\n");
  const auto r = run(sabre_exe() + " simulate " + bad);
  CHECK(r.status == code(sabre::ExitCode::input));
  CHECK(r.err.find("bad.toml: 'phantom.voxels'") != std::string::npos);

  const auto good = write("good.toml", kPhantom);
  const auto no_dir = run(sabre_exe() + " simulate " + good + " -o /nonexistent/dir/d.h5");
  CHECK(no_dir.status == code(sabre::ExitCode::runtime));
  CHECK_FALSE(fs::exists("/nonexistent/dir/d.h5"));

  const auto neg = run(sabre_exe() + " simulate " + good + " --histories -5");
  CHECK(neg.status == code(sabre::ExitCode::usage));

  const auto spec_file = write("s.spectrum", "title\n 2, 0, 7\n 1.0, 1\n 2.0, 1\n");
  std::string with_spec = kPhantom;
  with_spec.replace(with_spec.find("energy_mev = 2.0"), 16, "spectrum = \"s.spectrum\"");
  const auto sp = write("spec.toml", with_spec);
  if (!have_tables()) return;  // the spectrum is read after the tables
  const auto rs = run(sabre_exe() + " simulate " + sp);
  CHECK(rs.status == code(sabre::ExitCode::input));
  CHECK(rs.err.find("s.spectrum: line 2: MODE 7 is not supported") != std::string::npos);
}
