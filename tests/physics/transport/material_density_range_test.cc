// material_density_range (physics/transport/material_density_range.hh): per material the
// smallest and largest density of its voxels, by brute force on a random phantom; the
// material-index check that the majorant, its blocks and the step-safety map rely on.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "physics/core/rng.hh"
#include "physics/transport/material_density_range.hh"

using namespace sabre::phys;

namespace {

PhantomView view(const GridGeometry& g, std::vector<std::int32_t>& mat, std::vector<float>& rho) {
  PhantomView ph;
  ph.grid = g;
  ph.material = mat.data();
  ph.density_g_cm3 = rho.data();
  return ph;
}

}  // namespace

TEST_CASE("Material density range: smallest and largest density per material",
          "[transport][efficiency]") {
  GridGeometry g;
  g.nx = 7;
  g.ny = 5;
  g.nz = 6;
  g.spacing_cm = {0.2, 0.2, 0.2};
  std::vector<std::int32_t> mat(std::size_t(g.size()));
  std::vector<float> rho(mat.size());
  Rng rng(11, 0, kStreamTest);
  // Materials 0, 1 and 3 of 5 (2 and 4 absent), densities from 0.001 to 2.
  const int used[] = {0, 1, 3};
  for (std::size_t v = 0; v < mat.size(); ++v) {
    mat[v] = used[std::min(2, int(rng.uniform() * 3))];
    rho[v] = float(0.001 + 2.0 * rng.uniform());
  }
  const MaterialDensityRange r = material_density_range(view(g, mat, rho), 5);
  REQUIRE(r.n_materials() == 5);
  REQUIRE(r.min.size() == 5);
  for (int m = 0; m < 5; ++m) {
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    int count = 0;
    for (std::size_t v = 0; v < mat.size(); ++v)
      if (mat[v] == m) {
        lo = std::min(lo, double(rho[v]));
        hi = std::max(hi, double(rho[v]));
        ++count;
      }
    CHECK((count > 0) == (m == 0 || m == 1 || m == 3));
    CHECK(r.min[std::size_t(m)] == lo);
    CHECK(r.max[std::size_t(m)] == hi);
    if (count > 0)
      CHECK(r.min[std::size_t(m)] < r.max[std::size_t(m)]);  // not vacuous: spread densities
  }
  CHECK(std::isinf(r.min[2]));
  CHECK(r.max[2] == 0);
}

TEST_CASE("Material density range refuses a material index outside the table set",
          "[transport][efficiency]") {
  GridGeometry g;
  g.nx = 2;
  g.ny = g.nz = 1;
  g.spacing_cm = {1, 1, 1};
  std::vector<float> rho{1.0f, 0.5f};
  std::vector<std::int32_t> mat{0, 5};
  CHECK_THROWS_AS(material_density_range(view(g, mat, rho), 5), std::logic_error);
  CHECK_NOTHROW(material_density_range(view(g, mat, rho), 6));
  mat = {-1, 0};
  CHECK_THROWS_AS(material_density_range(view(g, mat, rho), 6), std::logic_error);
}
