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

// ------------------------------------------------ non-uniform boundaries (issue 26)

namespace {
// x: planes -3, -1, -0.5, 0, 0.5, 1, 3 (widths 2, 0.5 x 4, 2); y, z uniform as grid_3x3x3.
const double kXEdges[7] = {-3, -1, -0.5, 0, 0.5, 1, 3};
GridGeometry grid_nonuniform_x() {
  GridGeometry g = grid_3x3x3();
  g.nx = 6;
  g.origin_cm.x = -3;
  g.spacing_cm.x = 0.5;  // smallest width
  g.edges_cm[0] = kXEdges;
  return g;
}
}  // namespace

TEST_CASE("non-uniform axis: cell, plane, width, volume and locate by hand", "[geometry]") {
  const GridGeometry g = grid_nonuniform_x();
  CHECK_FALSE(g.uniform());
  CHECK(g.cell(0, -3.0) == 0);
  CHECK(g.cell(0, -1.0001) == 0);
  CHECK(g.cell(0, -1.0) == 1);
  CHECK(g.cell(0, 0.25) == 3);
  CHECK(g.cell(0, 2.999) == 5);
  CHECK(g.cell(0, 3.0) == 6);     // at or above the last plane: n
  CHECK(g.cell(0, -3.5) == -1);   // below the first: -1
  CHECK(g.plane(0, 6) == 3.0);
  CHECK(g.width(0, 0) == 2.0);
  CHECK(g.width(0, 2) == 0.5);
  CHECK(g.voxel_volume_cm3(g.index(0, 1, 1)) == 2.0);
  CHECK(g.voxel_volume_cm3(g.index(3, 0, 2)) == 0.5);
  const Vec3 c = g.voxel_centre(1, 0, 2);
  CHECK(c.x == -0.75);
  CHECK(c.y == -1.0);
  CHECK(c.z == 2.5);
  CHECK(g.upper_cm().x == 3.0);
  int i, j, k;
  CHECK(g.locate({2.0, 0.0, 0.5}, i, j, k));
  CHECK(i == 5);
  CHECK_FALSE(g.locate({3.0, 0.0, 0.5}, i, j, k));
}

TEST_CASE("non-uniform axis: a ray along x crosses each voxel for its width", "[geometry]") {
  const GridGeometry g = grid_nonuniform_x();
  std::vector<long> vox;
  std::vector<double> len;
  double a, b;
  REQUIRE(grid_entry_exit(g, {-10, 0.2, 0.7}, {1, 0, 0}, a, b));
  CHECK(a == 7.0);
  CHECK(b == 13.0);
  const double inside = for_each_segment(g, {-3, 0.2, 0.7}, {1, 0, 0}, 100.0, [&](std::int64_t v, double s) {
    vox.push_back(long(v));
    len.push_back(s);
  });
  CHECK(inside == Approx(6.0).epsilon(1e-15));
  REQUIRE(vox.size() == 6);
  for (int c = 0; c < 6; ++c) {
    CHECK(vox[std::size_t(c)] == g.index(c, 1, 0));
    CHECK(len[std::size_t(c)] == Approx(kXEdges[c + 1] - kXEdges[c]).epsilon(1e-15));
  }
  // On the plane x = 0 moving down: the voxel below (c = 2, [-0.5, 0)).
  vox.clear();
  len.clear();
  for_each_segment(g, {0.0, 0.0, 0.5}, {-1, 0, 0}, 0.75, [&](std::int64_t v, double s) {
    vox.push_back(long(v));
    len.push_back(s);
  });
  REQUIRE(vox.size() == 2);
  CHECK(vox[0] == g.index(2, 1, 0));
  CHECK(len[0] == Approx(0.5));
  CHECK(vox[1] == g.index(1, 1, 0));
  CHECK(len[1] == Approx(0.25));
}

TEST_CASE("non-uniform planes equal to a uniform grid's walk the same voxels, same lengths", "[geometry]") {
  // The uniform grid's planes written out as edges: every oblique ray gives the same voxel
  // sequence and the same segment lengths (the plane coordinates are the same doubles).
  const GridGeometry u = grid_3x3x3();
  double ex[4], ey[4], ez[4];
  for (int c = 0; c <= 3; ++c) ex[c] = u.plane(0, c), ey[c] = u.plane(1, c), ez[c] = u.plane(2, c);
  GridGeometry e = u;
  e.edges_cm[0] = ex;
  e.edges_cm[1] = ey;
  e.edges_cm[2] = ez;
  std::uint64_t s = 12345;
  auto next = [&s] {  // xorshift: a fixed set of rays
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return double(s >> 11) / 9007199254740992.0;
  };
  for (int r = 0; r < 200; ++r) {
    const Vec3 p{-1.5 + 3 * next(), -1.5 + 3 * next(), 3 * next()};
    Vec3 d{next() - 0.5, next() - 0.5, next() - 0.5};
    d = (1 / std::sqrt(dot(d, d))) * d;
    std::vector<std::pair<long, double>> a, b;
    for_each_segment(u, p, d, 10.0, [&](std::int64_t v, double l) { a.emplace_back(long(v), l); });
    for_each_segment(e, p, d, 10.0, [&](std::int64_t v, double l) { b.emplace_back(long(v), l); });
    CHECK(a == b);
  }
}
