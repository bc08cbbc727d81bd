// Phase-space source: IAEA file -> collimators -> delivery -> patient.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "beams/delivery_build.hh"
#include "beams/iaea_phsp.hh"
#include "beams/machine.hh"
#include "beams/phsp_source.hh"
#include "beams/plan_builder.hh"

using namespace sabre::beams;

TEST_CASE("phase-space particles pass the open field, the jaws attenuate the rest", "[phsp]") {
  const std::string base = (std::filesystem::temp_directory_path() / "sabre_phsp_src").string();
  {
    IaeaHeader h;
    h.stored = {true, true, false, true, true, false, true};
    h.constant[kVarZ] = 26.7;  // plane above the jaws [cm from the target]
    IaeaWriter w(base, h);
    // Two photons from the target's direction: one toward (0, 0) at iso, one toward
    // (-8, 0) cm at iso (under jaw X1 of a 10 x 10 field); plus a neutron (skipped).
    for (double x_iso : {0.0, -8.0}) {
      PhspRecord r;
      r.energy_mev = 2.0;
      r.x_cm = x_iso * 0.267;
      r.y_cm = 0;
      const double n = std::sqrt(x_iso * x_iso + 100.0 * 100.0);
      r.u = x_iso / n; r.v = 0; r.w = 100.0 / n;
      w.write(r);
    }
    PhspRecord nr;
    nr.type = IaeaParticle::neutron;
    nr.energy_mev = 1;
    w.write(nr);
    w.finish(3);
  }
  std::int64_t skipped = 0;
  const auto parts = load_phsp_particles(base, true, &skipped);
  std::remove((base + ".IAEAheader").c_str());
  std::remove((base + ".IAEAphsp").c_str());
  REQUIRE(parts.size() == 2);
  CHECK(skipped == 1);
  CHECK(parts[0].z_cm == Approx(26.7));

  const Machine m = load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml");
  FieldSpec f = field_for(m, m.beams.at(0));  // 10 x 10, gantry 0, HFS, iso (0, 0, 0)
  f.iso_mm = {0, 0, 0};
  Plan plan;
  plan.beams.push_back(make_static_beam(f, 1, "s"));
  Delivery d(m, plan);
  PhspSourceView v;
  v.n = std::int64_t(parts.size());
  v.particles = parts.data();
  v.delivery = d.view();
  v.collimator = make_collimator_stack(m, d.boundaries_cm());
  v.roulette_threshold = 0;  // keep every photon, weight = transmission
  int seen[2] = {0, 0};
  for (int i = 0; i < 200; ++i) {
    sabre::phys::Rng rng(1, i, 0);
    const auto p = v.sample(rng);
    // Gantry 0 HFS: the beam travels toward +y (posterior); x is the patient's left.
    CHECK(p.dir.y > 0.99);
    const bool central = std::abs(p.dir.x) < 1e-6;
    ++seen[central ? 0 : 1];
    if (central) {
      CHECK(p.weight == Approx(1.0));  // open field: no tungsten
      CHECK(p.pos_cm.x == Approx(0).margin(1e-6));
      CHECK(p.pos_cm.y == Approx(-(100 - 26.7)).margin(1e-4));  // 73.3 cm above iso, anterior
    } else {
      // Through jaw X1 (7.8 cm) and closed MLC leaves? The static field's leaves open at
      // +-5 cm, so bank A (tip at -5) covers x_iso = -8 over the full height too.
      const double sec = std::sqrt(1 + 0.08 * 0.08);
      const double t = std::exp(-tungsten_mu_rho_cm2_g(2.0) * 18 * (7.8 + 6.9) * sec);
      CHECK(p.weight == Approx(t).epsilon(1e-6));
    }
  }
  CHECK(seen[0] > 70);
  CHECK(seen[1] > 70);
}
