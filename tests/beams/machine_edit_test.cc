// Editing a machine file's fitted values in place (beams/machine_edit.hh): the edited file
// loads, carries the new values with their new tags, and nothing else in it changes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "beams/machine.hh"
#include "beams/machine_edit.hh"
#include "core/errors.hh"

using namespace sabre;

namespace {

std::string read(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string bundled() { return std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml"; }

int count_lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("machine edit: tagged values, arrays and collimator values are replaced in place", "[machine_edit]") {
  const std::string text = read(bundled());
  beams::MachineText t(text, bundled());
  t.set_beam_tagged("6X-FFF", "primary", "sigma_x_cm", 0.0612, "measured", "fit to \"set A\"");
  t.set_beam_tagged("6X-FFF", "extrafocal", "weight", 0.071, "measured", "fit to set A");
  const beams::Machine before = beams::load_machine(bundled());
  std::vector<double> w = before.beam_named("6X-FFF")->spectrum_weights;
  w[0] *= 2;
  t.set_beam_array("6X-FFF", "spectrum", "weights", w, "measured", "fit to set A");
  t.set_collimator_tagged("MLCX", "interleaf_gap_cm", 0.0123, "measured", "DLG and transmission of set A");
  // Only the edited lines differ; the line count is unchanged.
  CHECK(count_lines(t.text()) == count_lines(text));
  const auto p = (std::filesystem::temp_directory_path() / "sabre_machine_edit_test.toml").string();
  {
    std::ofstream f(p);
    f << t.text();
  }
  const beams::Machine m = beams::load_machine(p);
  std::filesystem::remove(p);
  const auto* b = m.beam_named("6X-FFF");
  REQUIRE(b);
  CHECK(b->primary.sigma_x_cm == 0.0612);
  CHECK(b->primary.sigma_y_cm == before.beam_named("6X-FFF")->primary.sigma_y_cm);  // not touched
  CHECK(b->extrafocal.weight == 0.071);
  REQUIRE(b->spectrum_weights.size() == w.size());
  // The weights are normalised on load: compare the ratios (written with 5 significant digits).
  CHECK(b->spectrum_weights[0] / b->spectrum_weights[1] == Approx(w[0] / w[1]).epsilon(1e-4));
  CHECK(m.mlc()->interleaf_gap_cm == 0.0123);
  const auto& tag = m.tags.at("beam.6X-FFF.primary.sigma_x_cm");
  CHECK(tag.basis == beams::Basis::measured);
  CHECK(tag.source == "fit to \"set A\"");
  // The other beam is as it was.
  CHECK(m.beam_named("10X-FFF")->primary.sigma_x_cm == before.beam_named("10X-FFF")->primary.sigma_x_cm);
}

TEST_CASE("machine edit: a value that moves with a fitted one keeps its tag", "[machine_edit]") {
  const std::string text = read(bundled());
  const beams::Machine before = beams::load_machine(bundled());
  const auto tag0 = before.tags.at("beam.6X-FFF.extrafocal.weight");
  beams::MachineText t(text, bundled());
  t.set_beam_value("6X-FFF", "extrafocal", "weight", 0.0456);
  CHECK(count_lines(t.text()) == count_lines(text));
  const auto p = (std::filesystem::temp_directory_path() / "sabre_machine_edit_value_test.toml").string();
  {
    std::ofstream f(p);
    f << t.text();
  }
  const beams::Machine m = beams::load_machine(p);
  std::filesystem::remove(p);
  CHECK(m.beam_named("6X-FFF")->extrafocal.weight == 0.0456);
  const auto& tag = m.tags.at("beam.6X-FFF.extrafocal.weight");
  CHECK(tag.basis == tag0.basis);
  CHECK(tag.source == tag0.source);
  // The spectrum block has no tagged number called weights: refused, naming the key.
  CHECK_THROWS_WITH(t.set_beam_value("6X-FFF", "spectrum", "weights", 1.0), Catch::Contains("weights"));
}

TEST_CASE("machine edit: an address that is not in the file is an error naming it", "[machine_edit]") {
  beams::MachineText t(read(bundled()), bundled());
  CHECK_THROWS_AS(t.set_beam_tagged("6X", "primary", "sigma_x_cm", 0.05, "measured", "x"), InputError);
  CHECK_THROWS_AS(t.set_beam_tagged("6X-FFF", "primary", "no_such_key", 0.05, "measured", "x"), InputError);
  CHECK_THROWS_AS(t.set_collimator_tagged("CONE", "leaf_offset_cm", 0, "measured", "x"), InputError);
  CHECK(beams::toml_string("a\"b\\c") == "\"a\\\"b\\\\c\"");
}
