#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "beams/machine.hh"
#include "core/errors.hh"

using namespace sabre;
using namespace sabre::beams;

namespace {

std::string machines_dir() { return std::string(SABRE_SOURCE_DIR) + "/beams/machines"; }

std::string read_all(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Writes `text` to a temporary .toml and returns the InputError message it raises.
std::string error_of(const std::string& text) {
  const auto p = (std::filesystem::temp_directory_path() / "sabre_machine_test_bad.toml").string();
  { std::ofstream(p) << text; }
  try {
    load_machine(p);
  } catch (const InputError& e) {
    std::remove(p.c_str());
    REQUIRE(std::string(e.what()).rfind(p, 0) == 0);  // message starts with the file
    return e.what();
  }
  std::remove(p.c_str());
  FAIL("no InputError for the malformed machine file");
  return "";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("bundled machine files load with the documented values", "[machine]") {
  const auto files = machine_files(machines_dir());
  REQUIRE(files.size() >= 2);
  const Machine hd = load_machine(machines_dir() + "/truebeam-hd120.toml");
  CHECK(hd.name == "TrueBeam-HD120");
  CHECK(hd.sad_cm == 100.0);
  CHECK(hd.kind == DeliveryKind::c_arm);
  CHECK(hd.max_field_cm == 40.0);
  // From the source down: Y jaws (upper on a TrueBeam), X jaws, the MLC.
  REQUIRE(hd.collimators.size() == 3);
  CHECK(hd.collimators[0].kind == CollimatorKind::jaws);
  CHECK(hd.collimators[0].axis == 1);
  CHECK(hd.serving("ASYMY") == &hd.collimators[0]);
  CHECK(hd.serving("Y") == &hd.collimators[0]);
  CHECK(hd.serving("ASYMX") == &hd.collimators[1]);
  CHECK(hd.serving("MLCY") == nullptr);
  const CollimatorSpec* mlc = hd.mlc();
  REQUIRE(mlc);
  CHECK(mlc->model == "HD120");
  CHECK(mlc->pairs() == 60);
  CHECK(mlc->leaf_end_radius_cm == Approx(16.0));
  CHECK(mlc->leaf_side_tilt_rad == 0);
  CHECK(hd.tags.at("machine.sad_cm").basis == Basis::published);
  CHECK(hd.tags.at("collimator.MLCX.leaf_offset_cm").basis == Basis::assumption);
  CHECK(hd.tags.at("collimator.ASYMY.top_cm").basis == Basis::assumption);
  // commissioned to the published 1.17 % transmission (validation/commissioning-truebeam)
  CHECK(mlc->interleaf_gap_cm == Approx(0.024738));
  CHECK(hd.tags.at("collimator.MLCX.interleaf_gap_cm").basis == Basis::published);
  REQUIRE(hd.beams.size() == 2);
  const BeamModel* b6 = hd.find_beam(6.0, true);
  REQUIRE(b6);
  CHECK(b6->name == "6X-FFF");
  CHECK(hd.find_beam(6.0, false) == nullptr);  // no flattened 6X in this model
  REQUIRE(hd.find_beam(10.0, true));
  double s = 0;
  for (double w : b6->spectrum_weights) s += w;
  CHECK(s == Approx(1.0).epsilon(1e-12));  // normalised on load
  // The spectra are commissioned to published PDD(10) and d_max (docs/commissioning.md); the
  // off-axis fluence is still an assumption a user must commission.
  CHECK(hd.tags.at("beam.6X-FFF.spectrum.data").basis == Basis::published);
  CHECK(hd.tags.at("beam.6X-FFF.off_axis.fluence").basis == Basis::assumption);

  const Machine mil = load_machine(machines_dir() + "/truebeam-millennium120.toml");
  CHECK(mil.mlc()->model == "Millennium120");
  CHECK(mil.mlc()->leaf_end_radius_cm == Approx(8.0));
}

TEST_CASE("leaf boundaries come from the machine files' published leaf widths", "[machine]") {
  // docs/machines.md: HD120 14 x 5, 32 x 2.5, 14 x 5 mm (220 mm); Millennium 120 10 x 10,
  // 40 x 5, 10 x 10 mm (400 mm), centred on the axis.
  const auto hd = load_machine(machines_dir() + "/truebeam-hd120.toml").mlc()->boundaries_cm;
  REQUIRE(hd.size() == 61);
  CHECK(hd.front() == Approx(-11.0));
  CHECK(hd.back() == Approx(11.0));
  CHECK(hd[15] - hd[14] == Approx(0.25));
  CHECK(hd[14] - hd[13] == Approx(0.5));
  CHECK(hd[30] == Approx(0.0).margin(1e-12));
  const auto mil = load_machine(machines_dir() + "/truebeam-millennium120.toml").mlc()->boundaries_cm;
  REQUIRE(mil.size() == 61);
  CHECK(mil.front() == Approx(-20.0));
  CHECK(mil[1] - mil[0] == Approx(1.0));
  CHECK(mil[11] - mil[10] == Approx(0.5));
  CHECK(mil.back() == Approx(20.0));
}

TEST_CASE("every number in the bundled machine files carries a basis", "[machine]") {
  // Count tagged scalar values in the text ("value =") against the parser's tags; tables
  // (spectrum, fluence) carry a block basis.
  for (const auto& f : machine_files(machines_dir())) {
    const Machine m = load_machine(f);
    const std::string text = read_all(f);
    std::size_t n_values = 0;
    for (std::size_t p = text.find("value = "); p != std::string::npos; p = text.find("value = ", p + 1))
      ++n_values;
    const std::size_t n_blocks = 2 * m.beams.size();  // spectrum.data, off_axis.fluence
    INFO(f);
    CHECK(m.tags.size() == n_values + n_blocks);
  }
}

TEST_CASE("machine name patterns", "[machine]") {
  CHECK(glob_match("TrueBeam*", "truebeam1"));
  CHECK(glob_match("TB*", "TB3421"));
  CHECK(glob_match("*edge*", "Our EDGE 2"));
  CHECK(glob_match("a?c", "abc"));
  CHECK_FALSE(glob_match("TrueBeam*", "unit001"));
  CHECK_FALSE(glob_match("a?c", "ac"));
}

TEST_CASE("monitor backscatter grows as the jaws close", "[machine]") {
  const Machine m = load_machine(machines_dir() + "/truebeam-hd120.toml");
  const BeamModel& b = *m.find_beam(6, true);
  // S(X, Y) = 1 + kx (1 - X/40) + ky (1 - Y/40), hand-evaluated with kx = 0.002, ky = 0.006.
  CHECK(b.monitor_signal(40, 40) == Approx(1.0));
  CHECK(b.monitor_signal(10, 10) == Approx(1 + 0.002 * 0.75 + 0.006 * 0.75));
  CHECK(b.monitor_signal(2, 2) > b.monitor_signal(10, 10));
}

TEST_CASE("malformed machine files fail clearly", "[machine]") {
  const std::string good = read_all(machines_dir() + "/truebeam-hd120.toml");
  CHECK_THAT(error_of("format = \"sabre-machine/2\"\n[machine\n"),
             Catch::Contains("TOML syntax error"));
  CHECK_THAT(error_of(replace(good, "format = \"sabre-machine/2\"", "format = \"other/9\"")),
             Catch::Contains("unsupported format"));
  CHECK_THAT(error_of(replace(good, "format = \"sabre-machine/2\"", "format = \"sabre-machine/1\"")),
             Catch::Contains("no longer read") && Catch::Contains("[[collimator]]"));
  CHECK_THAT(error_of(replace(good, "kind = \"c-arm\"", "kind = \"gantry\"")),
             Catch::Contains("machine.kind") && Catch::Contains("unknown delivery kind"));
  CHECK_THAT(error_of(replace(good, "dicom_types = [\"ASYMX\", \"X\"]", "dicom_types = [\"ASYMY\"]")),
             Catch::Contains("not a device type of jaws moving along x"));
  CHECK_THAT(error_of(replace(good, "dicom_types = [\"MLCX\"]", "dicom_types = [\"ASYMX\"]")),
             Catch::Contains("MLCX for x"));
  CHECK_THAT(error_of(replace(good, "[[14, 0.5], [32, 0.25], [14, 0.5]]", "[[14, 0.5], [32]]")),
             Catch::Contains("collimator.MLCX.leaf_widths_cm") && Catch::Contains("[count, width]"));
  CHECK_THAT(error_of(replace(good, "top_cm = { value = 36.7,", "top_cm = { value = 30.0,")),
             Catch::Contains("starts above the bottom of 'ASYMY'"));
  CHECK_THAT(error_of(replace(good, "sad_cm = { value = 100.0, basis = \"published\",",
                              "sad_cm = { value = 100.0,")),
             Catch::Contains("machine.sad_cm") && Catch::Contains("missing basis"));
  CHECK_THAT(error_of(replace(good, "basis = \"published\", source = \"docs/machines.md: TrueBeam SAD 100 cm (firm)\"",
                              "basis = \"published\"")),
             Catch::Contains("needs a source"));
  CHECK_THAT(error_of(replace(good, "weights = [0.00083517, 0.205,", "weights = [0.205,")),
             Catch::Contains("beam.6X-FFF.spectrum") && Catch::Contains("equal length"));
  CHECK_THAT(error_of(replace(good, "model = \"HD120\"\n", "model = \"HD120\"\nleaf_widht = 3\n")),
             Catch::Contains("unknown key 'collimator.MLCX.leaf_widht'"));
  CHECK_THAT(error_of(replace(good, "basis = \"assumption\", source = \"tungsten alloy (~17-18.5 g/cm3)\"",
                              "basis = \"guess\", source = \"x\"")),
             Catch::Contains("basis must be measured, published or assumption"));
  CHECK_THAT(error_of(replace(good, "leaf_end_radius_cm = { value = 16.0", "leaf_end_radius_cm = { value = 1.0")),
             Catch::Contains("leaf_end_radius_cm"));
  // TOML's nan and inf are numbers to the parser, never values of a machine.
  CHECK_THAT(error_of(replace(good, "sad_cm = { value = 100.0,", "sad_cm = { value = nan,")),
             Catch::Contains("machine.sad_cm") && Catch::Contains("finite"));
  CHECK_THAT(error_of(replace(good, "weights = [0.00083517, 0.205,", "weights = [0.00083517, inf,")),
             Catch::Contains("weights") && Catch::Contains("finite"));
  CHECK_THAT(error_of(replace(good, "[[14, 0.5], [32, 0.25], [14, 0.5]]", "[[14, 0.5], [32, inf], [14, 0.5]]")),
             Catch::Contains("collimator.MLCX.leaf_widths_cm"));
  // A flag is true or false, not a number (toml++ would read 1 as true).
  CHECK_THAT(error_of(replace(good, "fff = true", "fff = 1")), Catch::Contains("fff") && Catch::Contains("true or false"));
}

TEST_CASE("the Agility head: an MLCX above Y diaphragms, no X jaws, tilted leaf sides", "[machine][agility]") {
  const Machine m = load_machine(machines_dir() + "/versa-hd-agility.toml");
  CHECK(m.name == "VersaHD-Agility");
  CHECK(m.kind == DeliveryKind::c_arm);
  REQUIRE(m.collimators.size() == 2);
  const CollimatorSpec& mlc = m.collimators[0];  // the upper device on Agility
  CHECK(mlc.kind == CollimatorKind::mlc);
  CHECK(mlc.axis == 0);
  CHECK(mlc.serves("MLCX"));
  CHECK(mlc.pairs() == 80);
  CHECK(mlc.boundaries_cm.front() == Approx(-20.0));
  CHECK(mlc.boundaries_cm.back() == Approx(20.0));
  CHECK(mlc.thickness_cm == Approx(9.0));
  CHECK(mlc.tongue_groove_cm == 0);
  CHECK(mlc.leaf_side_tilt_rad == Approx(0.009));
  CHECK(m.collimators[1].kind == CollimatorKind::jaws);
  CHECK(m.collimators[1].axis == 1);
  CHECK(m.serving("ASYMY") == &m.collimators[1]);
  CHECK(m.serving("ASYMX") == nullptr);  // no X jaws ...
  CHECK(m.ignores("ASYMX"));             // ... but plans that carry them are read
  CHECK(m.ignores("X"));
  CHECK(m.tags.at("machine.ignored_dicom_types").basis == Basis::published);
  CHECK(m.tags.at("collimator.MLCX.leaf_side_tilt_mrad").basis == Basis::published);
  // The interleaf gap is a commissioned, effective value (see its source).
  CHECK(m.tags.at("collimator.MLCX.interleaf_gap_cm").basis == Basis::assumption);
  REQUIRE(m.find_beam(6, true));
  REQUIRE(m.find_beam(10, true));
  CHECK(m.find_beam(6, true)->calibration.backscatter_kx == 0);
}

namespace {
// The HD120 file with a cone collimator below the MLC (a test machine: the geometry is made
// up for the test, not a real SRS cone set).
const char* kConeBlock = R"([[collimator]]
kind = "cone"
applicator_types = ["STEREOTACTIC", "PHOTON_CIRC"]
diameters_cm = { value = [0.5, 1.0, 1.5], basis = "assumption", source = "test" }
top_cm = { value = 60.0, basis = "assumption", source = "test" }
thickness_cm = { value = 8.0, basis = "assumption", source = "test" }
density_g_cm3 = { value = 18.0, basis = "assumption", source = "test" }

[[beam]]
)";
std::string with_cone() {
  return replace(read_all(machines_dir() + "/truebeam-hd120.toml"), "[[beam]]\n", kConeBlock);
}
}  // namespace

TEST_CASE("a cone collimator: read with its diameters and applicator types; errors", "[machine][cone]") {
  const auto p = (std::filesystem::temp_directory_path() / "sabre_machine_test_cone.toml").string();
  { std::ofstream(p) << with_cone(); }
  const Machine m = load_machine(p);
  std::remove(p.c_str());
  REQUIRE(m.collimators.size() == 4);
  const CollimatorSpec* c = m.cone();
  REQUIRE(c == &m.collimators[3]);
  CHECK(c->name() == "CONE");
  CHECK(c->serves_applicator("STEREOTACTIC"));
  CHECK_FALSE(c->serves_applicator("ELECTRON_SQUARE"));
  CHECK(c->diameters_cm == std::vector<double>{0.5, 1.0, 1.5});
  CHECK(c->bottom_cm() == Approx(68.0));
  CHECK(m.tags.at("collimator.CONE.diameters_cm").basis == Basis::assumption);
  const std::string good = with_cone();
  CHECK_THAT(error_of(replace(good, "applicator_types = [\"STEREOTACTIC\", \"PHOTON_CIRC\"]", "applicator_types = []")),
             Catch::Contains("applicator_types"));
  CHECK_THAT(error_of(replace(good, "value = [0.5, 1.0, 1.5]", "value = [0.5, -1.0]")),
             Catch::Contains("diameters must be in (0, 20) cm"));
  CHECK_THAT(error_of(replace(good, "top_cm = { value = 60.0,", "top_cm = { value = 50.0,")),
             Catch::Contains("starts above the bottom of 'MLCX'"));
  CHECK_THAT(error_of(replace(good, "kind = \"cone\"", "kind = \"bowl\"")),
             Catch::Contains("must be \"jaws\", \"mlc\", \"cone\" or \"iris\""));
}

TEST_CASE("the CyberKnife: a robotic machine with exchangeable cones, Iris and MLC, no jaws", "[machine][robotic]") {
  const std::string path = machines_dir() + "/cyberknife-m6.toml";
  const Machine m = load_machine(path);
  CHECK(m.kind == DeliveryKind::robotic);
  CHECK(m.sad_cm == 80.0);
  REQUIRE(m.cone());
  REQUIRE(m.iris());
  REQUIRE(m.mlc());
  const std::vector<double> sizes{0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0};
  CHECK(m.cone()->diameters_cm == sizes);
  CHECK(m.iris()->diameters_cm == sizes);
  CHECK(m.iris()->name() == "IRIS");
  CHECK(m.mlc()->pairs() == 41);
  CHECK(m.mlc()->boundaries_cm.front() == Approx(-5.125));
  CHECK(m.mlc()->boundaries_cm.back() == Approx(5.125));
  for (const auto& c : m.collimators) CHECK(c.kind != CollimatorKind::jaws);
  CHECK(m.beams.size() == 1);
  CHECK(m.beams[0].fff);
  CHECK(m.beams[0].calibration.field_cm == 6.0);  // the 60 mm reference cone
  CHECK(m.beams[0].calibration.ssd_cm == 78.5);
  CHECK(m.tags.at("collimator.IRIS.inradius_per_size").basis == Basis::assumption);
  CHECK(m.matches_name("CyberKnife"));
  // Refusals: an Iris on a C-arm, jaws on a robotic machine, an Iris size out of range.
  const std::string text = read_all(path);
  CHECK_THAT(error_of(replace(text, "kind = \"robotic\"", "kind = \"c-arm\"")),
             Catch::Contains("an Iris is a collimator of a robotic machine"));
  CHECK_THAT(error_of(replace(text, "inradius_per_size = { value = 0.5,", "inradius_per_size = { value = 0.3,")),
             Catch::Contains("inradius_per_size' must be in (0.4, 0.5]"));
  const std::string jaws = "[[collimator]]\nkind = \"jaws\"\naxis = \"y\"\ndicom_types = [\"ASYMY\"]\n"
                           "top_cm = { value = 20.0, basis = \"assumption\" }\n"
                           "thickness_cm = { value = 5.0, basis = \"assumption\" }\n"
                           "density_g_cm3 = { value = 18.0, basis = \"assumption\" }\n"
                           "max_open_cm = { value = 5.0, basis = \"assumption\" }\n\n[[beam]]";
  CHECK_THAT(error_of(replace(text, "[[beam]]", jaws)), Catch::Contains("a robotic machine has no jaws"));
  CHECK_THAT(error_of(replace(text, "kind = \"robotic\"", "kind = \"gantry\"")),
             Catch::Contains("this sabre knows \"c-arm\", \"robotic\" and \"helical\""));
}
