#include "physics/transport/majorant.hh"

#include <algorithm>
#include <stdexcept>

namespace sabre::phys {

std::vector<double> material_density_maxima(const PhantomView& phantom, const MaterialData& md) {
  std::vector<double> rho_max_m(std::size_t(md.n_materials), 0.0);
  const std::int64_t nv = phantom.grid.size();
  for (std::int64_t v = 0; v < nv; ++v) {
    const int m = phantom.material[v];
    if (m < 0 || m >= md.n_materials)
      throw std::logic_error("phantom material index out of the table set's range");
    rho_max_m[std::size_t(m)] = std::max(rho_max_m[std::size_t(m)], double(phantom.density_g_cm3[v]));
  }
  return rho_max_m;
}

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

std::vector<double> phantom_majorant_row(const PhantomView& phantom, const MaterialData& md) {
  std::vector<double> w = material_density_maxima(phantom, md);
  double rho_max = 0;
  for (double r : w) rho_max = std::max(rho_max, r);
  if (!(rho_max > 0)) return std::vector<double>(std::size_t(md.photon.mu_rho_total.grid.n), 0.0);
  for (double& r : w) r /= rho_max;
  return weighted_mu_rho_maximum(md, w);
}

void use_phantom_majorant(TransportParams& tp, std::vector<double>& storage) {
  storage = phantom_majorant_row(tp.phantom, tp.materials);
  tp.materials.photon.majorant_mu_rho.grid = tp.materials.photon.mu_rho_total.grid;
  tp.materials.photon.majorant_mu_rho.values = storage.data();
}

}  // namespace sabre::phys
