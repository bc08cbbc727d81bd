// Marching squares (engine/viz/contour.hh) and the dose sampler of the pictures.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/dose_result.hh"
#include "engine/viz/contour.hh"
#include "engine/viz/dose_pictures.hh"

using namespace sabre::viz;

TEST_CASE("isolines of a cone are a closed polygon on the right circle", "[viz]") {
  // f = r (distance from (20, 20)); the level-10.3 isoline is the circle of radius 10.3
  // (a radius that passes through no grid point: each crossing is shared by two cells).
  const int n = 41;
  std::vector<double> f(n * n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) f[i + n * j] = std::hypot(i - 20.0, j - 20.0);
  const auto segs = isolines(f, n, n, 10.3);
  REQUIRE(segs.size() > 40);
  double len = 0;
  for (const auto& s : segs) {
    // Every end point lies on the circle (linear interpolation of r along grid edges:
    // off by far less than a cell).
    CHECK(std::abs(std::hypot(s.x0 - 20, s.y0 - 20) - 10.3) < 0.05);
    CHECK(std::abs(std::hypot(s.x1 - 20, s.y1 - 20) - 10.3) < 0.05);
    len += std::hypot(s.x1 - s.x0, s.y1 - s.y0);
  }
  // Perimeter 2 pi r, chords slightly shorter.
  CHECK(len == Approx(2 * M_PI * 10.3).epsilon(0.01));
  // Closed: every end point is shared by exactly two segment ends.
  int unmatched = 0;
  for (std::size_t a = 0; a < segs.size(); ++a) {
    for (int e = 0; e < 2; ++e) {
      const double x = e ? segs[a].x1 : segs[a].x0, y = e ? segs[a].y1 : segs[a].y0;
      int hits = 0;
      for (std::size_t b = 0; b < segs.size(); ++b)
        for (int g = 0; g < 2; ++g) {
          const double u = g ? segs[b].x1 : segs[b].x0, v = g ? segs[b].y1 : segs[b].y0;
          if (std::abs(u - x) < 1e-9 && std::abs(v - y) < 1e-9) ++hits;
        }
      if (hits != 2) ++unmatched;
    }
  }
  CHECK(unmatched == 0);
}

TEST_CASE("isolines: flat fields give none, a step gives a straight line at the crossing", "[viz]") {
  std::vector<double> flat(25, 1.0);
  CHECK(isolines(flat, 5, 5, 0.5).empty());
  CHECK(isolines(flat, 5, 5, 2.0).empty());
  // f = i: the level 2.25 crosses at x = 2.25 on every row pair.
  std::vector<double> ramp(25);
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 5; ++i) ramp[i + 5 * j] = i;
  const auto segs = isolines(ramp, 5, 5, 2.25);
  REQUIRE(segs.size() == 4);
  for (const auto& s : segs) {
    CHECK(s.x0 == Approx(2.25));
    CHECK(s.x1 == Approx(2.25));
  }
  CHECK_THROWS(isolines(ramp, 4, 5, 1.0));
}

TEST_CASE("isolines: saddles are resolved by the cell mean", "[viz]") {
  // Corners 0 and 2 high (1), 1 and 3 low (0): mean 0.5.
  const std::vector<double> f{1, 0, 0, 1};  // (0,0)=1 (1,0)=0 (0,1)=0 (1,1)=1
  const auto low = isolines(f, 2, 2, 0.4);   // centre high: the low corners are cut off
  const auto high = isolines(f, 2, 2, 0.6);  // centre low: the high corners are cut off
  REQUIRE(low.size() == 2);
  REQUIRE(high.size() == 2);
  // Cutting off corner (1,0) joins its two edges: segment midpoints lie near that corner.
  auto near = [](const std::vector<Segment>& s, double cx, double cy) {
    for (const auto& g : s)
      if (std::hypot(0.5 * (g.x0 + g.x1) - cx, 0.5 * (g.y0 + g.y1) - cy) < 0.5) return true;
    return false;
  };
  CHECK(near(low, 1, 0));
  CHECK(near(low, 0, 1));
  CHECK(near(high, 0, 0));
  CHECK(near(high, 1, 1));
}

TEST_CASE("sample_dose interpolates between voxel centres and is 0 outside", "[viz]") {
  sabre::DoseResult d;
  d.grid.nx = 2, d.grid.ny = 1, d.grid.nz = 1;
  d.grid.origin_cm = {0, 0, 0};
  d.grid.spacing_cm = {1, 1, 1};
  d.dose_gy = {1.0, 3.0};
  CHECK(sample_dose(d, 0.5, 0.5, 0.5) == Approx(1.0));
  CHECK(sample_dose(d, 1.0, 0.5, 0.5) == Approx(2.0));
  CHECK(sample_dose(d, 1.5, 0.5, 0.5) == Approx(3.0));
  CHECK(sample_dose(d, 1.9, 0.5, 0.5) == Approx(3.0));  // beyond the last centre: clamped
  CHECK(sample_dose(d, 2.5, 0.5, 0.5) == 0.0);
  CHECK(sample_dose(d, -0.6, 0.5, 0.5) == 0.0);
}
