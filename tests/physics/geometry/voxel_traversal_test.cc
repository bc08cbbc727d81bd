// Voxel traversal: segment lengths against hand-worked rays.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "physics/geometry/voxel_traversal.hh"

using namespace sabre::phys;

namespace {
GridGeometry grid_3x3x3() {
  GridGeometry g;
  g.origin_cm = {-1.5, -1.5, 0};
  g.spacing_cm = {1, 1, 1};
  g.nx = g.ny = g.nz = 3;
  return g;
}
}  // namespace

TEST_CASE("grid_entry_exit finds the box faces", "[geometry]") {
  const GridGeometry g = grid_3x3x3();
  double a, b;
  REQUIRE(grid_entry_exit(g, {0, 0, -100}, {0, 0, 1}, a, b));
  CHECK(a == Approx(100));
  CHECK(b == Approx(103));
  CHECK_FALSE(grid_entry_exit(g, {0, 0, -100}, {0, 0, -1}, a, b));
  CHECK_FALSE(grid_entry_exit(g, {5, 0, -100}, {0, 0, 1}, a, b));
  // diagonal from inside
  const double s = 1 / std::sqrt(2.0);
  REQUIRE(grid_entry_exit(g, {0, 0, 1.5}, {s, 0, s}, a, b));
  CHECK(a == 0);
  CHECK(b == Approx(1.5 * std::sqrt(2.0)));
}

TEST_CASE("for_each_segment along an axis from the surface", "[geometry]") {
  const GridGeometry g = grid_3x3x3();
  std::vector<long> vox;
  std::vector<double> len;
  const double inside = for_each_segment(g, {0.2, 0.3, 0.0}, {0, 0, 1}, 10.0,
                                         [&](std::int64_t v, double s) {
                                           vox.push_back(long(v));
                                           len.push_back(s);
                                         });
  CHECK(inside == Approx(3.0));
  REQUIRE(vox.size() == 3);
  CHECK(vox[0] == g.index(1, 1, 0));
  CHECK(vox[1] == g.index(1, 1, 1));
  CHECK(vox[2] == g.index(1, 1, 2));
  for (double s : len) CHECK(s == Approx(1.0));
}

TEST_CASE("for_each_segment on a boundary moving down enters the lower voxel", "[geometry]") {
  const GridGeometry g = grid_3x3x3();
  std::vector<long> vox;
  std::vector<double> len;
  for_each_segment(g, {0.0, 0.0, 2.0}, {0, 0, -1}, 1.25, [&](std::int64_t v, double s) {
    vox.push_back(long(v));
    len.push_back(s);
  });
  REQUIRE(vox.size() == 2);
  CHECK(vox[0] == g.index(1, 1, 1));
  CHECK(len[0] == Approx(1.0));
  CHECK(vox[1] == g.index(1, 1, 0));
  CHECK(len[1] == Approx(0.25));
}

TEST_CASE("for_each_segment on an oblique ray sums to the chord", "[geometry]") {
  const GridGeometry g = grid_3x3x3();
  // from (-1.5, -1.2, 0.1) toward +x+y+z; chord length from the slab method
  Vec3 d{0.6, 0.48, 0.64};
  const double n = std::sqrt(dot(d, d));
  d = (1 / n) * d;
  const Vec3 p{-1.4, -1.2, 0.1};
  double a = 0, b = 0;
  REQUIRE(grid_entry_exit(g, p, d, a, b));
  double total = 0;
  int count = 0;
  const double inside = for_each_segment(g, p, d, 100.0, [&](std::int64_t v, double s) {
    REQUIRE(v >= 0);
    REQUIRE(v < g.size());
    REQUIRE(s > 0);
    total += s;
    ++count;
  });
  CHECK(total == Approx(b).epsilon(1e-12));
  CHECK(inside == Approx(b).epsilon(1e-12));
  CHECK(count >= 3);
  CHECK(count <= 7);
  // a partial segment is cut exactly
  double part = 0;
  for_each_segment(g, p, d, 0.37, [&](std::int64_t, double s) { part += s; });
  CHECK(part == Approx(0.37).epsilon(1e-14));
}
