// Hard-event final states (physics/electron/hard_events.hh) and the consistency of the
// discrete and continuous parts of the energy loss that the condensed history relies on.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "physics/core/rng.hh"
#include "physics/electron/brems_sampling.hh"
#include "physics/electron/delta_ray.hh"
#include "physics/electron/hard_events.hh"
#include "tests/physics/electron/electron_test_support.hh"

using namespace sabre::phys;
namespace et = sabre::test::electron;

namespace {
double momentum_mev(double t_mev) { return std::sqrt(t_mev * (t_mev + 2 * kElectronMassMeV)); }
}  // namespace

TEST_CASE("delta-ray kinematics conserve energy and momentum", "[electron][hard]") {
  // Exact two-body kinematics on a free electron at rest: p_in = p_1 + p_2 (vector), to
  // 1e-9 relative (rounding in sqrt/rotation).
  Rng rng(3, 0, kStreamTest);
  const Vec3 dir = normalized(Vec3{0.3, -0.4, 0.866});
  for (double t : {0.4, 1.0, 5.0, 20.0}) {
    for (double f : {0.1, 0.3, 0.5, 0.9}) {
      const double w = f * t;
      const TwoBodyResult r = delta_ray_kinematics(t, w, dir, rng);
      CHECK(r.energy_mev[0] + r.energy_mev[1] == Approx(t).epsilon(1e-15));
      const Vec3 p = momentum_mev(r.energy_mev[0]) * r.dir[0] + momentum_mev(r.energy_mev[1]) * r.dir[1];
      const Vec3 p0 = momentum_mev(t) * dir;
      CHECK(std::sqrt(dot(p - p0, p - p0)) < 1e-9 * momentum_mev(t));
    }
  }
}

TEST_CASE("annihilation in flight conserves energy and momentum; Heitler spectrum",
          "[electron][hard]") {
  Rng rng(8, 0, kStreamTest);
  const Vec3 dir{0, 0, 1};
  for (double t : {0.05, 0.5, 2.0, 10.0}) {
    // Conservation: E_1 + E_2 = T + 2 m c^2; k_1 + k_2 = p (vectors), 1e-9 relative.
    for (int i = 0; i < 1000; ++i) {
      const AnnihilationResult a = annihilate_in_flight(t, dir, rng);
      REQUIRE(a.energy_mev[0] + a.energy_mev[1] == Approx(t + 2 * kElectronMassMeV).epsilon(1e-14));
      const Vec3 k = a.energy_mev[0] * a.dir[0] + a.energy_mev[1] * a.dir[1];
      REQUIRE(std::sqrt(dot(k - momentum_mev(t) * dir, k - momentum_mev(t) * dir)) <
              1e-9 * (t + 2 * kElectronMassMeV));
    }
    // Spectrum: the softer photon's fraction zeta against Heitler's dsigma/dzeta ~
    // S(zeta) + S(1 - zeta) on [zeta_min, 1/2], integrated numerically (Simpson, 200
    // points per bin) over 10 bins; chi-square with 9 dof below 27.9 (99.9 % quantile).
    const double g = 1 + t / kElectronMassMeV;
    const double zmin = 1 / (g + 1 + std::sqrt(g * g - 1));
    auto s = [g](double z) { return -(g + 1) * (g + 1) + (g * g + 4 * g + 1) / z - 1 / (z * z); };
    const int bins = 10, n = 50000;
    std::vector<double> expect(bins, 0.0);
    double tot = 0;
    for (int b = 0; b < bins; ++b) {
      const double lo = zmin + (0.5 - zmin) * b / bins, hi = zmin + (0.5 - zmin) * (b + 1) / bins;
      const int m = 200;
      double acc = 0;
      for (int j = 0; j <= m; ++j) {
        const double z = lo + (hi - lo) * j / m;
        const double wj = (j == 0 || j == m) ? 1 : (j % 2 ? 4 : 2);
        acc += wj * (s(z) + s(1 - z));
      }
      expect[b] = acc * (hi - lo) / (3 * m);
      tot += expect[b];
    }
    std::vector<int> count(bins, 0);
    for (int i = 0; i < n; ++i) {
      const AnnihilationResult a = annihilate_in_flight(t, dir, rng);
      const double z = std::min(a.energy_mev[0], a.energy_mev[1]) / (t + 2 * kElectronMassMeV);
      int b = int((z - zmin) / (0.5 - zmin) * bins);
      b = b < 0 ? 0 : (b >= bins ? bins - 1 : b);
      ++count[b];
    }
    double chi2 = 0;
    for (int b = 0; b < bins; ++b) {
      const double e = n * expect[b] / tot;
      chi2 += (count[b] - e) * (count[b] - e) / e;
    }
    INFO("T = " << t << " chi2 = " << chi2);
    CHECK(chi2 < 27.9);
  }
}

TEST_CASE("bremsstrahlung photon angle: simplified Tsai mean", "[electron][hard]") {
  // The sampled u = theta E_total / m c^2 has mean 9/(9+d) * 2/a + d/(9+d) * 2/(3a) = 1.6
  // (a = 0.625, d = 27) as long as theta < pi is never clipped (true at 10 MeV). 4 standard
  // errors, fixed seed.
  Rng rng(9, 0, kStreamTest);
  const double t = 10.0, etot = t + kElectronMassMeV;
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = std::acos(sample_brems_photon_cos(t, rng)) * etot / kElectronMassMeV;
    s += u;
    s2 += u * u;
  }
  const double mean = s / n, se = std::sqrt((s2 / n - mean * mean) / n);
  CHECK(std::fabs(mean - 1.6) < 4 * se);
}

TEST_CASE("hard cross sections x sampled mean transfer = unrestricted - restricted loss",
          "[electron][hard][tables]") {
  // Consistency that the condensed history relies on (class II splits the loss in two):
  // sigma_hard x <W> from the samplers must equal S_unrestricted - S_restricted from the
  // tables, for Moller/Bhabha (collision) and bremsstrahlung (radiative), water.
  // Tolerance: 4 standard errors + 1 % (table interpolation).
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables"); return; }
  const MaterialData& md = tab->data();
  const int water = tab->index("water");
  Rng rng(12, 0, kStreamTest);
  for (int sp : {kElectron, kPositron}) {
    const ChargedData& cd = md.charged[sp];
    for (double t : {0.5, 1.0, 5.0, 10.0, 20.0}) {
      const int n = 100000;
      double sw = 0, sw2 = 0, sk = 0, sk2 = 0;
      for (int i = 0; i < n; ++i) {
        const double w = sample_delta_ray_energy(md, sp, t, rng);
        const double k = sample_brems_photon_energy(md, sp, water, t, rng);
        sw += w; sw2 += w * w; sk += k; sk2 += k * k;
      }
      const double mw = sw / n, mk = sk / n;
      const double sew = std::sqrt((sw2 / n - mw * mw) / n), sek = std::sqrt((sk2 / n - mk * mk) / n);
      const double col_mc = cd.sigma_hard_collision(water, t) * mw;
      const double col_tab = cd.dedx_collision(water, t) - cd.dedx_collision_restricted(water, t);
      const double rad_mc = cd.sigma_hard_brems(water, t) * mk;
      const double rad_tab = cd.dedx_radiative(water, t) - cd.dedx_radiative_restricted(water, t);
      std::printf("species %d T %4.1f: hard collision %.5f vs %.5f (%+.2f %%), hard radiative "
                  "%.6f vs %.6f (%+.2f %%)\n",
                  sp, t, col_mc, col_tab, 100 * (col_mc / col_tab - 1), rad_mc, rad_tab,
                  100 * (rad_mc / rad_tab - 1));
      CHECK(std::fabs(col_mc - col_tab) < 4 * sew * cd.sigma_hard_collision(water, t) + 0.01 * col_tab);
      CHECK(std::fabs(rad_mc - rad_tab) < 4 * sek * cd.sigma_hard_brems(water, t) + 0.01 * rad_tab);
    }
  }
}
