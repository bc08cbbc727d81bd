#include "engine/commission/fit.hh"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sabre::commission {

namespace {

// Solves (A_P^T A_P) z = A_P^T b for the columns in P (indices), Cholesky.
std::vector<double> solve_columns(const Matrix& A, const std::vector<double>& b, const std::vector<int>& P) {
  const int n = int(P.size());
  std::vector<double> M(std::size_t(n) * std::size_t(n), 0.0), r(std::size_t(n), 0.0);
  for (int i = 0; i < A.rows; ++i) {
    for (int p = 0; p < n; ++p) {
      const double ap = A(i, P[std::size_t(p)]);
      if (ap == 0) continue;
      r[std::size_t(p)] += ap * b[std::size_t(i)];
      for (int q = 0; q <= p; ++q) M[std::size_t(p) * std::size_t(n) + std::size_t(q)] += ap * A(i, P[std::size_t(q)]);
    }
  }
  // Cholesky M = L L^T (lower triangle in M).
  for (int j = 0; j < n; ++j) {
    double d = M[std::size_t(j) * std::size_t(n) + std::size_t(j)];
    for (int k = 0; k < j; ++k) d -= std::pow(M[std::size_t(j) * std::size_t(n) + std::size_t(k)], 2);
    if (!(d > 0)) throw std::runtime_error("least squares: the normal matrix is not positive definite");
    const double l = std::sqrt(d);
    M[std::size_t(j) * std::size_t(n) + std::size_t(j)] = l;
    for (int i = j + 1; i < n; ++i) {
      double s = M[std::size_t(i) * std::size_t(n) + std::size_t(j)];
      for (int k = 0; k < j; ++k)
        s -= M[std::size_t(i) * std::size_t(n) + std::size_t(k)] * M[std::size_t(j) * std::size_t(n) + std::size_t(k)];
      M[std::size_t(i) * std::size_t(n) + std::size_t(j)] = s / l;
    }
  }
  std::vector<double> y(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double s = r[std::size_t(i)];
    for (int k = 0; k < i; ++k) s -= M[std::size_t(i) * std::size_t(n) + std::size_t(k)] * y[std::size_t(k)];
    y[std::size_t(i)] = s / M[std::size_t(i) * std::size_t(n) + std::size_t(i)];
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = y[std::size_t(i)];
    for (int k = i + 1; k < n; ++k) s -= M[std::size_t(k) * std::size_t(n) + std::size_t(i)] * y[std::size_t(k)];
    y[std::size_t(i)] = s / M[std::size_t(i) * std::size_t(n) + std::size_t(i)];
  }
  return y;
}

}  // namespace

std::vector<double> least_squares(const Matrix& A, const std::vector<double>& b) {
  std::vector<int> all(std::size_t(A.cols));
  for (int j = 0; j < A.cols; ++j) all[std::size_t(j)] = j;
  return solve_columns(A, b, all);
}

std::vector<double> nnls(const Matrix& A, const std::vector<double>& b) {
  const int n = A.cols;
  std::vector<double> x(std::size_t(n), 0.0);
  std::vector<char> in_p(std::size_t(n), 0);
  auto gradient = [&](std::vector<double>& w) {  // w = A^T (b - A x)
    std::vector<double> res(b);
    for (int i = 0; i < A.rows; ++i)
      for (int j = 0; j < n; ++j) res[std::size_t(i)] -= A(i, j) * x[std::size_t(j)];
    w.assign(std::size_t(n), 0.0);
    for (int i = 0; i < A.rows; ++i)
      for (int j = 0; j < n; ++j) w[std::size_t(j)] += A(i, j) * res[std::size_t(i)];
  };
  double scale = 0;
  for (double v : A.a) scale = std::max(scale, std::abs(v));
  for (double v : b) scale = std::max(scale, std::abs(v));
  const double tol = 1e-12 * std::max(1.0, scale * scale) * std::max(A.rows, n);
  std::vector<double> w;
  for (int outer = 0; outer < 3 * n + 10; ++outer) {
    gradient(w);
    int t = -1;
    double wmax = tol;
    for (int j = 0; j < n; ++j)
      if (!in_p[std::size_t(j)] && w[std::size_t(j)] > wmax) { wmax = w[std::size_t(j)]; t = j; }
    if (t < 0) break;
    in_p[std::size_t(t)] = 1;
    for (int inner = 0; inner < 3 * n + 10; ++inner) {
      std::vector<int> P;
      for (int j = 0; j < n; ++j)
        if (in_p[std::size_t(j)]) P.push_back(j);
      const std::vector<double> z = solve_columns(A, b, P);
      bool feasible = true;
      for (double v : z) feasible = feasible && v > 0;
      if (feasible) {
        std::fill(x.begin(), x.end(), 0.0);
        for (std::size_t k = 0; k < P.size(); ++k) x[std::size_t(P[k])] = z[k];
        break;
      }
      // Step from x toward z as far as feasibility allows; drop the variables that hit 0.
      double alpha = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < P.size(); ++k)
        if (z[k] <= 0) {
          const double xv = x[std::size_t(P[k])];
          alpha = std::min(alpha, xv / (xv - z[k]));
        }
      if (!std::isfinite(alpha)) alpha = 0;
      for (std::size_t k = 0; k < P.size(); ++k) {
        double& xv = x[std::size_t(P[k])];
        xv += alpha * (z[k] - xv);
        if (xv <= 1e-15 * std::max(1.0, std::abs(z[k]))) {
          xv = 0;
          in_p[std::size_t(P[k])] = 0;
        }
      }
    }
  }
  return x;
}

namespace {
// 2 sigma of a chi2 with n degrees of freedom, relative to n: 2 sqrt(2 / n).
double chi2_spread(double n) { return 2 * std::sqrt(2 / std::max(n, 1.0)); }
}  // namespace

std::size_t pick_lambda_index(const std::vector<double>& chi2, double n, int unknowns) {
  if (chi2.empty()) return 0;
  const double lo = *std::min_element(chi2.begin(), chi2.end());
  const double ok = (n - unknowns >= 30 ? lo : std::max(n, lo)) * (1 + chi2_spread(n));
  for (std::size_t i = 0; i < chi2.size(); ++i)
    if (chi2[i] <= ok) return i;
  return chi2.size() - 1;
}

std::size_t pick_alternative_index(const std::vector<double>& freest_chi2, std::size_t kept, double n) {
  if (freest_chi2.empty() || kept >= freest_chi2.size()) return kept;
  const std::size_t best = std::size_t(std::min_element(freest_chi2.begin(), freest_chi2.end()) - freest_chi2.begin());
  const double spread = std::max(1.0, chi2_spread(n) * freest_chi2[best]);
  return freest_chi2[kept] <= freest_chi2[best] + spread ? kept : best;
}

double golden_min(const std::function<double(double)>& f, double lo, double hi, double tol) {
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
  double fc = f(c), fd = f(d);
  while (b - a > tol) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d); }
  }
  return 0.5 * (a + b);
}

double parabola_min(double x0, double f0, double x1, double f1, double x2, double f2) {
  const double den = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0);
  const double num = (x1 - x0) * (x1 - x0) * (f1 - f2) - (x1 - x2) * (x1 - x2) * (f1 - f0);
  if (den < 0) {  // upward-opening (den = -(x1-x0)(x2-x1) x the second divided difference)
    const double xm = x1 - 0.5 * num / den;
    if (xm >= x0 && xm <= x2) return xm;
  }
  if (f0 <= f1 && f0 <= f2) return x0;
  return f1 <= f2 ? x1 : x2;
}

// The fluence stage's regularisation (fit.hh).
RegularisationRows fluence_regularisation(const std::vector<double>& r_cm, const std::vector<double>& prior,
                                          const std::vector<int>& fit_knots) {
  RegularisationRows rows;
  const int nk = int(r_cm.size());
  auto fitted = [&](int k) {
    const auto it = std::find(fit_knots.begin(), fit_knots.end(), k);
    return it == fit_knots.end() ? -1 : int(it - fit_knots.begin());
  };
  auto inv = [&](int k) { return 1 / std::max(prior[std::size_t(k)], 1e-6); };
  // Rows up to the last fitted knot only: beyond, they would touch a knot no profile reaches
  // (fluence_extrapolate).
  const int last = fit_knots.empty() ? -1 : fit_knots.back();
  for (int k = 1; k + 1 < nk && k + 1 <= last; ++k) {
    std::vector<double> r(fit_knots.size(), 0.0);
    double b = 0;
    bool any = false;
    // The second derivative of the parabola through the three knots (exact zero for a line
    // whatever their spacing): 2 [(c+ - c) / h+ - (c - c-) / h-] / (h- + h+).
    const double hm = r_cm[std::size_t(k)] - r_cm[std::size_t(k - 1)], hp = r_cm[std::size_t(k + 1)] - r_cm[std::size_t(k)];
    const double coef[3] = {2 / (hm * (hm + hp)), -2 / (hm * hp), 2 / (hp * (hm + hp))};
    for (int d = -1; d <= 1; ++d) {
      const double a = coef[d + 1];
      const int q = fitted(k + d);
      if (q < 0) b -= a;  // c = 1 at a held knot
      else {
        r[std::size_t(q)] = a * inv(k + d);
        any = true;
      }
    }
    if (any) rows.emplace_back(std::move(r), b);
  }
  for (std::size_t q = 0; q < fit_knots.size(); ++q) {
    std::vector<double> r(fit_knots.size(), 0.0);
    r[q] = 0.01 * inv(fit_knots[q]);
    rows.emplace_back(std::move(r), 0.01);
  }
  return rows;
}

std::vector<int> fluence_extrapolate(const std::vector<double>& prior, const std::vector<int>& fit_knots,
                                     std::vector<double>& f) {
  std::vector<int> set;
  if (fit_knots.empty()) return set;
  const int last = fit_knots.back();
  const double c = f[std::size_t(last)] / std::max(prior[std::size_t(last)], 1e-6);
  for (std::size_t k = std::size_t(last) + 1; k < f.size(); ++k) {
    f[k] = prior[k] * c;
    set.push_back(int(k));
  }
  return set;
}

}  // namespace sabre::commission
