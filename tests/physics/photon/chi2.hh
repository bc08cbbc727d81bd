// Pearson chi-square helpers for sampling tests.
#pragma once

#include <cmath>
#include <vector>

namespace sabre::test {

// Upper quantile of the chi-square distribution with k degrees of freedom, by the
// Wilson-Hilferty approximation [E. B. Wilson and M. M. Hilferty, PNAS 17 (1931) 684]
// (relative error < 1 % for k >= 10). z: the standard normal quantile (3.0902 = 99.9 %).
inline double chi2_quantile(int k, double z = 3.0902) {
  const double a = 2.0 / (9.0 * k);
  const double t = 1.0 - a + z * std::sqrt(a);
  return k * t * t * t;
}

// Pearson statistic of observed counts against expected probabilities (sum 1) for n
// samples; bins with expectation < 5 are merged into their neighbour.
inline double chi2_statistic(const std::vector<long>& observed, const std::vector<double>& prob,
                             long n, int& dof) {
  double chi2 = 0, o = 0, e = 0;
  int bins = 0;
  for (size_t b = 0; b < observed.size(); ++b) {
    o += observed[b];
    e += prob[b] * n;
    if (e >= 5 || b + 1 == observed.size()) {
      chi2 += (o - e) * (o - e) / e;
      ++bins;
      o = e = 0;
    }
  }
  dof = bins - 1;
  return chi2;
}

// Simpson integral of f over [a, b] with 2n intervals.
template <class F>
double simpson(F f, double a, double b, int n = 200) {
  const double h = (b - a) / (2 * n);
  double s = f(a) + f(b);
  for (int i = 1; i < 2 * n; ++i) s += f(a + i * h) * (i % 2 ? 4 : 2);
  return s * h / 3;
}

}  // namespace sabre::test
