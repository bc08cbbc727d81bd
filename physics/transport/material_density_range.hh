// Per material, the smallest and largest density of its voxels in one phantom (host only).
// The Woodcock majorant (majorant.hh) and its blocks (block_majorant.hh) need the largest,
// the far-step safety map (step_safety.hh) the smallest; use_phantom_derived_data
// (phantom_derived.hh) walks the grid once for all three.
#pragma once

#include <vector>

#include "physics/geometry/voxel_grid.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

struct MaterialDensityRange {
  // [material] densities [g/cm^3]: the smallest (+inf where the material has no voxel) and
  // the largest (0 where it has none)
  std::vector<double> min;
  std::vector<double> max;
  int n_materials() const { return int(max.size()); }
};

// For material indices 0 .. n_materials - 1; a voxel whose material index is outside that
// range throws std::logic_error.
MaterialDensityRange material_density_range(const PhantomView& phantom, int n_materials);

// The same for a transport's phantom against its table set.
inline MaterialDensityRange material_density_range(const TransportParams& tp) {
  return material_density_range(tp.phantom, tp.materials.n_materials);
}

}  // namespace sabre::phys
