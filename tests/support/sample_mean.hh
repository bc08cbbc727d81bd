#pragma once
// Sample mean of n draws of a weight and its standard error, for tests that check an
// estimator's expectation against a reference at a stated number of sigma.
#include <algorithm>
#include <cmath>
#include <utility>

namespace sabre::testing {

template <class Draw>
std::pair<double, double> sample_mean(Draw&& draw, int n) {
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double w = draw();
    s += w;
    s2 += w * w;
  }
  const double m = s / n;
  return {m, std::sqrt(std::max(0.0, s2 / n - m * m) / n)};
}

}  // namespace sabre::testing
