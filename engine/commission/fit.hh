// Small dense least-squares tools for commissioning fits (tens of unknowns). Host only.
#pragma once

#include <array>
#include <functional>
#include <utility>
#include <vector>

namespace sabre::commission {

// A dense matrix, row-major.
struct Matrix {
  int rows = 0, cols = 0;
  std::vector<double> a;
  Matrix() = default;
  Matrix(int r, int c) : rows(r), cols(c), a(std::size_t(r) * std::size_t(c), 0.0) {}
  double& operator()(int i, int j) { return a[std::size_t(i) * std::size_t(cols) + std::size_t(j)]; }
  double operator()(int i, int j) const { return a[std::size_t(i) * std::size_t(cols) + std::size_t(j)]; }
};

// min ||A x - b||^2 (unconstrained) by the normal equations with a Cholesky factorisation
// (A well conditioned or regularised by the caller). Throws std::runtime_error when A^T A is
// not positive definite.
std::vector<double> least_squares(const Matrix& A, const std::vector<double>& b);

// min ||A x - b||^2 subject to x >= 0 (Lawson and Hanson, "Solving Least Squares Problems",
// 1974, chapter 23: the active-set NNLS algorithm).
std::vector<double> nnls(const Matrix& A, const std::vector<double>& b);

// Minimises f on [lo, hi] by golden-section search to a bracket of `tol` (f unimodal there);
// returns the abscissa.
double golden_min(const std::function<double(double)>& f, double lo, double hi, double tol);

// The minimum of the parabola through three points (x0 < x1 < x2) when it opens upward and
// lies inside [x0, x2]; otherwise the best of the three.
double parabola_min(double x0, double f0, double x1, double f1, double x2, double f2);

// The regularisation strength of a set of Tikhonov fits, given their chi2 (largest lambda
// first, the last the least regularised) over n points with `unknowns` fitted values (free
// scales included): the index of the largest lambda whose chi2 <= bound.
// With n - unknowns >= 30, bound = chi2_min (1 + 2 sqrt(2 / n)): the 2-sigma spread of a chi2
// with n degrees of freedom (relative) about the smallest chi2 reached. A discrepancy principle
// whose noise level is estimated from the residuals of the least regularised fit (its chi2
// has >= 30 degrees of freedom: within ~25 % at 1 sigma) rather than taken from the stated
// sigmas, in both directions: stated too small (correlated Monte Carlo points), no regularised
// fit would pass a bound at n; stated too large, the prior would always pass it. The
// commissioning recovery (validation/commissioning-recovery) had the second: chi2 618 for
// 1 027 points at the freest fit, so the bound at n kept the starting spectrum (chi2 911)
// although a freer one lowered chi2 by ~290.
// With fewer points (a depth dose given as PDD(10) and d_max, as the bundled TrueBeams were
// commissioned), the residuals cannot estimate the noise (the freest fit goes through the
// points): bound = max(n, chi2_min) (1 + 2 sqrt(2 / n)), the stated sigmas taken as right
// (the rule before 2026-12-05 for every n). 0 when chi2 is empty.
std::size_t pick_lambda_index(const std::vector<double>& chi2, double n, int unknowns);

// The regularisation weights the spectrum and fluence stages try (pick_lambda_index), largest
// (closest to the prior) first; the fluence stage's grid has stopped at 10 since it was written.
inline constexpr std::array<double, 10> kSpectrumLambdas{1e6, 1e5, 1e4, 1e3, 1e2, 10.0, 1.0, 0.1, 0.01, 0.001};
inline constexpr std::array<double, 6> kFluenceLambdas{1e6, 1e5, 1e4, 1e3, 1e2, 10.0};

// Which of several alternative fits (a discrete model choice, e.g. the electrons' mean
// energy), given each one's least regularised chi2 over n points: `kept` (the current
// model's) unless another one's is lower by more than max(1, 2 sqrt(2 / n) chi2_min), the
// spread pick_lambda_index allows; then the lowest. `kept` when chi2 has one entry.
std::size_t pick_alternative_index(const std::vector<double>& freest_chi2, std::size_t kept, double n);

// Rows of a Tikhonov term, each with its right-hand side: || sqrt(lambda) (R x - b) ||^2.
using RegularisationRows = std::vector<std::pair<std::vector<double>, double>>;

// The off-axis fluence stage's regularisation at lambda = 1, over the fitted knots' values f
// (knots `fit_knots` of `r_cm`, ascending; the others are held at `prior`): for each interior
// knot, the second derivative (per cm^2, of the parabola through it and its neighbours) of the
// correction c = f / prior (c = 1 at a held knot inside the last fitted one: the axis), and for
// each fitted knot a pull 0.01 (c - 1). The second derivatives vanish for any c linear in r
// that is 1 on the axis (c = 1 + b r): a smooth correction of the prior's shape costs only the
// weak pull, its curvature costs lambda. Knots beyond the last fitted one (no profile reaches
// them) enter no row (held at c = 1 there, before 2026-12-05, they charged a correction linear
// in r for its kink at the last fitted knot), and fluence_extrapolate sets them after the fit.
RegularisationRows fluence_regularisation(const std::vector<double>& r_cm, const std::vector<double>& prior,
                                          const std::vector<int>& fit_knots);

// The knots beyond the last fitted one (`fit_knots`, ascending) take that knot's correction:
// f_k = prior_k x f_last / prior_last (the correction carried on flat, not extrapolated: no
// data reach them). The knots inside are not changed. Returns the indices it set.
std::vector<int> fluence_extrapolate(const std::vector<double>& prior, const std::vector<int>& fit_knots,
                                     std::vector<double>& f);

}  // namespace sabre::commission
