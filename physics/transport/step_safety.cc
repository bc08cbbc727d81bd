#include "physics/transport/step_safety.hh"

#include <algorithm>

namespace sabre::phys {

StepSafetyStorage step_safety_map(const PhantomView& phantom, const MaterialDensityRange& range) {
  StepSafetyStorage s;
  const GridGeometry& g = phantom.grid;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  const std::int64_t nv = g.size();
  // The range's minima are float densities, so the conversion back is exact (+inf stays +inf).
  s.min_density.assign(range.min.begin(), range.min.end());
  // Distance to the outside of the grid (exact), then 1 wherever a 26-neighbour has another
  // material; a two-pass chamfer with unit weights over the 26-neighbourhood then gives the
  // exact Chebyshev distance (a voxel without another material around it has only neighbours
  // of its own material, one of which is one step nearer to the nearest other material).
  // Built in place in the 1-byte map (saturating at 255: a cap keeps every value below it
  // exact, since a distance only grows by one per step).
  std::vector<std::uint8_t>& d = s.voxels;
  d.assign(static_cast<std::size_t>(nv), 0);
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const std::int64_t v = g.index(i, j, k);
        int dist = std::min({i + 1, nx - i, j + 1, ny - j, k + 1, nz - k});
        const int m = phantom.material[v];
        for (int dk = -1; dk <= 1 && dist > 1; ++dk)
          for (int dj = -1; dj <= 1 && dist > 1; ++dj)
            for (int di = -1; di <= 1 && dist > 1; ++di) {
              const int a = i + di, b = j + dj, c = k + dk;
              if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
              if (phantom.material[g.index(a, b, c)] != m) dist = 1;
            }
        d[std::size_t(v)] = std::uint8_t(std::min(dist, 255));
      }
  auto pass = [&](int sign) {
    const int k0 = sign > 0 ? 0 : nz - 1, j0 = sign > 0 ? 0 : ny - 1, i0 = sign > 0 ? 0 : nx - 1;
    for (int k = k0; k >= 0 && k < nz; k += sign)
      for (int j = j0; j >= 0 && j < ny; j += sign)
        for (int i = i0; i >= 0 && i < nx; i += sign) {
          int dv = d[std::size_t(g.index(i, j, k))];
          // The 13 neighbours visited before this voxel in this pass's order.
          for (int dk = -1; dk <= 0; ++dk)
            for (int dj = -1; dj <= 1; ++dj)
              for (int di = -1; di <= 1; ++di) {
                if (dk == 0 && (dj > 0 || (dj == 0 && di >= 0))) continue;
                const int a = i + sign * di, b = j + sign * dj, c = k + sign * dk;
                if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
                dv = std::min(dv, d[std::size_t(g.index(a, b, c))] + 1);
              }
          d[std::size_t(g.index(i, j, k))] = std::uint8_t(std::min(dv, 255));
        }
  };
  pass(+1);
  pass(-1);
  return s;
}

void use_step_safety(TransportParams& tp, const MaterialDensityRange& range,
                     StepSafetyStorage& storage) {
  storage = step_safety_map(tp.phantom, range);
  tp.phantom.step_safety = storage.voxels.data();
  tp.phantom.material_min_density_g_cm3 = storage.min_density.data();
}

}  // namespace sabre::phys
