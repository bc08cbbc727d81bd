// Multiple-scattering sampler (physics/electron/msc.hh): the screening solve, the first
// moment (Goudsmit-Saunderson/Lewis: <cos theta> = exp(-G1)), and the sampled shape against
// the analytic Wentzel CDF.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "physics/core/rng.hh"
#include "physics/electron/msc.hh"

using namespace sabre::phys;

TEST_CASE("Wentzel screening solve inverts the mean of w", "[electron][msc]") {
  // Reference: the closed form <w>(A) = A((1+A) ln(1+1/A) - 1); tolerance 1e-10 relative
  // (the solve stops at 1e-13 in ln <w>).
  for (double lm = -12; lm <= std::log10(0.4999); lm += 0.25) {
    const double target = std::pow(10.0, lm);
    const double a = wentzel_screening_for_mean(target);
    CHECK(wentzel_mean_w(a) == Approx(target).epsilon(1e-10));
  }
  for (double target : {0.49, 0.499, 0.4999, 0.49999}) {
    const double a = wentzel_screening_for_mean(target);
    CHECK(wentzel_mean_w(a) == Approx(target).epsilon(1e-10));
  }
  // The series branch joins the closed form continuously at A = 1e4: the closed form
  // there loses ~2 A eps ~ 5e-12 of relative precision to cancellation, hence 1e-10.
  CHECK(wentzel_mean_w(1e4 * (1 + 1e-12)) == Approx(wentzel_mean_w(1e4 * (1 - 1e-12))).epsilon(1e-10));
}

TEST_CASE("MSC deflection has the exact first moment exp(-G1)", "[electron][msc]") {
  // Theorem (Lewis 1950): <cos theta> = exp(-G1). The sample mean must agree within 4
  // standard errors (fixed seed; a 4-sigma miss has probability 6e-5 per value).
  Rng rng(20261122, 0, kStreamTest);
  const int n = 200000;
  for (double g1 : {1e-3, 0.05, 0.2, 0.5, 1.0, 3.0, 20.0}) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double mu = sample_msc_cos_theta(g1, rng.uniform());
      REQUIRE(mu >= -1);
      REQUIRE(mu <= 1);
      s += mu;
      s2 += mu * mu;
    }
    const double mean = s / n;
    const double se = std::sqrt((s2 / n - mean * mean) / n);
    INFO("G1 = " << g1 << " mean " << mean << " expected " << std::exp(-g1) << " se " << se);
    CHECK(std::fabs(mean - std::exp(-g1)) < 4 * se + 1e-15);
  }
}

TEST_CASE("MSC deflection follows the Wentzel shape (chi-square)", "[electron][msc]") {
  // For the solved A, F(w) = w (1 + A)/(w + A). 20 bins equiprobable under F; chi-square
  // with 19 degrees of freedom must stay below 43.8 (99.9 % quantile). Fixed seed.
  Rng rng(7, 1, kStreamTest);
  for (double g1 : {0.01, 0.3, 2.0}) {
    const double mean_w = -0.5 * std::expm1(-g1);
    const double a = wentzel_screening_for_mean(mean_w);
    const int bins = 20, n = 100000;
    std::vector<double> edges(bins + 1);
    for (int b = 0; b <= bins; ++b) {
      const double f = double(b) / bins;  // invert F: w = f A / (1 + A - f)
      edges[b] = f * a / (1 + a - f);
    }
    std::vector<int> count(bins, 0);
    for (int i = 0; i < n; ++i) {
      const double w = 0.5 * (1 - sample_msc_cos_theta(g1, rng.uniform()));
      int b = 0;
      while (b < bins - 1 && w >= edges[b + 1]) ++b;
      ++count[b];
    }
    double chi2 = 0;
    const double expect = double(n) / bins;
    for (int c : count) chi2 += (c - expect) * (c - expect) / expect;
    INFO("G1 = " << g1 << " chi2 = " << chi2);
    CHECK(chi2 < 43.8);
  }
}

TEST_CASE("G1 Simpson rule is exact for quadratic 1/lambda1 along the step", "[electron][msc]") {
  // Simpson's rule integrates a quadratic exactly: f(t) = 1 + 2t + 3t^2 over [0, 0.4].
  const double t = 0.4;
  auto f = [](double x) { return 1 + 2 * x + 3 * x * x; };
  const double exact = t + t * t + t * t * t;
  CHECK(msc_first_moment(t, f(0), f(t / 2), f(t)) == Approx(exact).epsilon(1e-14));
}
