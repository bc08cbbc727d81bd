// The far-step safety map for one phantom (host only; docs/efficiency.md, "Longer electron
// steps away from interfaces"). Per voxel, the Chebyshev distance in voxels to the nearest
// voxel of another material or to the outside of the grid: 1 for a voxel that touches one
// (faces, edges or corners), n when the (2n - 1)^3 voxels centred on it are all of its
// material and inside the grid; capped at 255. Per material, its smallest density in the
// phantom (+inf for a material not present). A point p in voxel v of material m with safety
// n >= 2 lies at least (n - 1) h_min + (p's distance to v's faces) from any other material
// and from the grid's surface (h_min: the smallest voxel width), so an electron step of mass
// thickness t <= rho_min(m) x that distance cannot reach them: its path, hence its
// displacement, is at most t / rho_min(m) long.
#pragma once

#include <cstdint>
#include <vector>

#include "physics/geometry/voxel_grid.hh"
#include "physics/transport/material_density_range.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

struct StepSafetyStorage {
  std::vector<std::uint8_t> voxels;  // [voxel] Chebyshev distance, 1..255
  std::vector<float> min_density;    // [material] smallest density in the phantom [g/cm^3]
};

// The map for `phantom`, whose densities per material are `range`
// (material_density_range(phantom, n_materials): it checks the material indices).
StepSafetyStorage step_safety_map(const PhantomView& phantom, const MaterialDensityRange& range);

// Computes it for tp.phantom (densities per material: `range`) into `storage` and points
// tp.phantom.step_safety and tp.phantom.material_min_density_g_cm3 at it (`storage` must outlive
// tp's use).
void use_step_safety(TransportParams& tp, const MaterialDensityRange& range,
                     StepSafetyStorage& storage);

}  // namespace sabre::phys
