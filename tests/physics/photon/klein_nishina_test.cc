// Klein-Nishina sampling against the analytic cross section (acceptance 3 of issue 4).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "chi2.hh"
#include "hand_tables.hh"
#include "physics/core/rng.hh"
#include "physics/photon/klein_nishina.hh"
#include "tests/support/evidence.hh"

using namespace sabre::phys;
using sabre::test::chi2_quantile;
using sabre::test::chi2_statistic;
using sabre::test::simpson;

TEST_CASE("Klein-Nishina differential cross section integrates to Heitler's total", "[photon]") {
  // Independent reference: the closed-form total cross section (Heitler eq. 22.10).
  for (double e : {0.01, 0.5, 2.0, 10.0, 50.0}) {
    const double eps0 = 1 / (1 + 2 * e / kElectronMassMeV);
    const double total = simpson([&](double x) { return klein_nishina_dsigma_deps_cm2(e, x); },
                                 eps0, 1.0, 2000);
    CHECK(total == Approx(sabre::test::kn_sigma_cm2(e)).epsilon(1e-7));
  }
}

TEST_CASE("Klein-Nishina scattered-photon energies pass a chi-square test", "[photon]") {
  // 400k samples per energy in 50 equal bins of eps = k'/k over [eps0, 1]; expected bin
  // probabilities from Simpson integrals of the analytic dsigma/deps. Pass: chi2 below
  // its 99.9 % quantile (fixed seed, so the outcome is deterministic).
  const long n = 400000;
  const int bins = 50;
  for (double e : {0.5, 2.0, 10.0}) {
    const double eps0 = 1 / (1 + 2 * e / kElectronMassMeV);
    std::vector<double> prob(bins);
    const double w = (1 - eps0) / bins;
    double norm = 0;
    for (int b = 0; b < bins; ++b) {
      prob[b] = simpson([&](double x) { return klein_nishina_dsigma_deps_cm2(e, x); },
                        eps0 + b * w, eps0 + (b + 1) * w, 50);
      norm += prob[b];
    }
    for (double& p : prob) p /= norm;
    std::vector<long> obs(bins, 0);
    Rng rng(2024, std::uint64_t(e * 1000), kStreamTest);
    const Vec3 dir{0, 0, 1};
    for (long s = 0; s < n; ++s) {
      const PhotonInteraction r = KleinNishinaInteractor{e, dir}(rng);
      const double eps = r.photon_energy_mev / e;
      REQUIRE(eps >= eps0 * (1 - 1e-12));
      REQUIRE(eps <= 1.0);
      // energy and momentum conservation (MeV, MeV/c)
      REQUIRE(r.photon_energy_mev + r.secondary_energy_mev[0] == Approx(e).epsilon(1e-12));
      if (r.n_secondaries == 1) {
        const double te = r.secondary_energy_mev[0];
        const double pe = std::sqrt(te * (te + 2 * kElectronMassMeV));
        const Vec3 ptot = r.photon_energy_mev * r.photon_dir + pe * r.secondary_dir[0];
        REQUIRE(ptot.z == Approx(e).epsilon(1e-9));
        REQUIRE(std::abs(ptot.x) < 1e-9 * e);
        REQUIRE(std::abs(ptot.y) < 1e-9 * e);
        // the photon's angle is the Compton relation's
        const double cos_t = 1 - (1 / eps - 1) / (e / kElectronMassMeV);
        REQUIRE(r.photon_dir.z == Approx(cos_t).margin(1e-9));
      }
      int b = int((eps - eps0) / w);
      if (b >= bins) b = bins - 1;
      ++obs[b];
    }
    int dof = 0;
    const double chi2 = chi2_statistic(obs, prob, n, dof);
    WARN("E = " << e << " MeV: chi2 = " << chi2 << " for " << dof << " dof");
    sabre::test::Evidence row;
    char buf[96];
    std::snprintf(buf, sizeof buf, "klein-nishina/%gMeV", e);
    row.id = buf;
    std::snprintf(buf, sizeof buf, "chi2/dof of the k'/k histogram (%ld samples, %d bins), %g MeV", n, bins, e);
    row.quantity = buf;
    row.kind = "independent";
    row.reference_source = "analytic Klein-Nishina dsigma/deps, Simpson-integrated per bin";
    row.reference = 1.0;
    row.value = chi2 / dof;
    row.difference = chi2 / dof - 1;
    std::snprintf(buf, sizeof buf, "chi2 < 99.9 %% quantile (%.1f for %d dof)", chi2_quantile(dof), dof);
    row.tolerance_text = buf;
    row.histories = n;
    row.pass = dof == bins - 1 && chi2 < chi2_quantile(dof);
    sabre::test::record(row);
    CHECK(dof == bins - 1);
    CHECK(chi2 < chi2_quantile(dof));
  }
}
