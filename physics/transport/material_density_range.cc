#include "physics/transport/material_density_range.hh"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace sabre::phys {

MaterialDensityRange material_density_range(const PhantomView& phantom, int n_materials) {
  const std::size_t n = std::size_t(std::max(n_materials, 0));
  MaterialDensityRange r;
  r.min.assign(n, std::numeric_limits<double>::infinity());
  r.max.assign(n, 0.0);
  const std::int64_t nv = phantom.grid.size();
  for (std::int64_t v = 0; v < nv; ++v) {
    const int m = phantom.material[v];
    if (m < 0 || m >= n_materials)
      throw std::logic_error("phantom material index out of the table set's range");
    const double rho = phantom.density_g_cm3[v];
    r.min[std::size_t(m)] = std::min(r.min[std::size_t(m)], rho);
    r.max[std::size_t(m)] = std::max(r.max[std::size_t(m)], rho);
  }
  return r;
}

}  // namespace sabre::phys
