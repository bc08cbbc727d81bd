// The far-step safety map (physics/transport/step_safety.hh): the two-pass chamfer against
// its definition evaluated by brute force (the smallest cube around a voxel that reaches
// another material or the outside of the grid), on random phantoms of blobs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "physics/core/rng.hh"
#include "physics/transport/step_safety.hh"

using namespace sabre::phys;

namespace {

// Definition: n such that the cube of half-width n - 1 (voxels) around v is inside the grid
// and all of v's material, and the cube of half-width n is not.
int safety_by_definition(const PhantomView& ph, int i, int j, int k) {
  const GridGeometry& g = ph.grid;
  const int m = ph.material[g.index(i, j, k)];
  for (int r = 1;; ++r) {
    for (int c = k - r; c <= k + r; ++c)
      for (int b = j - r; b <= j + r; ++b)
        for (int a = i - r; a <= i + r; ++a) {
          if (a < 0 || a >= g.nx || b < 0 || b >= g.ny || c < 0 || c >= g.nz) return r;
          if (ph.material[g.index(a, b, c)] != m) return r;
        }
  }
}

}  // namespace

TEST_CASE("Step safety map equals its definition on random phantoms", "[transport][efficiency]") {
  Rng rng(17, 0, kStreamTest);
  for (int trial = 0; trial < 6; ++trial) {
    GridGeometry g;
    g.nx = 9 + trial;
    g.ny = 14 - trial;
    g.nz = 11 + 2 * trial;
    g.spacing_cm = {0.3, 0.2, 0.25};
    std::vector<std::int32_t> mat(std::size_t(g.size()), 0);
    std::vector<float> rho(std::size_t(g.size()), 1.0f);
    // A few boxes of materials 1 and 2 (trial 0: one material only, the grid's surface alone).
    for (int box = 0; box < trial; ++box) {
      const int m = 1 + box % 2;
      const int i0 = int(rng.uniform() * g.nx), j0 = int(rng.uniform() * g.ny), k0 = int(rng.uniform() * g.nz);
      const int w = 1 + int(rng.uniform() * 4);
      for (int k = k0; k < std::min(g.nz, k0 + w); ++k)
        for (int j = j0; j < std::min(g.ny, j0 + w + 1); ++j)
          for (int i = i0; i < std::min(g.nx, i0 + w); ++i) mat[std::size_t(g.index(i, j, k))] = m;
    }
    for (std::size_t v = 0; v < rho.size(); ++v) rho[v] = float(0.2 + 1.5 * rng.uniform());
    PhantomView ph;
    ph.grid = g;
    ph.material = mat.data();
    ph.density_g_cm3 = rho.data();
    const StepSafetyStorage s = step_safety_map(ph, material_density_range(ph, 4));
    REQUIRE(s.voxels.size() == rho.size());
    int mismatches = 0, deepest = 0;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const int want = safety_by_definition(ph, i, j, k);
          deepest = std::max(deepest, want);
          if (s.voxels[std::size_t(g.index(i, j, k))] != want) ++mismatches;
        }
    CHECK(mismatches == 0);
    CHECK(deepest >= 3);  // not vacuous: the interiors are several voxels deep
    // Per material, the smallest density present; +inf for material 3 (absent).
    for (int m = 0; m < 3; ++m) {
      float want = std::numeric_limits<float>::infinity();
      for (std::size_t v = 0; v < rho.size(); ++v)
        if (mat[v] == m) want = std::min(want, rho[v]);
      CHECK(s.min_density[std::size_t(m)] == want);
    }
    CHECK(std::isinf(s.min_density[3]));
  }
}

TEST_CASE("Step safety map of a single voxel", "[transport][efficiency]") {
  GridGeometry g;
  g.nx = g.ny = g.nz = 1;
  g.spacing_cm = {1, 1, 1};
  std::vector<std::int32_t> mat{5};
  std::vector<float> rho{1.0f};
  PhantomView ph;
  ph.grid = g;
  ph.material = mat.data();
  ph.density_g_cm3 = rho.data();
  // (A material index outside the table set is refused by material_density_range:
  // tests/physics/transport/material_density_range_test.cc.)
  const StepSafetyStorage s = step_safety_map(ph, material_density_range(ph, 6));
  CHECK(s.voxels[0] == 1);  // a single voxel touches the outside
  CHECK(s.min_density[5] == 1.0f);
  CHECK(std::isinf(s.min_density[0]));
}
