// A bound on the photons' attenuation per block of voxels (host only; used by
// physics/photon/photon_transport.hh; docs/efficiency.md "Fictitious events decided per block").
// The grid is cut into blocks of B x B x B voxels, B = 2^shift (the last block along an axis
// takes what is left); per block b its largest density rho_b. With M(E) = max over the
// phantom's materials of mu/rho(E), every voxel v of block b has
//   mu_v(E) = mu/rho_m(v)(E) rho_v <= M(E) rho_b,
// also between grid points (the linear interpolation of a pointwise maximum is >= each
// interpolated row). A Woodcock candidate in block b whose acceptance number u mu_max is at
// least M rho_b is therefore fictitious whatever the voxel holds: the transport decides it
// without reading the voxel's material and density.
#pragma once

#include <vector>

#include "physics/transport/material_density_range.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

// log2 of the voxels per block side: 4 voxels (1 cm at 2.5 mm, 2 x 2 x 1 cm at R1's
// 5 x 5 x 2.5 mm, 4 mm at 1 mm; tests/physics/transport/block_majorant_test.cc).
inline constexpr int kMajorantBlockShift = 2;

struct BlockMajorantStorage {
  std::vector<float> max_density;  // [block] largest density [g/cm^3]
  std::vector<double> mu_rho_row;  // [photon grid point] M(E) [cm^2/g]
  int shift = 0;
  int count[3] = {0, 0, 0};
};

// The blocks of `phantom`, whose densities per material are `range`
// (material_density_range(phantom, md.n_materials): it checks the material indices), and M on
// md's photon grid.
BlockMajorantStorage block_majorant(const PhantomView& phantom, const MaterialData& md,
                                    const MaterialDensityRange& range,
                                    int shift = kMajorantBlockShift);

// Whether the blocks can ever decide a candidate: only if some block's largest density is
// below the phantom's (M >= the phantom-wide majorant row, so a block at the phantom's largest
// density bounds nothing better). A homogeneous phantom (R1) has none.
bool block_majorant_useful(const BlockMajorantStorage& s);

// Computes it for tp.phantom (densities per material: `range`) into `storage` and, when
// block_majorant_useful, points tp.phantom's block fields and
// tp.materials.photon.block_majorant_mu_rho at it (otherwise clears them: the transport reads every
// candidate's voxel); `storage` must outlive tp's use.
void use_block_majorant(TransportParams& tp, const MaterialDensityRange& range,
                        BlockMajorantStorage& storage, int shift = kMajorantBlockShift);

}  // namespace sabre::phys
