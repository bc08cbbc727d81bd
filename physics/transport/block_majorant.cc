#include "physics/transport/block_majorant.hh"

#include "physics/transport/majorant.hh"

#include <algorithm>
#include <stdexcept>

namespace sabre::phys {

BlockMajorantStorage block_majorant(const PhantomView& phantom, const MaterialData& md,
                                    const MaterialDensityRange& range, int shift) {
  if (shift < 0 || shift > 16) throw std::logic_error("block_majorant: block shift out of range");
  if (range.n_materials() != md.n_materials)
    throw std::logic_error("block_majorant: density range for another number of materials");
  const GridGeometry& g = phantom.grid;
  const int side = 1 << shift;
  BlockMajorantStorage s;
  s.shift = shift;
  for (int a = 0; a < 3; ++a) s.count[a] = (g.count(a) + side - 1) / side;
  s.max_density.assign(std::size_t(s.count[0]) * s.count[1] * s.count[2], 0.0f);
  // M over the materials with some density above 0 (material indices were checked by
  // material_density_range), by the helper shared with the phantom-wide majorant (majorant.hh).
  std::vector<double> present(range.max.size());
  for (std::size_t m = 0; m < present.size(); ++m) present[m] = range.max[m] > 0 ? 1.0 : 0.0;
  s.mu_rho_row = weighted_mu_rho_maximum(md, present);
  for (int k = 0; k < g.nz; ++k) {
    for (int j = 0; j < g.ny; ++j) {
      const std::int64_t row = g.index(0, j, k);
      const std::int64_t brow = std::int64_t(s.count[0]) * ((j >> shift) + std::int64_t(s.count[1]) * (k >> shift));
      for (int i = 0; i < g.nx; ++i) {
        float& b = s.max_density[std::size_t(brow + (i >> shift))];
        b = std::max(b, phantom.density_g_cm3[row + i]);
      }
    }
  }
  return s;
}

bool block_majorant_useful(const BlockMajorantStorage& s) {
  if (s.max_density.empty()) return false;
  const auto [lo, hi] = std::minmax_element(s.max_density.begin(), s.max_density.end());
  return *lo < *hi;
}

void use_block_majorant(TransportParams& tp, const MaterialDensityRange& range,
                        BlockMajorantStorage& storage, int shift) {
  storage = block_majorant(tp.phantom, tp.materials, range, shift);
  tp.phantom.block_max_density_g_cm3 = nullptr;
  tp.phantom.block_shift = 0;
  for (int a = 0; a < 3; ++a) tp.phantom.block_count[a] = 0;
  tp.materials.photon.block_majorant_mu_rho.values = nullptr;
  if (!block_majorant_useful(storage)) return;
  tp.phantom.block_max_density_g_cm3 = storage.max_density.data();
  tp.phantom.block_shift = storage.shift;
  for (int a = 0; a < 3; ++a) tp.phantom.block_count[a] = storage.count[a];
  tp.materials.photon.block_majorant_mu_rho.grid = tp.materials.photon.mu_rho_total.grid;
  tp.materials.photon.block_majorant_mu_rho.values = storage.mu_rho_row.data();
}

}  // namespace sabre::phys
