// Delivery sampling: meterset shares, gantry unwrapping, interpolation (hand-worked).
#include <catch2/catch.hpp>

#include <cmath>

#include "beams/delivery_build.hh"
#include "beams/plan_builder.hh"
#include "physics/core/rng.hh"

using namespace sabre::beams;

TEST_CASE("gantry angles unwrap along the rotation direction", "[delivery]") {
  CHECK(unwrap_gantry({181, 270, 0, 90, 179}, {"CW", "CW", "CW", "CW", "NONE"}) ==
        std::vector<double>{181, 270, 360, 450, 539});
  CHECK(unwrap_gantry({10, 350}, {"CC", "NONE"}) == std::vector<double>{10, -10});
  CHECK(unwrap_gantry({10, 350}, {"CW", "NONE"}) == std::vector<double>{10, 350});
  CHECK(unwrap_gantry({10, 350}, {"NONE", "NONE"}) == std::vector<double>{10, -10});  // shorter way
}

TEST_CASE("interpolation between control points at a sampled meterset", "[delivery]") {
  // Hand-worked arc: CW 350 -> 10 over one segment; jaws from (-5, 5) to (-3, 7) cm.
  FieldSpec f;
  Plan plan;
  Beam b = make_arc_beam(f, 350, 10, "CW", 2, 0, 1, "arc");
  b.control_points[1].jaw_x_mm = {-30, 70};
  plan.beams.push_back(b);
  Delivery d(plan);
  const DeliveryState s = delivery_state(d.view(), 0.25);
  CHECK(s.angles.gantry_deg == Approx(355.0));
  CHECK(s.aperture.jaw_x1_cm == Approx(-4.5));
  CHECK(s.aperture.jaw_x2_cm == Approx(5.5));
  CHECK(delivery_state(d.view(), 0.75).angles.gantry_deg == Approx(365.0));  // = 5 deg
  CHECK(s.frac == Approx(0.25));
}

TEST_CASE("the meterset is sampled continuously: segment shares follow the weights", "[delivery]") {
  // Step-and-shoot, 3 equal segments (control points 0,1 | 2,3 | 4,5; zero-width jumps
  // between 1-2 and 3-4 are never chosen), plus a second beam with 3x the MU.
  FieldSpec f;
  f.mu = 100;
  Plan plan;
  plan.beams.push_back(make_step_and_shoot_beam(f, 3, 1, "sas"));
  f.mu = 300;
  f.iso_mm = {50, 0, 0};
  plan.beams.push_back(make_static_beam(f, 2, "static"));
  Delivery d(plan);
  CHECK(d.total_mu() == Approx(400));
  sabre::phys::Rng rng(3, 0, sabre::phys::kStreamTest);
  const int n = 200000;
  int beam2 = 0, seg[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < n; ++i) {
    const auto s = delivery_state(d.view(), rng.uniform());
    if (s.beam == 1) {
      ++beam2;
      CHECK(s.iso_cm.x == Approx(5.0));
    } else {
      ++seg[s.segment];
    }
  }
  // Binomial 1 sigma: sqrt(p(1-p)/n) ~ 0.001; tolerance 5 sigma.
  CHECK(double(beam2) / n == Approx(0.75).margin(0.005));
  CHECK(seg[1] == 0);
  CHECK(seg[3] == 0);
  for (int k : {0, 2, 4}) CHECK(double(seg[k]) / n == Approx(0.25 / 3).margin(0.004));
}
