// use_phantom_derived_data (physics/transport/phantom_derived.hh) points the transport at
// both derived arrays, each equal to what its own builder computes, in storage it owns.
#include <catch2/catch.hpp>

#include <vector>

#include "physics/transport/phantom_derived.hh"
#include "tests/physics/photon/hand_tables.hh"

using namespace sabre::phys;

TEST_CASE("Phantom derived data: majorant row and safety map both attached", "[transport][majorant]") {
  sabre::test::HandTables t;
  // 4 x 3 x 3 voxels: material 0 except one column of material 1 at i = 3.
  GridGeometry g;
  g.spacing_cm = {0.5, 0.4, 0.3};
  g.nx = 4;
  g.ny = g.nz = 3;
  std::vector<std::int32_t> mat(std::size_t(g.size()), 0);
  std::vector<float> rho(std::size_t(g.size()), 1.0f);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j) {
      mat[std::size_t(g.index(3, j, k))] = 1;
      rho[std::size_t(g.index(3, j, k))] = 0.3f;
    }
  rho[std::size_t(g.index(1, 1, 1))] = 0.8f;
  TransportParams tp;
  tp.phantom.grid = g;
  tp.phantom.material = mat.data();
  tp.phantom.density_g_cm3 = rho.data();
  tp.phantom.max_density_g_cm3 = 1.0f;
  tp.materials = t.data;
  const double* table_majorant = tp.materials.photon.majorant_mu_rho.values;

  PhantomDerivedStorage d;
  use_phantom_derived_data(tp, d);

  const std::vector<double> row =
      phantom_majorant_row(t.data, material_density_range(tp.phantom, t.data.n_materials));
  REQUIRE(d.majorant == row);
  CHECK(tp.materials.photon.majorant_mu_rho.values == d.majorant.data());
  CHECK(tp.materials.photon.majorant_mu_rho.values != table_majorant);

  const StepSafetyStorage s =
      step_safety_map(tp.phantom, material_density_range(tp.phantom, t.data.n_materials));
  CHECK(d.safety.voxels == s.voxels);
  CHECK(d.safety.min_density == s.min_density);
  CHECK(tp.phantom.step_safety == d.safety.voxels.data());
  CHECK(tp.phantom.material_min_density_g_cm3 == d.safety.min_density.data());
  // Voxel (1, 1, 1): the 3 x 3 x 3 voxels around it are inside the grid and all material 0,
  // the 5 x 5 x 5 are not: safety 2; its neighbour (2, 1, 1) touches the column: 1. Material
  // 0's smallest density is the 0.8 placed at (1, 1, 1), material 1's the column's 0.3.
  CHECK(d.safety.voxels[std::size_t(g.index(1, 1, 1))] == 2);
  CHECK(d.safety.voxels[std::size_t(g.index(2, 1, 1))] == 1);
  CHECK(d.safety.min_density[0] == 0.8f);
  CHECK(d.safety.min_density[1] == 0.3f);
}
