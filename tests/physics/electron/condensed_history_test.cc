// Class II condensed history (physics/electron/condensed_history.hh): energy balance, the
// CSDA path length against ESTAR, the first moment of the direction after many steps.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "physics/electron/condensed_history.hh"
#include "physics/transport/history.hh"
#include "tests/physics/electron/electron_test_support.hh"

using namespace sabre::phys;
namespace et = sabre::test::electron;

namespace {

// A mono-energetic point source along +z (the history loop's Source concept).
struct PointSource {
  ParticleType type;
  double energy_mev;
  Vec3 pos_cm;
  Vec3 dir{0, 0, 1};
  Particle sample(Rng&) const {
    Particle p;
    p.type = type;
    p.energy_mev = energy_mev;
    p.pos_cm = pos_cm;
    p.dir = dir;
    return p;
  }
};

}  // namespace

TEST_CASE("energy balance per history, e- and e+ 0.5-20 MeV, water and water/bone/lung",
          "[electron][ch][balance]") {
  // Acceptance 1 (electron part): for every history, deposited + below-cut + escaped =
  // emitted + rest mass converted, within 1e-6 relative (exact up to rounding). Full
  // physics: photons (bremsstrahlung, annihilation) transported by the photon code.
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables (physics/data/default.h5 or ../shared)"); return; }
  const int water = tab->index("water"), bone = tab->index("bone_cortical"),
            lung = tab->index("lung");
  // 60 layers of 0.25 cm (15 cm): uniform water, or water | bone | lung | water slabs.
  const int nz = 60;
  std::vector<int> mat_w(nz, water), mat_s(nz, water);
  std::vector<double> rho_w(nz, 1.0), rho_s(nz, 1.0);
  for (int k = 12; k < 20; ++k) { mat_s[k] = bone; rho_s[k] = tab->density_g_cm3(bone); }
  for (int k = 20; k < 44; ++k) { mat_s[k] = lung; rho_s[k] = tab->density_g_cm3(lung); }
  const et::LayeredPhantom uniform(std::vector<double>(nz, 0.25), mat_w, rho_w, 20.0);
  const et::LayeredPhantom slabs(std::vector<double>(nz, 0.25), mat_s, rho_s, 20.0);
  int histories = 0;
  double worst = 0;
  for (const et::LayeredPhantom* ph : {&uniform, &slabs}) {
    TransportParams tp;
    tp.phantom = ph->view;
    tp.materials = tab->data();
    for (ParticleType type : {ParticleType::electron, ParticleType::positron}) {
      for (double e : {0.5, 1.0, 2.0, 5.0, 10.0, 20.0}) {
        const PointSource src{type, e, {0.3, -0.2, 2.0}};
        FixedStack<256> stack;
        for (std::uint64_t h = 0; h < 100; ++h) {
          et::LedgerScorer sc;
          const double emitted =
              run_history<CondensedHistoryCharged>(tp, src, 99, h, sc, stack);
          const double in = emitted + sc.rest;
          const double out = sc.deposited + sc.below + sc.escaped;
          const double rel = std::fabs(out - in) / in;
          worst = rel > worst ? rel : worst;
          ++histories;
          INFO("E " << e << " type " << int(type) << " history " << h);
          REQUIRE(rel < 1e-6);
          REQUIRE(stack.overflows == 0);
        }
      }
    }
  }
  std::printf("energy balance: %d histories, worst relative imbalance %.2e\n", histories, worst);
}
