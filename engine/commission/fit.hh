// Small dense least-squares tools for commissioning fits (tens of unknowns). Host only.
#pragma once

#include <functional>
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

}  // namespace sabre::commission
