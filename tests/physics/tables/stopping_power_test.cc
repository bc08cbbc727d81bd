// Collision stopping power formulas of the generator (ICRU Report 37 form) against closed
// forms written independently:
//  - the restricted forms with the largest transfer (T/2 for Moller, T for Bhabha) equal
//    the unrestricted Bethe formula with Rohrlich & Carlson's F-functions (ICRU 37 eqs.
//    2.4a, 2.4b): F- = 1 - beta^2 + [tau^2/8 - (2 tau + 1) ln 2]/(tau + 1)^2,
//    F+ = 2 ln 2 - (beta^2/12)[23 + 14/(tau+2) + 10/(tau+2)^2 + 4/(tau+2)^3];
//  - restricted loss + the mean hard-collision loss above the cut = unrestricted loss,
//    integrating W dsigma/dW of delta_ray.hh numerically (a consistency check of cut
//    handling), to 1e-6.
#include <catch2/catch.hpp>

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/electron/delta_ray.hh"
#include "physics/tables/table_builder.hh"
#include "tests/support/skip.hh"

using namespace sabre::phys;
using namespace sabre::phys::tables;

TEST_CASE("restricted collision stopping power reduces to the unrestricted Bethe formula", "[tables][dedx]") {
  SABRE_REQUIRE_SHARED();
  RawData raw(sabre::test::shared_dir() + "/data/physics");
  const MaterialSpec water = resolve_material(raw, "water");
  const MaterialPhysics mp(water, raw, default_cuts());
  const double mc2 = kElectronMassMeV;
  for (double t : {0.01, 0.1, 1.0, 10.0, 25.0}) {
    const double tau = t / mc2, g = tau + 1, b2 = tau * (tau + 2) / (g * g);
    const double i = water.i_ev * 1e-6 / mc2;
    const double pre = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm * mc2 *
                       mp.electrons_per_gram() / b2;
    const double lg = std::log(tau * tau * (tau + 2) / (2 * i * i));
    const double fm = 1 - b2 + (tau * tau / 8 - (2 * tau + 1) * std::log(2.0)) / (g * g);
    const double y = 1 / (tau + 2);
    const double fp = 2 * std::log(2.0) - b2 / 12 * (23 + 14 * y + 10 * y * y + 4 * y * y * y);
    const double delta = mp.density_effect(t);
    CHECK(mp.dedx_collision(kElectron, t, 0) == Approx(pre * (lg + fm - delta)).epsilon(1e-10));
    CHECK(mp.dedx_collision(kPositron, t, 0) == Approx(pre * (lg + fp - delta)).epsilon(1e-10));
    // cut above the largest transfer: restricted = unrestricted
    CHECK(mp.dedx_collision(kElectron, t, t) == Approx(mp.dedx_collision(kElectron, t, 0)).epsilon(1e-12));
  }
}

TEST_CASE("restricted loss plus hard-collision loss equals the unrestricted loss", "[tables][dedx]") {
  SABRE_REQUIRE_SHARED();
  RawData raw(sabre::test::shared_dir() + "/data/physics");
  const MaterialSpec water = resolve_material(raw, "water");
  const MaterialPhysics mp(water, raw, default_cuts());
  const double cut = 0.189;
  for (double t : {0.5, 2.0, 10.0}) {
    for (int s : {kElectron, kPositron}) {
      const double emax = s == kElectron ? 0.5 : 1.0;
      // int W dsigma/dW dW = T int eps dsigma/deps deps, Simpson in ln eps
      const int n = 4000;
      const double la = std::log(cut / t), lb = std::log(emax), h = (lb - la) / n;
      double sum = 0;
      for (int k = 0; k <= n; ++k) {
        const double e = std::exp(la + k * h);
        const double w = (k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2);
        const double dcs = s == kElectron ? moller_dcs_eps(t, e) : bhabha_dcs_eps(t, e);
        sum += w * e * dcs * e;
      }
      const double hard = t * sum * h / 3 * mp.electrons_per_gram();
      CHECK(mp.dedx_collision(s, t, cut) + hard == Approx(mp.dedx_collision(s, t, 0)).epsilon(1e-6));
    }
  }
}
