// sabre phantom: output layout, reproducible files, one-line errors and no partial output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/errors.hh"
#include "engine/io/ct_series.hh"
#include "tests/support/skip.hh"

using sabre::test::run;
using sabre::test::sabre_exe;
namespace fs = std::filesystem;

namespace {
int code(sabre::ExitCode c) { return static_cast<int>(c); }
long lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }
fs::path scratch(const std::string& name) {
  // A fresh parent directory per test, so that leftovers beside the output can be seen.
  const auto parent = fs::path(SABRE_BINARY_DIR) / "test-scratch" / "cli-phantom" / name;
  fs::remove_all(parent);
  fs::create_directories(parent);
  return parent / "out";
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
long entries(const fs::path& dir) {
  return std::distance(fs::directory_iterator(dir), fs::directory_iterator());
}
}  // namespace

TEST_CASE("sabre phantom thorax writes a CT series and a structure set", "[cli][phantom]") {
  const auto out = scratch("thorax");
  const auto r = run(sabre_exe() + " --log-level warn phantom thorax --slice 3 -o " + out.string());
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out == out.string() + "\n");
  CHECK(fs::exists(out / "RS.dcm"));
  CHECK(fs::exists(out / "CT_0001.dcm"));
  CHECK(fs::exists(out / "CT_0040.dcm"));  // 120 mm / 3 mm
  CHECK(!fs::exists(out / "CT_0041.dcm"));
  CHECK(entries(out) == 41);
  CHECK(entries(out.parent_path()) == 1);  // no temporary directory left
}

TEST_CASE("sabre phantom is reproducible and refuses to overwrite without --force", "[cli][phantom]") {
  const auto a = scratch("slabs_a");
  const std::string args = " --log-level warn phantom slabs --slabs water:20,lung:30,HU500:10 --position FFS -o ";
  REQUIRE(run(sabre_exe() + args + a.string()).status == 0);
  const auto first = slurp(a / "CT_0003.dcm");
  const auto rs = slurp(a / "RS.dcm");
  // Again into the same directory: refused, contents untouched.
  const auto again = run(sabre_exe() + args + a.string());
  CHECK(again.status == code(sabre::ExitCode::usage));
  CHECK(lines(again.err) == 1);
  CHECK(again.err.find("exists and is not an empty directory") != std::string::npos);
  CHECK(slurp(a / "CT_0003.dcm") == first);
  // With --force: replaced by identical files (UIDs derive from the options).
  REQUIRE(run(sabre_exe() + args + a.string() + " --force").status == 0);
  CHECK(slurp(a / "CT_0003.dcm") == first);
  CHECK(slurp(a / "RS.dcm") == rs);
  // --random-uids gives other UIDs, so other bytes.
  const auto b = scratch("slabs_b");
  REQUIRE(run(sabre_exe() + args + b.string() + " --random-uids").status == 0);
  CHECK(slurp(b / "CT_0003.dcm") != first);
}

TEST_CASE("sabre phantom errors: one line, the right code, nothing written", "[cli][phantom]") {
  const auto out = scratch("bad");
  auto r = run(sabre_exe() + " phantom slabs --slabs water:20,plutonium:5 -o " + out.string());
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("unknown material 'plutonium'") != std::string::npos);
  CHECK(!fs::exists(out));

  r = run(sabre_exe() + " phantom slabs -o " + out.string());
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(r.err.find("--slabs") != std::string::npos);
  CHECK(!fs::exists(out));

  r = run(sabre_exe() + " phantom cube -o " + out.string());
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(!fs::exists(out));

  r = run(sabre_exe() + " phantom water --spacing 0 -o " + out.string());
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(!fs::exists(out));

  r = run(sabre_exe() + " phantom water -o " + (out / "no" / "such").string());
  CHECK(r.status == code(sabre::ExitCode::runtime));
  CHECK(lines(r.err) == 1);
  CHECK(!fs::exists(out));
  CHECK(entries(out.parent_path()) == 0);  // no temporary left
}

TEST_CASE("sabre phantom cylinder: water inside the circle, air outside it", "[cli][phantom]") {
  const auto out = scratch("cylinder");
  const auto r = run(sabre_exe() + " --log-level warn phantom cylinder --size 100 0 50 --slice 5 --spacing 5 -o " +
                     out.string());
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(entries(out) == 11);  // 50 mm / 5 mm slices + RS.dcm
  const auto ct = sabre::io::read_ct_series(out.string());
  const auto& g = ct.grid;
  CHECK(g.nx == 24);  // (100 + 2 x 10 margin) / 5
  CHECK(g.ny == 24);  // y defaults to the diameter
  auto hu_at = [&](double x_mm, double y_mm) {
    const int i = int(std::floor((x_mm / 10 - g.origin_cm.x) / g.spacing_cm.x));
    const int j = int(std::floor((y_mm / 10 - g.origin_cm.y) / g.spacing_cm.y));
    return ct.hu[std::size_t(i + g.nx * (j + g.ny * 2))];
  };
  CHECK(hu_at(0, 0) == Approx(0).margin(1));        // centre: water
  CHECK(hu_at(45, 0) == Approx(0).margin(1));       // inside the 50 mm radius
  CHECK(hu_at(0, -45) == Approx(0).margin(1));
  CHECK(hu_at(40, 40) == Approx(-1000).margin(1));  // 56.6 mm from the axis: air
  CHECK(hu_at(-40, -40) == Approx(-1000).margin(1));
}
