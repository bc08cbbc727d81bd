#include "engine/check/dvh.hh"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.hh"

namespace sabre::check {

namespace {

// Continuous index of a coordinate among n voxel centres (clamped to the centres), split
// into the lower centre and the weight of the upper one.
void axis_weight(double c, double origin, double spacing, int n, int& i0, double& f) {
  double u = (c - origin) / spacing - 0.5;
  if (n <= 1 || u <= 0) {
    i0 = 0;
    f = 0;
    return;
  }
  if (u >= n - 1) {
    i0 = n - 2;
    f = 1;
    return;
  }
  i0 = int(u);
  f = u - i0;
}

}  // namespace

double trilinear(const phys::GridGeometry& g, const std::vector<float>& d, double x, double y, double z,
                 double* grad) {
  int i, j, k;
  double fx, fy, fz;
  axis_weight(x, g.origin_cm.x, g.spacing_cm.x, g.nx, i, fx);
  axis_weight(y, g.origin_cm.y, g.spacing_cm.y, g.ny, j, fy);
  axis_weight(z, g.origin_cm.z, g.spacing_cm.z, g.nz, k, fz);
  const int di = g.nx > 1 ? 1 : 0, dj = g.ny > 1 ? 1 : 0, dk = g.nz > 1 ? 1 : 0;
  auto v = [&](int a, int b, int c) { return double(d[std::size_t(g.index(i + a * di, j + b * dj, k + c * dk))]); };
  const double v000 = v(0, 0, 0), v100 = v(1, 0, 0), v010 = v(0, 1, 0), v110 = v(1, 1, 0);
  const double v001 = v(0, 0, 1), v101 = v(1, 0, 1), v011 = v(0, 1, 1), v111 = v(1, 1, 1);
  const double c00 = v000 * (1 - fx) + v100 * fx, c10 = v010 * (1 - fx) + v110 * fx;
  const double c01 = v001 * (1 - fx) + v101 * fx, c11 = v011 * (1 - fx) + v111 * fx;
  const double c0 = c00 * (1 - fy) + c10 * fy, c1 = c01 * (1 - fy) + c11 * fy;
  if (grad) {
    // d/dx etc. of the interpolant [Gy/cm]; zero where it is held at the edge value.
    auto inside = [](double c, double o, double sp, int n) {
      const double u = (c - o) / sp - 0.5;
      return n > 1 && u > 0 && u < n - 1;
    };
    const double ex0 = (v100 - v000) * (1 - fy) + (v110 - v010) * fy;
    const double ex1 = (v101 - v001) * (1 - fy) + (v111 - v011) * fy;
    grad[0] = inside(x, g.origin_cm.x, g.spacing_cm.x, g.nx) ? (ex0 * (1 - fz) + ex1 * fz) / g.spacing_cm.x : 0;
    grad[1] = inside(y, g.origin_cm.y, g.spacing_cm.y, g.ny) ? ((c10 - c00) * (1 - fz) + (c11 - c01) * fz) / g.spacing_cm.y
                                                              : 0;
    grad[2] = inside(z, g.origin_cm.z, g.spacing_cm.z, g.nz) ? (c1 - c0) / g.spacing_cm.z : 0;
  }
  return c0 * (1 - fz) + c1 * fz;
}

double Dvh::volume_at_least(double dose) const {
  if (cumulative_cm3.empty() || !(bin_gy > 0)) return 0;
  if (dose <= 0) return volume_cm3;
  // Nothing lies above the structure's own maximum (the bins run to the grid's maximum, and
  // the spread of the dose pieces over them leaves rounding residue there).
  if (dose > max_gy) return 0.0;
  const double u = dose / bin_gy;
  const std::size_t i = std::size_t(u);
  if (i + 1 >= cumulative_cm3.size()) return cumulative_cm3.back();
  const double f = u - double(i);
  return cumulative_cm3[i] * (1 - f) + cumulative_cm3[i + 1] * f;
}

double Dvh::dose_to_volume(double v) const {
  if (cumulative_cm3.empty() || !(volume_cm3 > 0)) return 0;
  if (v <= 0) return max_gy;
  if (v >= volume_cm3) return min_gy;
  // The last bin whose cumulative volume still reaches v (cumulative never increases).
  const auto it = std::partition_point(cumulative_cm3.begin(), cumulative_cm3.end(), [v](double c) { return c >= v; });
  const std::size_t i = std::size_t(it - cumulative_cm3.begin()) - 1;
  const double hi = i + 1 < cumulative_cm3.size() ? cumulative_cm3[i + 1] : 0.0;
  const double lo = cumulative_cm3[i];
  const double f = lo > hi ? (lo - v) / (lo - hi) : 0.0;
  return std::clamp((double(i) + f) * bin_gy, min_gy, max_gy);
}

namespace {

// A histogram of volume over dose bins that takes each sample as spread uniformly over a
// dose interval (O(1) per sample: the whole bins it covers go to a difference array).
class SpreadHistogram {
 public:
  SpreadHistogram(int nbins, double bin) : bin_(bin), hist_(std::size_t(nbins) + 1, 0.0), diff_(hist_.size() + 1, 0.0) {}
  void add(double lo, double hi, double w) {
    const double top = double(hist_.size()) - 1e-9;
    const double a = std::clamp(lo / bin_, 0.0, top), b = std::clamp(hi / bin_, 0.0, top);
    const std::size_t i0 = std::size_t(a), i1 = std::size_t(b);
    if (i0 == i1 || !(b > a)) {
      hist_[std::size_t(0.5 * (a + b))] += w;
      return;
    }
    const double dens = w / (b - a);  // per bin
    hist_[i0] += dens * (double(i0 + 1) - a);
    hist_[i1] += dens * (b - double(i1));
    diff_[i0 + 1] += dens;
    diff_[i1] -= dens;
  }
  std::vector<double> cumulative() const {
    std::vector<double> h = hist_;
    double run = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
      run += diff_[i];
      h[i] += run;
    }
    std::vector<double> c(h.size(), 0.0);
    double acc = 0;
    for (std::size_t i = h.size(); i-- > 0;) {
      acc += h[i];
      c[i] = std::max(0.0, acc);  // the difference array may leave -1e-17 where nothing is
    }
    return c;
  }

 private:
  double bin_;
  std::vector<double> hist_, diff_;
};

}  // namespace

Dvh compute_dvh(const io::Roi& roi, const phys::GridGeometry& g, const std::vector<float>& dose,
                const std::string& source, const DvhOptions& opt) {
  if (dose.size() != std::size_t(g.size())) throw RuntimeError("compute_dvh: dose and grid sizes differ");
  Dvh h;
  h.name = roi.name;
  const io::RoiPlanes planes(roi, source, 5 * g.spacing_cm.z);
  h.contour_volume_cm3 = planes.volume_mm3() / 1000;
  float dmax = 0;
  for (float v : dose) dmax = std::max(dmax, v);
  const int nbins = std::max(10, opt.bins);
  // One bin more than the maximum needs, so that a sample spread above the maximum fits.
  h.bin_gy = dmax > 0 ? 1.01 * double(dmax) / nbins : 1.0 / nbins;
  SpreadHistogram hist(nbins, h.bin_gy);
  if (planes.empty()) {
    h.cumulative_cm3 = hist.cumulative();
    return h;
  }
  // The contours' extent [mm], to skip rows that cannot cross them and to size S.
  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  for (const auto& c : roi.contours)
    for (const auto& p : c.points_mm)
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], p[a]);
        hi[a] = std::max(hi[a], p[a]);
      }
  const double dx = g.spacing_cm.x, dy = g.spacing_cm.y, dz = g.spacing_cm.z;
  int S = opt.subdivisions;
  if (S <= 0) {
    // About opt.samples sub-cells over the contours' bounding box, 2 to 8 per voxel edge.
    const double box_voxels = std::max(1.0, ((hi[0] - lo[0]) / 10 / dx + 1) * ((hi[1] - lo[1]) / 10 / dy + 1) *
                                                ((hi[2] - lo[2]) / 10 / dz + 1));
    S = std::clamp(int(std::cbrt(opt.samples / box_voxels)), 2, 8);
  }
  h.subdivisions = S;
  const double w = dx / S, hy = dy / S, hz = dz / S;
  const double x_lo = g.origin_cm.x, x_hi = g.origin_cm.x + g.nx * dx;
  double sum_w = 0, sum_wd = 0, dmin = std::numeric_limits<double>::max(), dmx = 0;
  const int j0 = std::max(0, int(std::floor((lo[1] / 10 - g.origin_cm.y) / dy)));
  const int j1 = std::min(g.ny - 1, int(std::floor((hi[1] / 10 - g.origin_cm.y) / dy)));
  const std::vector<double> edges = planes.edges_mm();
  std::vector<double> cuts;
  for (int k = 0; k < g.nz; ++k) {
    // The voxel's S sub-planes, cut again where a contour plane's slice begins or ends, so
    // that no piece straddles a change of contour.
    const double z0 = g.origin_cm.z + k * dz, z1 = z0 + dz;
    cuts.clear();
    for (int sz = 0; sz <= S; ++sz) cuts.push_back(z0 + sz * hz);
    for (double e : edges)
      if (e / 10 > z0 + 1e-9 && e / 10 < z1 - 1e-9) cuts.push_back(e / 10);
    std::sort(cuts.begin(), cuts.end());
    for (std::size_t piece = 0; piece + 1 < cuts.size(); ++piece) {
      const double hzp = cuts[piece + 1] - cuts[piece];
      if (!(hzp > 1e-9)) continue;
      const double zc = 0.5 * (cuts[piece] + cuts[piece + 1]);
      const auto* contours = planes.at(10 * zc);
      if (!contours) continue;
      const double cell_yz = hy * hzp;
      for (int j = j0; j <= j1; ++j)
        for (int sy = 0; sy < S; ++sy) {
          const double yc = g.origin_cm.y + (j + (sy + 0.5) / S) * dy;
          const std::vector<double> xs = io::RoiPlanes::crossings(*contours, 10 * yc);
          for (std::size_t q = 0; q + 1 < xs.size(); q += 2) {
            const double a = std::max(xs[q] / 10, x_lo), b = std::min(xs[q + 1] / 10, x_hi);
            if (!(b > a)) continue;
            const int m0 = std::max(0, int(std::floor((a - x_lo) / w)));
            const int m1 = std::min(g.nx * S - 1, int(std::floor((b - x_lo) / w)));
            for (int m = m0; m <= m1; ++m) {
              const double s0 = std::max(a, x_lo + m * w), s1 = std::min(b, x_lo + (m + 1) * w);
              if (!(s1 > s0)) continue;
              const double vol = (s1 - s0) * cell_yz;
              double grad[3];
              const double d = trilinear(g, dose, 0.5 * (s0 + s1), yc, zc, grad);
              // The sub-cell's doses: the interpolant is close to linear over it, so its
              // values fill [d - r, d + r]; spread its volume over that range.
              const double r = 0.5 * (std::abs(grad[0]) * (s1 - s0) + std::abs(grad[1]) * hy + std::abs(grad[2]) * hzp);
              hist.add(d - r, d + r, vol);
              sum_w += vol;
              sum_wd += vol * d;
              dmin = std::min(dmin, d - r);
              dmx = std::max(dmx, d + r);
            }
          }
        }
    }
  }
  h.volume_cm3 = sum_w;
  h.volume_outside_grid_cm3 = std::max(0.0, h.contour_volume_cm3 - sum_w);
  if (sum_w > 0) {
    h.mean_gy = sum_wd / sum_w;
    h.min_gy = std::max(0.0, dmin);
    h.max_gy = std::min(dmx, double(dmax));
  }
  h.cumulative_cm3 = hist.cumulative();
  return h;
}

}  // namespace sabre::check
