#include "physics/transport/majorant.hh"

#include <algorithm>
#include <stdexcept>

namespace sabre::phys {

std::vector<double> phantom_majorant_row(const PhantomView& phantom, const MaterialData& md) {
  const GridTable& total = md.photon.mu_rho_total;
  const int n = total.grid.n;
  std::vector<double> rho_max_m(md.n_materials, 0.0);
  const std::int64_t nv = phantom.grid.size();
  for (std::int64_t v = 0; v < nv; ++v) {
    const int m = phantom.material[v];
    if (m < 0 || m >= md.n_materials)
      throw std::logic_error("phantom material index out of the table set's range");
    rho_max_m[m] = std::max(rho_max_m[m], double(phantom.density_g_cm3[v]));
  }
  double rho_max = 0;
  for (double r : rho_max_m) rho_max = std::max(rho_max, r);
  std::vector<double> row(n, 0.0);
  if (!(rho_max > 0)) return row;
  for (int m = 0; m < md.n_materials; ++m) {
    if (!(rho_max_m[m] > 0)) continue;
    const double f = rho_max_m[m] / rho_max;
    for (int i = 0; i < n; ++i) row[i] = std::max(row[i], total.values[std::int64_t(m) * n + i] * f);
  }
  return row;
}

void use_phantom_majorant(TransportParams& tp, std::vector<double>& storage) {
  storage = phantom_majorant_row(tp.phantom, tp.materials);
  tp.materials.photon.majorant_mu_rho.grid = tp.materials.photon.mu_rho_total.grid;
  tp.materials.photon.majorant_mu_rho.values = storage.data();
}

}  // namespace sabre::phys
