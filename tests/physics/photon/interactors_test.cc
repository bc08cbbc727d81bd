// Photoelectric (Sauter), pair (Bethe-Heitler / Butcher-Messel) and Rayleigh (Thomson)
// samplers against their target distributions; energy bookkeeping of each.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "chi2.hh"
#include "physics/core/rng.hh"
#include "physics/photon/pair_production.hh"
#include "physics/photon/photoelectric.hh"
#include "physics/photon/rayleigh.hh"

using namespace sabre::phys;
using sabre::test::chi2_quantile;
using sabre::test::chi2_statistic;
using sabre::test::simpson;

namespace {
template <class Pdf, class Sample>
void check_chi2(Pdf pdf, Sample sample, double lo, double hi, int bins, long n) {
  std::vector<double> prob(bins);
  const double w = (hi - lo) / bins;
  double norm = 0;
  for (int b = 0; b < bins; ++b) norm += prob[b] = simpson(pdf, lo + b * w, lo + (b + 1) * w, 50);
  for (double& p : prob) p /= norm;
  std::vector<long> obs(bins, 0);
  for (long s = 0; s < n; ++s) {
    const double x = sample();
    REQUIRE(x >= lo - 1e-12);
    REQUIRE(x <= hi + 1e-12);
    int b = int((x - lo) / w);
    b = b < 0 ? 0 : (b >= bins ? bins - 1 : b);
    ++obs[b];
  }
  int dof = 0;
  const double chi2 = chi2_statistic(obs, prob, n, dof);
  WARN("chi2 = " << chi2 << " for " << dof << " dof, limit " << chi2_quantile(dof));
  CHECK(chi2 < chi2_quantile(dof));
}
}  // namespace

TEST_CASE("Sauter photoelectron angles follow the Sauter distribution", "[photon]") {
  // Target (PENELOPE-2008 eq. 2.11 in nu = 1 - cos theta); 99.9 % chi-square, 40 bins.
  for (double t : {0.02, 0.1, 0.5}) {
    const double g = 1 + t / kElectronMassMeV;
    const double beta = std::sqrt(1 - 1 / (g * g));
    const double a = 1 / beta - 1, bb = 0.5 * beta * g * (g - 1) * (g - 2);
    auto pdf = [&](double nu) { return (2 - nu) * (1 / (a + nu) + bb) * nu / std::pow(a + nu, 3); };
    Rng rng(11, std::uint64_t(t * 1e4), kStreamTest);
    INFO("T = " << t << " MeV");
    check_chi2(pdf, [&] { return 1 - PhotoelectricInteractor::sample_cos_theta(t, rng); }, 0.0,
               2.0, 40, 200000);
  }
}

TEST_CASE("Pair energy sharing follows the Butcher-Messel Bethe-Heitler form", "[photon]") {
  // Target density on [eps_min, 1/2] (SLAC-265 sec. 2.7, symmetric half):
  //   (4/3)(1/2 - eps)^2 (F1(delta) - F_Z) + (2/3)(F2(delta) - F_Z), clipped at 0,
  // which is what the composition-rejection samples. 99.9 % chi-square, 30 bins.
  const double z = 7.42;
  for (double k : {5.0, 20.0, 80.0}) {
    using P = PairProductionInteractor;
    const double eps0 = kElectronMassMeV / k;
    double fz = 8 * std::log(z) / 3;
    if (k > 50) fz += 8 * P::coulomb_fc(z);
    const double fac = 136 * eps0 / std::cbrt(z);
    auto pdf = [&](double eps) {
      if (eps < eps0) return 0.0;
      const double d = fac / (eps * (1 - eps));
      const double v = (4.0 / 3.0) * (0.5 - eps) * (0.5 - eps) * (P::screen_f1(d) - fz) +
                       (2.0 / 3.0) * (P::screen_f2(d) - fz);
      return v > 0 ? v : 0.0;
    };
    Rng rng(12, std::uint64_t(k), kStreamTest);
    INFO("k = " << k << " MeV");
    check_chi2(pdf, [&] { return P::sample_eps(k, z, rng); }, eps0, 0.5, 30, 200000);
  }
}

TEST_CASE("Pair production conserves energy and makes an e-/e+ pair", "[photon]") {
  Rng rng(13, 0, kStreamTest);
  for (double k : {1.1, 3.0, 10.0, 20.0}) {
    for (int s = 0; s < 10000; ++s) {
      const PhotonInteraction r = PairProductionInteractor{k, {0, 0, 1}, 7.42}(rng);
      REQUIRE_FALSE(r.photon_alive);
      REQUIRE(r.n_secondaries == 2);
      REQUIRE(r.secondary_type[0] == ParticleType::electron);
      REQUIRE(r.secondary_type[1] == ParticleType::positron);
      REQUIRE(r.secondary_energy_mev[0] >= 0);
      REQUIRE(r.secondary_energy_mev[1] >= 0);
      REQUIRE(r.secondary_energy_mev[0] + r.secondary_energy_mev[1] - r.rest_mass_mev ==
              Approx(k).epsilon(1e-12));
    }
  }
}

TEST_CASE("Rayleigh (Thomson) angles follow (1 + cos^2)", "[photon]") {
  Rng rng(14, 0, kStreamTest);
  check_chi2([](double c) { return 1 + c * c; },
             [&] { return RayleighInteractor::sample_cos_theta(rng); }, -1.0, 1.0, 40, 200000);
}
