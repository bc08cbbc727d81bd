// Multiple elastic scattering over one condensed-history step: the polar deflection of an
// electron or positron after a step of mass thickness t [g/cm^2]. Host and device.
//
// Model ("Wentzel shape with the exact first moment"):
//  - Exact first moment. For any elastic cross section, the Goudsmit-Saunderson /
//    Lewis theory gives the mean cosine after a path s as
//        <cos theta> = exp(-G1),   G1 = int_0^s ds' / lambda_1(E(s'))
//    [S. Goudsmit, J. L. Saunderson, Phys. Rev. 57 (1940) 24; H. W. Lewis, Phys. Rev. 78
//    (1950) 526, eq. 22]. Here 1/lambda_1 per unit density is the table's msc_inv_lambda1
//    [cm^2/g], so G1 = int_0^t msc_inv_lambda1(E(t')) dt' with t in g/cm^2: the deflection
//    depends on the mass thickness only, never on the density (Fano, see
//    docs/electron-transport.md). Energy loss along the step is included: G1 is integrated
//    by Simpson's rule over the step's energies (msc_first_moment below).
//  - Shape. The deflection is drawn from a screened-Rutherford (Wentzel) distribution
//        p(mu) ~ 1 / (1 - mu + 2A)^2,  mu = cos theta in [-1, 1]
//    [G. Wentzel, Z. Phys. 40 (1927) 590] whose screening A is NOT the single-scattering
//    one but is solved so that the distribution's first moment equals exp(-G1), the idea
//    of the "modified Wentzel" model of J. M. Fernandez-Varea, R. Mayol, J. Baro and
//    F. Salvat, Nucl. Instrum. Meth. B 73 (1993) 447, sec. 4, keeping only its first-moment
//    condition (their model also fits the second moment; known limit, see the doc).
//    For w = (1 - mu)/2 in [0, 1]:  p(w) = A (1 + A) / (w + A)^2,
//        CDF F(w) = w (1 + A) / (w + A)      -> inversion w = xi A / (1 + A - xi),
//        mean <w> = A [ (1 + A) ln(1 + 1/A) - 1 ]  (monotonic in A: 0 at A = 0, 1/2 as A -> inf).
//    The target <w> = (1 - exp(-G1)) / 2. A is found by a bounded safeguarded Newton
//    iteration in ln A (at most kMscSolveIterations).
// Random numbers: exactly 2 per deflection (w by inversion, azimuth).
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/materials/material_data.hh"

namespace sabre::phys {

inline constexpr int kMscSolveIterations = 60;
// Above this mean of w (= (1 - <cos>)/2) the direction is sampled isotropically: the
// Wentzel screening would be > ~1e5 and the distribution flat to 1e-5.
inline constexpr double kMscIsotropicMeanW = 0.5 - 1.5e-6;

// Mean of w = (1 - cos theta)/2 under the Wentzel distribution with screening a.
SABRE_HD_INLINE double wentzel_mean_w(double a) {
  if (a > 1e4) {
    // Series in 1/a (avoids cancellation): 1/2 - 1/(6a) + 1/(12 a^2) - 1/(20 a^3).
    const double x = 1 / a;
    return 0.5 - x / 6 + x * x / 12 - x * x * x / 20;
  }
  return a * ((1 + a) * std::log1p(1 / a) - 1);
}

// d<w>/dA.
SABRE_HD_INLINE double wentzel_mean_w_slope(double a) {
  if (a > 1e4) {
    const double x = 1 / a;
    return x * x / 6 - x * x * x / 6 + 3 * x * x * x * x / 20;
  }
  return (1 + 2 * a) * std::log1p(1 / a) - 2;
}

// The Wentzel screening A whose mean of w equals mean_w, 0 < mean_w < 1/2. Newton in
// u = ln A on h(u) = ln <w>(e^u) - ln mean_w, kept inside a shrinking bracket (bisection
// when a Newton step leaves it). Converges to ~1e-14 relative in < 15 iterations for all
// mean_w in (1e-14, 0.5 - 1e-6) (tests/physics/electron/msc_test.cc).
SABRE_HD inline double wentzel_screening_for_mean(double mean_w) {
  const double target = std::log(mean_w);
  double lo = -80, hi = 40;  // ln A bracket: <w>(e^-80) ~ 1e-33, <w>(e^40) ~ 0.5
  // Start: small-A asymptote <w> ~ A (ln(1/A) - 1), or the large-A one <w> ~ 1/2 - 1/(6A).
  double u;
  if (mean_w < 0.1) {
    double a = mean_w;
    for (int k = 0; k < 3; ++k) a = mean_w / (std::log(1 / a) - 1 > 0.5 ? std::log(1 / a) - 1 : 0.5);
    u = std::log(a);
  } else {
    u = std::log(1 / (6 * (0.5 - mean_w)));
  }
  if (u < lo) u = lo;
  if (u > hi) u = hi;
  for (int it = 0; it < kMscSolveIterations; ++it) {
    const double a = std::exp(u);
    const double m = wentzel_mean_w(a);
    const double h = std::log(m) - target;
    if (h > 0) hi = u; else lo = u;
    if (std::fabs(h) < 1e-13) break;
    const double dh = a * wentzel_mean_w_slope(a) / m;
    double next = dh > 0 ? u - h / dh : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - u) < 1e-15) break;
    u = next;
  }
  return std::exp(u);
}

// ---- The tabulated solve (issue 20: the Newton iteration above costs 5-15 exp/log pairs
// per deflection; a table look-up costs one log and one exp).
// MaterialData::msc_wentzel holds, on kMscTableNodes nodes uniform in ln <w> over
// [kMscTableMinW, kMscTableMaxW], row 0: ln A(<w>) and row 1: <w^2>_A / <w>, both from the
// exact solver (fill_msc_wentzel_row below), interpolated linearly in ln <w>. Interpolation
// error: < 2e-6 relative in A and < 1e-6 in <w^2>_A over the table
// (tests/physics/electron/msc_test.cc). Outside the table the solver runs.
inline constexpr double kMscTableMinW = 1e-10;
inline constexpr double kMscTableMaxW = 0.45;
inline constexpr int kMscTableNodes = 4096;

// a, w2a from the table when `table` has values and covers mean_w; false otherwise.
SABRE_HD_INLINE bool msc_table_lookup(const GridTable* table, double mean_w, double& a,
                                      double& w2a) {
  if (!table || !table->values || !(mean_w >= kMscTableMinW) || !(mean_w <= kMscTableMaxW))
    return false;
  double f;
  const int i = table->grid.locate(mean_w, f);
  a = std::exp(table->at(0, i, f));
  w2a = table->at(1, i, f) * mean_w;
  return true;
}

// The table's grid and its values at node i (host; the loader fills the table with these).
inline LogGrid msc_wentzel_grid() {
  LogGrid g;
  g.n = kMscTableNodes;
  g.ln_e0 = std::log(kMscTableMinW);
  g.inv_dln = (kMscTableNodes - 1) / (std::log(kMscTableMaxW) - g.ln_e0);
  return g;
}

// mu = 1 - 2w for w drawn with one uniform xi from (1 - b) W_A(w) + b delta(w - mean_w):
// xi < b gives the delta, else (xi - b)/(1 - b) inverts W_A's CDF w (1 + A)/(w + A).
// b = 0 is W_A alone (the inversion then sees xi itself).
SABRE_HD_INLINE double wentzel_mixture_cos_theta(double mean_w, double a, double b, double xi) {
  double w;
  if (xi < b) {
    w = mean_w;
  } else {
    const double x = (xi - b) / (1 - b);
    w = x * a / (1 + a - x);
  }
  const double mu = 1 - 2 * w;
  return mu < -1 ? -1 : (mu > 1 ? 1 : mu);
}

// Samples mu = cos(theta) for a step whose first-moment integral is g1 = int ds/lambda_1,
// with one uniform xi in (0, 1). g1 <= 0 gives mu = 1.
SABRE_HD inline double sample_msc_cos_theta(double g1, double xi,
                                            const GridTable* table = nullptr) {
  if (!(g1 > 0)) return 1.0;
  // (1 - exp(-g1)) / 2 without cancellation for small g1.
  const double mean_w = -0.5 * std::expm1(-g1);
  if (mean_w >= kMscIsotropicMeanW) return 1 - 2 * xi;
  double a, w2a;
  if (!msc_table_lookup(table, mean_w, a, w2a)) a = wentzel_screening_for_mean(mean_w);
  return wentzel_mixture_cos_theta(mean_w, a, 0.0, xi);
}

// Second moment of w under the Wentzel distribution with screening a:
//   <w^2> = A (1 + A) + A^2 - 2 A^2 (1 + A) ln(1 + 1/A)
// (the integral of w^2 A (1 + A) / (w + A)^2 over [0, 1]); for large A the series
// 1/3 - x/6 + x^2/10 - x^3/15 + x^4/21, x = 1/A (coefficients 2 (-1)^k / ((k+2)(k+3))).
SABRE_HD_INLINE double wentzel_mean_w2(double a) {
  if (a > 1e4) {
    const double x = 1 / a;
    return 1.0 / 3 - x / 6 + x * x / 10 - x * x * x / 15 + x * x * x * x / 21;
  }
  return a * (1 + a) + a * a - 2 * a * a * (1 + a) * std::log1p(1 / a);
}

// lambda_1 / lambda_2 of a single-scattering Wentzel cross section with screening eta,
// p(w) ~ 1/(w + eta)^2 (the screened Rutherford model of the tables' msc_inv_lambda1 and
// msc_screening): 1/lambda_l ~ <1 - P_l(mu)>, with 1 - P1 = 2w and 1 - P2 = 6 (w - w^2),
// so lambda_1/lambda_2 = 3 (<w> - <w^2>) / <w>: 2.77, 2.50, 2.24 for eta = 1e-6, 1e-3, 1e-2.
SABRE_HD_INLINE double wentzel_lambda1_over_lambda2(double eta) {
  if (eta > 1e4) {
    const double m1 = wentzel_mean_w(eta);
    return 3 * (m1 - wentzel_mean_w2(eta)) / m1;
  }
  // Both moments from one logarithm (the same expressions as wentzel_mean_w/_w2).
  const double l = std::log1p(1 / eta);
  const double m1 = eta * ((1 + eta) * l - 1);
  const double m2 = eta * (1 + eta) + eta * eta - 2 * eta * eta * (1 + eta) * l;
  return 3 * (m1 - m2) / m1;
}

// Two-moment model: samples mu = cos(theta) after a step with G1 = int ds/lambda_1 and
// G2 = int ds/lambda_2, so that <P1(mu)> = exp(-G1) and <P2(mu)> = exp(-G2) (Goudsmit-
// Saunderson/Lewis: exact for the step's single-scattering cross section). In
// w = (1 - mu)/2 the targets are m1 = (1 - e^-G1)/2 and m2 = <w^2> = m1 - (1 - e^-G2)/6.
// The Wentzel distribution W_A with <w> = m1 (the first-moment model above) has a larger
// <w^2> than the target for screened-Rutherford scattering (its tail is too heavy and its
// core too narrow), so the distribution is the mixture
//   p(w) = (1 - B) W_A(w) + B delta(w - m1),  B = (<w^2>_A - m2) / (<w^2>_A - m1^2),
// which keeps <w> = m1 and gives <w^2> = m2 — the second case of the modified Wentzel
// model of Fernandez-Varea et al. (1993) [NIM B 73, 447, sec. 4]. When the target is not
// below <w^2>_A (B <= 0) it is W_A alone. One uniform decides and, rescaled, inverts W_A:
// random numbers as sample_msc_cos_theta (1 here, + 1 azimuth by the caller).
SABRE_HD inline double sample_msc_cos_theta_2m(double g1, double g2, double xi,
                                               const GridTable* table = nullptr) {
  if (!(g1 > 0)) return 1.0;
  const double m1 = -0.5 * std::expm1(-g1);
  if (m1 >= kMscIsotropicMeanW) return 1 - 2 * xi;
  double a, w2a;
  if (!msc_table_lookup(table, m1, a, w2a)) {
    a = wentzel_screening_for_mean(m1);
    w2a = wentzel_mean_w2(a);
  }
  const double m2 = m1 + std::expm1(-g2) / 6;
  double b = (w2a - m2) / (w2a - m1 * m1);
  if (!(b > 0)) b = 0;
  if (b > 1) b = 1;
  return wentzel_mixture_cos_theta(m1, a, b, xi);
}

// Where along a step the random hinge goes, as a fraction u of the step's mass thickness,
// from one uniform xi. The hinge stands for the deflections of the whole step, which
// happen where ds/lambda_1 accumulates; with energy loss 1/lambda_1 grows along the step
// (from inv_l1_start to inv_l1_end), so a hinge uniform in path length deflects too early
// and leaves the particle too shallow. Placing it where the partial G1 is the fraction xi
// of the step's G1, G1(u t) = xi G1(t), with 1/lambda_1 linear in path length over the
// step, gives the exact first-order mean penetration <z> = t - int_0^t G1(s) ds (for a
// hinge at tau: z = tau + (t - tau)(1 - G1(t)), so <z> is exact when
// <tau> = int_0^t (1 - G1(s)/G1(t)) ds, which is the mean of this tau). Solving
//   (f1 - f0)/2 u^2 + f0 u = xi (f0 + f1)/2  (f0, f1: 1/lambda_1 at the start and end)
// in the cancellation-free form u = xi (f0 + f1) / (f0 + sqrt(f0^2 + xi (f1^2 - f0^2))).
// Equal ends give u = xi (the uniform hinge of PENELOPE without energy loss).
SABRE_HD_INLINE double msc_hinge_fraction(double inv_l1_start, double inv_l1_end, double xi) {
  const double f0 = inv_l1_start, f1 = inv_l1_end;
  if (!(f0 > 0) || !(f1 > 0)) return xi;
  const double u = xi * (f0 + f1) / (f0 + std::sqrt(f0 * f0 + xi * (f1 * f1 - f0 * f0)));
  return u < 0 ? 0 : (u > 1 ? 1 : u);
}

// G1 = int_0^t inv_lambda1(E(t')) dt' over a step of mass thickness t_g_cm2 by Simpson's
// rule on the energies at the start, middle and end of the step [inv_lambda1 in cm^2/g].
SABRE_HD_INLINE double msc_first_moment(double t_g_cm2, double inv_l1_start,
                                        double inv_l1_mid, double inv_l1_end) {
  return t_g_cm2 * (inv_l1_start + 4 * inv_l1_mid + inv_l1_end) / 6;
}

// Values of MaterialData::msc_wentzel at node i of its grid (host; see msc_table_lookup).
inline void msc_wentzel_node(const LogGrid& g, int i, double& ln_a, double& w2_over_w) {
  const double m = std::exp(g.ln_e0 + i / g.inv_dln);
  const double a = wentzel_screening_for_mean(m);
  ln_a = std::log(a);
  w2_over_w = wentzel_mean_w2(a) / m;
}

}  // namespace sabre::phys
