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

namespace {
// <w^k> of the Wentzel distribution A (1 + A)/(w + A)^2 on [0, 1] by composite Simpson in
// x = ln(w + A) (integrand w^k A (1 + A)/(w + A), smooth in x): independent of the closed
// forms under test.
double wentzel_moment_quadrature(double a, int k) {
  const int n = 20000;  // even
  const double x0 = std::log(a), x1 = std::log1p(a);
  const double h = (x1 - x0) / n;
  double s = 0;
  for (int i = 0; i <= n; ++i) {
    const double u = std::exp(x0 + i * h);  // w + A
    const double w = u - a;
    const double f = std::pow(w > 0 ? w : 0, k) * a * (1 + a) / u;
    s += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
  }
  return s * h / 3;
}
}  // namespace

TEST_CASE("Wentzel second moment and lambda1/lambda2 match quadrature", "[electron][msc]") {
  // Reference: Simpson quadrature of the Wentzel density (above); tolerance 1e-7 relative
  // (the quadrature's own error is < 1e-9 at these A; the closed form loses ~A^2 eps to
  // cancellation below the series switch at A = 1e4).
  for (double a : {1e-8, 1e-5, 1e-3, 0.05, 1.0, 30.0, 900.0}) {
    INFO("A = " << a);
    CHECK(wentzel_mean_w(a) == Approx(wentzel_moment_quadrature(a, 1)).epsilon(1e-7));
    CHECK(wentzel_mean_w2(a) == Approx(wentzel_moment_quadrature(a, 2)).epsilon(1e-7));
    // lambda1/lambda2 = <1 - P2>/<1 - P1> with mu = 1 - 2w: 1 - P1 = 2w, 1 - P2 = 6w(1 - w).
    const double q1 = wentzel_moment_quadrature(a, 1), q2 = wentzel_moment_quadrature(a, 2);
    CHECK(wentzel_lambda1_over_lambda2(a) == Approx(6 * (q1 - q2) / (2 * q1)).epsilon(1e-7));
  }
  // Series branch joins the closed form at A = 1e4 (closed form: ~A^2 eps ~ 1e-8 there).
  CHECK(wentzel_mean_w2(1e4 * (1 + 1e-12)) == Approx(wentzel_mean_w2(1e4 * (1 - 1e-12))).epsilon(1e-7));
  // Isotropic limit: <w^2> -> 1/3.
  CHECK(wentzel_mean_w2(1e9) == Approx(1.0 / 3).epsilon(1e-9));
}

TEST_CASE("Two-moment MSC deflection has <P1> = exp(-G1) and <P2> = exp(-G2)", "[electron][msc]") {
  // Theorem (Goudsmit-Saunderson/Lewis): after a path with G_l = int ds/lambda_l,
  // <P_l(cos theta)> = exp(-G_l). The sampler's means of P1 and P2 must agree within 4
  // standard errors (fixed seed). G2/G1 = lambda1/lambda2 of water-like screening
  // (eta 1e-5 .. 1e-3 gives 2.5 .. 2.7) and the isotropic-ish regime.
  Rng rng(20261129, 0, kStreamTest);
  const int n = 400000;
  for (double eta : {1e-5, 1e-3}) {
    const double r = wentzel_lambda1_over_lambda2(eta);
    for (double g1 : {1e-3, 0.02, 0.2, 0.5, 2.0}) {
      const double g2 = r * g1;
      double s1 = 0, s1q = 0, s2 = 0, s2q = 0;
      for (int i = 0; i < n; ++i) {
        const double mu = sample_msc_cos_theta_2m(g1, g2, rng.uniform());
        REQUIRE(mu >= -1);
        REQUIRE(mu <= 1);
        const double p2 = 0.5 * (3 * mu * mu - 1);
        s1 += mu;
        s1q += mu * mu;
        s2 += p2;
        s2q += p2 * p2;
      }
      const double m1 = s1 / n, m2 = s2 / n;
      const double se1 = std::sqrt((s1q / n - m1 * m1) / n);
      const double se2 = std::sqrt((s2q / n - m2 * m2) / n);
      INFO("eta " << eta << " G1 " << g1 << ": <P1> " << m1 << " vs " << std::exp(-g1) << " (se "
                  << se1 << "), <P2> " << m2 << " vs " << std::exp(-g2) << " (se " << se2 << ")");
      CHECK(std::fabs(m1 - std::exp(-g1)) < 4 * se1 + 1e-15);
      CHECK(std::fabs(m2 - std::exp(-g2)) < 4 * se2 + 1e-15);
    }
  }
  // The first-moment model misses <P2> for screened-Rutherford steps (the reason for the
  // two-moment model): at G1 = 0.2, eta = 1e-4 its <P2> is off by far more than 4 se.
  const double g1 = 0.2, g2 = wentzel_lambda1_over_lambda2(1e-4) * g1;
  double s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double mu = sample_msc_cos_theta(g1, rng.uniform());
    s2 += 0.5 * (3 * mu * mu - 1);
  }
  CHECK(std::fabs(s2 / n - std::exp(-g2)) > 0.01);
}

TEST_CASE("Hinge fraction inverts the partial G1 and has the first-order mean", "[electron][msc]") {
  // With 1/lambda_1 linear along the step from f0 to f1, the partial G1 fraction is
  // q(u) = (f0 u + (f1 - f0) u^2/2) / ((f0 + f1)/2). The hinge u(xi) must invert it
  // (q(u(xi)) = xi to rounding, reference: the closed form q), and its mean must be
  // int_0^1 (1 - q(u)) du = 1 - (f0/2 + (f1 - f0)/6) / ((f0 + f1)/2) (midpoint rule over
  // 100000 equally spaced xi: error ~ 1e-10).
  for (const auto& f : {std::pair{1.0, 1.0}, std::pair{1.0, 3.0}, std::pair{2.0, 1.0},
                        std::pair{1.0, 1e-3}}) {
    const double f0 = f.first, f1 = f.second;
    auto q = [&](double u) { return (f0 * u + 0.5 * (f1 - f0) * u * u) / (0.5 * (f0 + f1)); };
    const int n = 100000;
    double mean = 0;
    for (int i = 0; i < n; ++i) {
      const double xi = (i + 0.5) / n;
      const double u = msc_hinge_fraction(f0, f1, xi);
      REQUIRE(u >= 0);
      REQUIRE(u <= 1);
      CHECK(q(u) == Approx(xi).margin(1e-12));
      mean += u / n;
    }
    const double ref = 1 - (0.5 * f0 + (f1 - f0) / 6) / (0.5 * (f0 + f1));
    INFO("f0 " << f0 << " f1 " << f1);
    CHECK(mean == Approx(ref).margin(1e-8));
  }
  CHECK(msc_hinge_fraction(0.0, 1.0, 0.3) == 0.3);  // no data: uniform
}
