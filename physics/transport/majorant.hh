// The Woodcock majorant for one phantom (host only): the table set's majorant row is the
// maximum over ALL its materials (tungsten included), which makes water phantoms take ~25x
// more fictitious flights than needed at 0.1 MeV. For a given phantom, the row
//   r_i = max over materials m present of  mu_rho_total[m][i] * rho_max(m) / rho_max
// (rho_max(m): the largest density of material m in the phantom, rho_max: the phantom's)
// keeps the meaning "majorant mu/rho x the phantom's largest density" and bounds mu in every
// voxel at every energy: at grid points by construction, between them because linear
// interpolation of a pointwise maximum is >= each interpolated row.
#pragma once

#include <vector>

#include "physics/geometry/voxel_grid.hh"
#include "physics/materials/material_data.hh"
#include "physics/transport/material_density_range.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

// Per photon grid point: max over materials m with weight[m] > 0 of mu_rho_total[m] x weight[m].
// Also used by block_majorant.hh.
std::vector<double> weighted_mu_rho_maximum(const MaterialData& md, const std::vector<double>& weight);

// Returns the row (on the photon table's grid) for a phantom whose densities per material are
// `range` (material_density_range(phantom, md.n_materials)); point a copy of MaterialData's
// photon.majorant_mu_rho.values at it (and keep the vector alive).
std::vector<double> phantom_majorant_row(const MaterialData& md, const MaterialDensityRange& range);

// The usual use of it: computes the row for tp.phantom (whose densities per material are
// `range`) into `storage` and points tp.materials.photon.majorant_mu_rho at it (`storage`
// must outlive tp's use).
void use_phantom_majorant(TransportParams& tp, const MaterialDensityRange& range,
                          std::vector<double>& storage);

}  // namespace sabre::phys
