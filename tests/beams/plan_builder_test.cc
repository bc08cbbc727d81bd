// Plan builders: the devices and leaf boundaries come from the machine file; hand-worked
// aperture properties.
#include <catch2/catch.hpp>

#include "beams/machine.hh"
#include "beams/plan_builder.hh"
#include "core/errors.hh"

using namespace sabre;
using namespace sabre::beams;

namespace {
Machine machine(const std::string& stem) {
  return load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/" + stem + ".toml");
}
}  // namespace

TEST_CASE("a plan carries the machine's devices with its leaf boundaries", "[plan_builder]") {
  const Machine m = machine("truebeam-hd120");
  const auto d = plan_devices(m);
  REQUIRE(d.size() == 3);
  CHECK(d[0].type == "ASYMY");
  CHECK(d[1].type == "ASYMX");
  CHECK(d[2].type == "MLCX");
  CHECK(d[2].pairs == 60);
  REQUIRE(d[2].boundaries_mm.size() == 61);
  CHECK(d[2].boundaries_mm.front() == -110.0);  // exact: widths 5 and 2.5 mm are binary fractions
  CHECK(d[2].boundaries_mm[15] - d[2].boundaries_mm[14] == 2.5);
  const FieldSpec f = field_for(m, m.beams.at(0));
  CHECK(f.machine_name == "TrueBeam");  // the first match_names pattern without its '*'
  CHECK(f.sad_mm == 1000.0);
  FieldSpec none;
  CHECK_THROWS_AS(make_static_beam(none, 1, "no devices"), UsageError);
}

TEST_CASE("a static field: jaws on the rectangle, the pairs inside it open", "[plan_builder]") {
  const Machine m = machine("truebeam-hd120");
  FieldSpec f = field_for(m, m.beams.at(0));
  f.x1_mm = -20; f.x2_mm = 30; f.y1_mm = -10; f.y2_mm = 10;
  const Beam b = make_static_beam(f, 1, "s");
  const auto& cp = b.control_points.at(0);
  CHECK(*cp.positions("ASYMX") == std::vector<double>{-20, 30});
  CHECK(*cp.positions("ASYMY") == std::vector<double>{-10, 10});
  const auto& leaves = *cp.positions("MLCX");
  // 2.5 mm leaves: pairs 22..37 have centres in (-10, 10) mm (boundaries -55 + 2.5 k).
  for (int i = 0; i < 60; ++i) {
    const double yc = 0.5 * (b.mlc()->boundaries_mm[i] + b.mlc()->boundaries_mm[i + 1]);
    const bool open = yc > -10 && yc < 10;
    INFO("pair " << i);
    CHECK(leaves[i] == (open ? -20 : 5));
    CHECK(leaves[i + 60] == (open ? 30 : 5));
  }
}

TEST_CASE("sliding window gives every point the same open meterset fraction", "[rtplan]") {
  // Hand-worked: B(w) = x1 + w (x2 - x1 + g), A = B - g; a point x is open while
  // A < x < B, i.e. for a meterset fraction g / (x2 - x1 + g) = 10 / 110.
  const Machine m = load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml");
  FieldSpec f = field_for(m, m.beams.at(0));
  f.x1_mm = -50; f.x2_mm = 50; f.y1_mm = -5; f.y2_mm = 5;
  const Beam b = make_sliding_window_beam(f, 10, 111, 1, "sw");
  const int n = b.mlc()->pairs;
  const int pair = n / 2;  // a central pair, open
  for (double x : {-45.0, 0.0, 33.0}) {
    int open = 0;
    for (std::size_t k = 0; k + 1 < b.control_points.size(); ++k) {
      const auto& c = b.control_points[k];
      const auto& leaves = *c.positions("MLCX");
      const double a = leaves[pair], bb = leaves[pair + n];
      if (a < x && x < bb) ++open;
    }
    CHECK(double(open) / 110 == Approx(10.0 / 110).margin(1.0 / 110));
  }
}

