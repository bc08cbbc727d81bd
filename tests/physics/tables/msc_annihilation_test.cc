// Generator checks of the multiple-scattering parameters and of positron annihilation in
// flight against independent analytic results:
//  - 1/lambda_1 of a one-element medium equals the numerical integral of (1 - cos theta)
//    times the screened Rutherford cross section with the tabulated eta (to 1e-6);
//  - eta equals Moliere's screening parameter computed from hbar c and the Bohr radius
//    (CODATA 2018) with the Thomas-Fermi radius 0.88534 a0 Z^-1/3 (to 0.1 %: the generator
//    rounds the Thomas-Fermi constant to 0.885);
//  - Heitler's annihilation cross section has Dirac's limits: pi r_e^2 c/v for slow positrons
//    and pi r_e^2 (ln 2 gamma - 1)/gamma for gamma >> 1 (Heitler 1954, sec. 29), each to 1 %.
#include <catch2/catch.hpp>

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/tables/table_builder.hh"
#include "tests/support/skip.hh"

using namespace sabre::phys;
using namespace sabre::phys::tables;

TEST_CASE("screened-Rutherford transport cross section and Moliere screening", "[tables][msc_params]") {
  SABRE_REQUIRE_SHARED();
  RawData raw(sabre::test::shared_dir() + "/data/physics");
  for (const char* el : {"C", "Al", "W"}) {
    const MaterialSpec spec = resolve_material(raw, el);
    const MaterialPhysics mp(spec, raw, default_cuts());
    const int z = spec.mass_fractions.at(0).first;
    const double atoms_per_g = kAvogadro / element_by_z(z)->atomic_weight_g_mol;
    for (double t : {0.2, 1.0, 10.0}) {
      const double mc2 = kElectronMassMeV;
      const double pc2 = t * (t + 2 * mc2);
      const double beta2 = pc2 / ((t + mc2) * (t + mc2));
      // eta from hbar c and a0 (CODATA 2018)
      const double hbarc_mev_cm = 197.3269804e-13, a0_cm = 0.529177210903e-8;
      const double a_tf = 0.88534 * a0_cm / std::cbrt(double(z));
      const double az = kFineStructure * z;
      const double eta_ref = 0.25 * hbarc_mev_cm * hbarc_mev_cm / (pc2 * a_tf * a_tf) * (1.13 + 3.76 * az * az / beta2);
      const double eta = mp.msc_screening(t);
      CHECK(eta == Approx(eta_ref).epsilon(1e-3));
      // 2 pi int_{-1}^{1} (1 - mu) dsigma/dOmega dmu, with s = 1 - mu + 2 eta, ds = -dmu,
      // Simpson in ln s from 2 eta to 2 + 2 eta
      const double k = double(z) * (z + 1) * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm *
                       mc2 * mc2 / (pc2 * beta2);
      const int n = 20000;
      const double la = std::log(2 * eta), lb = std::log(2 + 2 * eta), h = (lb - la) / n;
      double sum = 0;
      for (int i = 0; i <= n; ++i) {
        const double s = std::exp(la + i * h);
        const double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        sum += w * (s - 2 * eta) / (s * s) * s;  // (1 - mu) / s^2 * ds, ds = s d(ln s)
      }
      const double inv_lambda1 = atoms_per_g * kTwoPi * k * sum * h / 3;
      CHECK(mp.msc_inv_lambda1(t) == Approx(inv_lambda1).epsilon(1e-6));
    }
  }
}

TEST_CASE("annihilation in flight has Dirac's low- and high-energy limits", "[tables][annihilation]") {
  SABRE_REQUIRE_SHARED();
  RawData raw(sabre::test::shared_dir() + "/data/physics");
  const MaterialSpec water = resolve_material(raw, "water");
  const MaterialPhysics mp(water, raw, default_cuts());
  const double re2 = kClassicalElectronRadiusCm * kClassicalElectronRadiusCm;
  const double n_el = mp.electrons_per_gram();
  {
    const double t = 1e-6, g = 1 + t / kElectronMassMeV, beta = std::sqrt(1 - 1 / (g * g));
    CHECK(mp.sigma_annihilation(kPositron, t) == Approx(n_el * kPi * re2 / beta).epsilon(0.01));
  }
  {
    const double t = 1e5, g = 1 + t / kElectronMassMeV;
    CHECK(mp.sigma_annihilation(kPositron, t) == Approx(n_el * kPi * re2 * (std::log(2 * g) - 1) / g).epsilon(0.01));
  }
  CHECK(mp.sigma_annihilation(kElectron, 1.0) == 0);
}
