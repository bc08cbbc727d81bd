// Commissioning's source parts (engine/commission/parts.hh): a fluence knot's part draws its
// aims on the hat's support only, and that leaves its expected weight (and so its dose)
// unchanged: checked for every knot of the bundled 6X-FFF table, the last (whose hat stays 1
// out to every window) included.
#include <catch2/catch.hpp>

#include <cmath>
#include <variant>

#include "beams/plan_builder.hh"
#include "engine/commission/parts.hh"
#include "physics/core/rng.hh"
#include "tests/support/sample_mean.hh"

using namespace sabre;
using namespace sabre::commission;

namespace {
std::pair<double, double> mean_weight(const beams::LinacSourceView& v, std::uint64_t seed, int n) {
  phys::Rng rng(seed, 0, phys::kStreamTest);
  return sabre::testing::sample_mean([&] { return v.sample(rng).weight; }, n);
}
}  // namespace

TEST_CASE("fluence knot parts: ring-restricted aims, same expected weight", "[commission]") {
  const auto m = beams::load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml");
  const beams::BeamModel& b = *m.find_beam(6, true);
  // The largest field: the last knot's ring must reach every aim of the window.
  const beams::Plan plan = beams::reference_field_plan(m, b, m.max_field_cm, m.max_field_cm, {0, 0, 0}, 100);
  const int nk = int(b.fluence_r_cm.size());
  for (int k = 0; k < nk; ++k) {
    INFO("knot " << k << " at r = " << b.fluence_r_cm[std::size_t(k)] << " cm");
    const PartSource part(m, b, plan, PartSpec{Part::primary, 0, 0, {}, k});
    const auto ring = std::get<beams::LinacSourceView>(part.view());
    REQUIRE(ring.vsm.ring_hi_cm > ring.vsm.ring_lo_cm);
    CHECK(ring.vsm.ring_lo_cm == (k > 0 ? b.fluence_r_cm[std::size_t(k - 1)] : 0.0));
    auto whole = ring;
    whole.vsm.ring_lo_cm = whole.vsm.ring_hi_cm = 0;  // aims over the whole window,
    whole.vsm.margin_density = 1;  // uniformly: what the ring restriction replaces (it ignores the window's pdf)
    const auto [mr, sr] = mean_weight(ring, 100 + std::uint64_t(k), 200000);
    const auto [mw, sw] = mean_weight(whole, 200 + std::uint64_t(k), 200000);
    // 4 sigma of the difference (fixed seeds); the ring's estimate is the tighter.
    CHECK(std::abs(mr - mw) < 4 * std::hypot(sr, sw));
    CHECK(sr < sw);
  }
}
