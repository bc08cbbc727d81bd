#include "physics/transport/majorant.hh"

#include <algorithm>
#include <stdexcept>

namespace sabre::phys {

std::vector<double> weighted_mu_rho_maximum(const MaterialData& md, const std::vector<double>& weight) {
  const GridTable& total = md.photon.mu_rho_total;
  const int n = total.grid.n;
  std::vector<double> row(std::size_t(n), 0.0);
  for (int m = 0; m < md.n_materials; ++m) {
    const double f = weight[std::size_t(m)];
    if (!(f > 0)) continue;
    for (int i = 0; i < n; ++i)
      row[std::size_t(i)] = std::max(row[std::size_t(i)], total.values[std::int64_t(m) * n + i] * f);
  }
  return row;
}

std::vector<double> phantom_majorant_row(const MaterialData& md,
                                         const MaterialDensityRange& range) {
  if (range.n_materials() != md.n_materials)
    throw std::logic_error("phantom_majorant_row: density range for another number of materials");
  std::vector<double> w = range.max;
  double rho_max = 0;
  for (double r : w) rho_max = std::max(rho_max, r);
  if (!(rho_max > 0)) return std::vector<double>(std::size_t(md.photon.mu_rho_total.grid.n), 0.0);
  for (double& r : w) r /= rho_max;
  return weighted_mu_rho_maximum(md, w);
}

void use_phantom_majorant(TransportParams& tp, const MaterialDensityRange& range,
                          std::vector<double>& storage) {
  storage = phantom_majorant_row(tp.materials, range);
  tp.materials.photon.majorant_mu_rho.grid = tp.materials.photon.mu_rho_total.grid;
  tp.materials.photon.majorant_mu_rho.values = storage.data();
}

}  // namespace sabre::phys
