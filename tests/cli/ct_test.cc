// sabre ct: a generated series read back through the command line, and acceptance 4 at the
// command level: each bad input gives one error line naming the file and the problem,
// exit code 3, and no output file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.hh"
#include "tests/support/skip.hh"

using sabre::test::run;
using sabre::test::sabre_exe;
namespace fs = std::filesystem;

namespace {
long lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

// A fresh generated HFS thorax series in <scratch>/<name>/ct; returns <scratch>/<name>.
fs::path make_series(const std::string& name, const std::string& extra = "") {
  const auto base = fs::path(SABRE_BINARY_DIR) / "test-scratch" / "cli-ct" / name;
  fs::remove_all(base);
  fs::create_directories(base);
  const auto r = run(sabre_exe() + " --log-level warn phantom thorax --size 160 100 30 --slice 3 -o " +
                     (base / "ct").string() + " " + extra);
  REQUIRE(r.status == 0);
  return base;
}

// Runs `sabre ct` with an output file; checks the one-line input error and that no output
// (nor a temporary) was left. Returns the error line.
std::string bad_run(const fs::path& base) {
  const auto out = base / "phantom.h5";
  const auto r = run(sabre_exe() + " --log-level warn ct " + (base / "ct").string() + " -o " + out.string());
  CHECK(r.status == static_cast<int>(sabre::ExitCode::input));
  CHECK(lines(r.err) == 1);
  CHECK(r.out.empty());
  CHECK(!fs::exists(out));
  for (const auto& e : fs::directory_iterator(base)) CHECK(e.path().filename() == "ct");
  return r.err;
}

void edit_tag(const fs::path& file, const std::string& tag_value) {
  REQUIRE(run("dcmodify -nb -m \"" + tag_value + "\" " + file.string()).status == 0);
}
}  // namespace

TEST_CASE("sabre ct reads a generated series and writes the phantom", "[cli][ct]") {
  const auto base = make_series("good", "--position FFP");
  const auto out = base / "phantom.h5";
  const auto r = run(sabre_exe() + " --log-level warn ct " + (base / "ct").string() + " --structures " +
                     (base / "ct" / "RS.dcm").string() +
                     " --air-outside-body --override LUNG_L=density:0.5 --json -o " + out.string());
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["slices"] == 10);
  CHECK(j["patient_position"] == "FFP");
  CHECK(j["orientation_signs"] == nlohmann::json({1, -1, -1}));
  CHECK(j["hu_min"] == -1000);
  CHECK(j["rois"].size() == 6);
  CHECK(fs::exists(out));
}

TEST_CASE("sabre ct bad inputs: one line, exit 3, no output", "[cli][ct][bad]") {
  if (run("command -v dcmodify").status != 0) {
    sabre::test::skip("dcmodify (Debian package dcmtk) is not installed");
    return;
  }
  SECTION("truncated slice") {
    const auto base = make_series("truncated");
    const auto f = base / "ct" / "CT_0004.dcm";
    fs::resize_file(f, fs::file_size(f) - 1000);
    const auto err = bad_run(base);
    CHECK(err.find("sabre: error: " + f.string() + ": truncated") == 0);
  }
  SECTION("missing slice") {
    const auto base = make_series("missing");
    fs::remove(base / "ct" / "CT_0005.dcm");
    CHECK(bad_run(base).find(": missing slice(s) between ") != std::string::npos);
  }
  SECTION("two series mixed") {
    const auto base = make_series("mixed");
    const auto other = make_series("mixed_other", "--random-uids");
    fs::copy_file(other / "ct" / "CT_0002.dcm", base / "ct" / "CT_0002b.dcm");
    const auto err = bad_run(base);
    CHECK(err.find(": two CT series mixed: ") != std::string::npos);
    CHECK(err.find("CT_0002b.dcm") != std::string::npos);
  }
  SECTION("non-CT modality") {
    const auto base = make_series("modality");
    edit_tag(base / "ct" / "CT_0007.dcm", "(0008,0060)=PT");
    CHECK(bad_run(base).find("CT_0007.dcm: modality is 'PT', not CT") != std::string::npos);
  }
  SECTION("inconsistent spacing") {
    const auto base = make_series("spacing");
    // Slice 6 of 10 moved by 1.5 mm along z: gaps 4.5 and 1.5 mm among 3 mm ones.
    edit_tag(base / "ct" / "CT_0006.dcm", "(0020,0032)=-88.75\\-58.75\\3");
    CHECK(bad_run(base).find(": inconsistent slice spacing between ") != std::string::npos);
  }
  SECTION("gantry tilt") {
    const auto base = make_series("tilt");
    edit_tag(base / "ct" / "CT_0001.dcm", "(0018,1120)=12.5");
    CHECK(bad_run(base).find("CT_0001.dcm: gantry tilt of 12.500 degrees") != std::string::npos);
  }
}
