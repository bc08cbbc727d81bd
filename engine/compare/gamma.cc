#include "engine/compare/gamma.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/interrupt.hh"

namespace sabre::compare {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEdgeTolerance = 1e-9;  // [voxel] slack at the grid's outer faces

// One axis of the trilinear interpolation: lower/upper sample, weight of the upper one,
// and d(weight)/d(f) (0 where the value is clamped to the edge).
struct Axis {
  int i0, i1;
  double t, dt;
};

inline bool axis(double f, int n, Axis& a) {
  if (f < -0.5 - kEdgeTolerance || f > n - 0.5 + kEdgeTolerance) return false;
  if (n == 1) {
    a = {0, 0, 0.0, 0.0};
  } else if (f <= 0) {
    a = {0, 1, 0.0, 0.0};
  } else if (f >= n - 1) {
    a = {n - 2, n - 1, 1.0, 0.0};
  } else {
    const int i0 = std::min(int(f), n - 2);
    a = {i0, i0 + 1, f - i0, 1.0};
  }
  return true;
}

void check_volume(const DoseResult& d, const char* what) {
  const auto& g = d.grid;
  if (g.nx <= 0 || g.ny <= 0 || g.nz <= 0)
    throw std::invalid_argument(std::string(what) + " dose grid has no voxels");
  if (!(g.spacing_cm.x > 0 && g.spacing_cm.y > 0 && g.spacing_cm.z > 0))
    throw std::invalid_argument(std::string(what) + " dose grid spacing is not positive");
  if (std::int64_t(d.dose_gy.size()) != g.size())
    throw std::invalid_argument(std::string(what) + " dose array size " +
                                std::to_string(d.dose_gy.size()) + " differs from the grid's " +
                                std::to_string(g.size()) + " voxels");
}

// Evaluated cells: cell c along an axis lies between the voxel centres c and c+1 (index
// coordinates), for c = -1 .. n-1; the outer cells -1 and n-1 are the half voxels beyond
// the outer centres, where the interpolant takes the edge value (both corners clamped to
// the edge sample). A cell's lower corner sample along an axis is clamp(c), its upper one
// clamp(c+1).
struct CellGrid {
  int n[3];           // evaluated voxels per axis
  int nc[3];          // cells per axis (n + 1)
  double s_mm[3];     // voxel spacing [mm]
  double o_mm[3];     // grid corner (outer face) [mm]
  std::vector<float> lo_gy, hi_gy;  // [cell] min / max of the cell's corner doses, rounded
                                    // outwards so that they bound the interpolant
  const double* dose = nullptr;

  std::int64_t cell_index(int cx, int cy, int cz) const {
    return (cx + 1) + std::int64_t(nc[0]) * ((cy + 1) + std::int64_t(nc[1]) * (cz + 1));
  }
  double dose_at(int i, int j, int k) const {
    i = std::clamp(i, 0, n[0] - 1);
    j = std::clamp(j, 0, n[1] - 1);
    k = std::clamp(k, 0, n[2] - 1);
    return dose[i + std::int64_t(n[0]) * (j + std::int64_t(n[1]) * k)];
  }
};

CellGrid make_cells(const DoseResult& ev) {
  CellGrid cg;
  const auto& g = ev.grid;
  cg.n[0] = g.nx;
  cg.n[1] = g.ny;
  cg.n[2] = g.nz;
  cg.s_mm[0] = g.spacing_cm.x * 10;
  cg.s_mm[1] = g.spacing_cm.y * 10;
  cg.s_mm[2] = g.spacing_cm.z * 10;
  cg.o_mm[0] = g.origin_cm.x * 10;
  cg.o_mm[1] = g.origin_cm.y * 10;
  cg.o_mm[2] = g.origin_cm.z * 10;
  cg.dose = ev.dose_gy.data();
  for (int m = 0; m < 3; ++m) cg.nc[m] = cg.n[m] + 1;
  const std::int64_t ncells = std::int64_t(cg.nc[0]) * cg.nc[1] * cg.nc[2];
  cg.lo_gy.resize(ncells);
  cg.hi_gy.resize(ncells);
  for (int cz = -1; cz < cg.n[2]; ++cz)
    for (int cy = -1; cy < cg.n[1]; ++cy)
      for (int cx = -1; cx < cg.n[0]; ++cx) {
        double lo = kInf, hi = -kInf;
        for (int c = 0; c < 8; ++c) {
          const double d = cg.dose_at(cx + (c & 1), cy + ((c >> 1) & 1), cz + ((c >> 2) & 1));
          lo = std::min(lo, d);
          hi = std::max(hi, d);
        }
        const std::int64_t ci = cg.cell_index(cx, cy, cz);
        cg.lo_gy[ci] = std::nextafter(float(lo), -std::numeric_limits<float>::infinity());
        cg.hi_gy[ci] = std::nextafter(float(hi), std::numeric_limits<float>::infinity());
      }
  return cg;
}

// Cell offsets from the cell holding the reference point, with a lower bound on the
// squared distance [mm^2] from the point to the cell: along an axis, a cell d cells away
// is at least (|d| - 1) full voxels away (the half-voxel outer cells are never in between).
struct CellOffset {
  int dx, dy, dz;
  double bound_r2n;  // lower bound of |distance|^2 / DTA^2
};

std::vector<CellOffset> make_cell_offsets(const CellGrid& cg, double radius_mm, double dta_mm) {
  int k[3];
  for (int m = 0; m < 3; ++m)
    k[m] = std::min(cg.n[m] + 1, int(std::ceil(radius_mm / cg.s_mm[m])) + 1);
  std::vector<CellOffset> out;
  for (int dz = -k[2]; dz <= k[2]; ++dz)
    for (int dy = -k[1]; dy <= k[1]; ++dy)
      for (int dx = -k[0]; dx <= k[0]; ++dx) {
        const int d[3] = {dx, dy, dz};
        double r2 = 0;
        for (int m = 0; m < 3; ++m) {
          const double gap = std::max(0, std::abs(d[m]) - 1) * cg.s_mm[m];
          r2 += gap * gap;
        }
        if (r2 > radius_mm * radius_mm) continue;
        out.push_back({dx, dy, dz, r2 / (dta_mm * dta_mm)});
      }
  std::stable_sort(out.begin(), out.end(), [](const CellOffset& a, const CellOffset& b) {
    return a.bound_r2n < b.bound_r2n;
  });
  return out;
}

// The search for one reference point at a time.
class PointSearch {
 public:
  PointSearch(const CellGrid& cg, const std::vector<CellOffset>& offsets, double dta_mm,
              double radius_mm)
      : cg_(cg), offsets_(offsets), a_(1.0 / (dta_mm * dta_mm)), r2max_(radius_mm * radius_mm) {}

  std::int64_t cells_minimised = 0;

  // gamma^2 at reference point p [mm] with dose D_r and dD [Gy]; +inf when no evaluated
  // cell lies within the search radius. diff_gy: D_e(p) - D_r, NaN if p is outside.
  double search(const double p_mm[3], double dr_gy, double dd_gy, double& diff_gy) {
    for (int m = 0; m < 3; ++m) p_[m] = p_mm[m];
    dr_ = dr_gy;
    b_ = 1.0 / (dd_gy * dd_gy);
    diff_gy = std::numeric_limits<double>::quiet_NaN();
    int base[3];
    bool inside = true;
    for (int m = 0; m < 3; ++m) {
      const double f = (p_[m] - cg_.o_mm[m]) / cg_.s_mm[m] - 0.5;
      if (f < -0.5 - kEdgeTolerance || f > cg_.n[m] - 0.5 + kEdgeTolerance) inside = false;
      base[m] = std::clamp(int(std::floor(f)), -1, cg_.n[m] - 1);
    }
    double best = kInf;
    if (inside) {
      // The dose at the point itself, from the cell that holds it.
      load_cell(base[0], base[1], base[2]);
      const double zero[3] = {0, 0, 0};
      double e, g[3];
      interpolate(zero, e, g);
      diff_gy = e - dr_;
      best = b_ * diff_gy * diff_gy;
    }
    for (const CellOffset& o : offsets_) {
      if (o.bound_r2n >= best) break;
      const int cx = base[0] + o.dx, cy = base[1] + o.dy, cz = base[2] + o.dz;
      if (cx < -1 || cx >= cg_.n[0] || cy < -1 || cy >= cg_.n[1] || cz < -1 || cz >= cg_.n[2])
        continue;
      // Cell box relative to p [mm] and its closest point to p.
      const int c[3] = {cx, cy, cz};
      double lo[3], hi[3], q[3], d2 = 0;
      for (int m = 0; m < 3; ++m) {
        const double flo = std::max(double(c[m]), -0.5), fhi = std::min(c[m] + 1.0, cg_.n[m] - 0.5);
        lo[m] = cg_.o_mm[m] + (flo + 0.5) * cg_.s_mm[m] - p_[m];
        hi[m] = cg_.o_mm[m] + (fhi + 0.5) * cg_.s_mm[m] - p_[m];
        q[m] = std::clamp(0.0, lo[m], hi[m]);
        d2 += q[m] * q[m];
      }
      if (d2 > r2max_) continue;  // the cell lies outside the search sphere
      double bound = a_ * d2;
      if (bound >= best) continue;
      const std::int64_t ci = cg_.cell_index(cx, cy, cz);
      const double dlo = cg_.lo_gy[ci], dhi = cg_.hi_gy[ci];
      const double gap = dr_ < dlo ? dlo - dr_ : (dr_ > dhi ? dr_ - dhi : 0.0);
      bound += b_ * gap * gap;
      if (bound >= best) continue;
      load_cell(cx, cy, cz);
      best = std::min(best, minimise_in_cell(lo, hi, q));
      ++cells_minimised;
    }
    return best;
  }

 private:
  // Corner doses of cell (cx, cy, cz) and the position [mm, relative to p] of its lower
  // corner sample (unclamped index c, so that t = (u - corner) / spacing).
  void load_cell(int cx, int cy, int cz) {
    for (int c = 0; c < 8; ++c)
      corner_[c] = cg_.dose_at(cx + (c & 1), cy + ((c >> 1) & 1), cz + ((c >> 2) & 1));
    const int cc[3] = {cx, cy, cz};
    for (int m = 0; m < 3; ++m) corner_lo_[m] = cg_.o_mm[m] + (cc[m] + 0.5) * cg_.s_mm[m] - p_[m];
  }

  // Trilinear dose and its gradient [Gy/mm] at u [mm, relative to p] in the loaded cell.
  void interpolate(const double u[3], double& e, double g[3]) const {
    const double tx = (u[0] - corner_lo_[0]) / cg_.s_mm[0];
    const double ty = (u[1] - corner_lo_[1]) / cg_.s_mm[1];
    const double tz = (u[2] - corner_lo_[2]) / cg_.s_mm[2];
    const double* c = corner_;
    const double c00 = c[0] + tx * (c[1] - c[0]), c10 = c[2] + tx * (c[3] - c[2]);
    const double c01 = c[4] + tx * (c[5] - c[4]), c11 = c[6] + tx * (c[7] - c[6]);
    const double c0 = c00 + ty * (c10 - c00), c1 = c01 + ty * (c11 - c01);
    e = c0 + tz * (c1 - c0);
    const double dx0 = (c[1] - c[0]) + ty * ((c[3] - c[2]) - (c[1] - c[0]));
    const double dx1 = (c[5] - c[4]) + ty * ((c[7] - c[6]) - (c[5] - c[4]));
    g[0] = (dx0 + tz * (dx1 - dx0)) / cg_.s_mm[0];
    g[1] = ((c10 - c00) + tz * ((c11 - c01) - (c10 - c00))) / cg_.s_mm[1];
    g[2] = (c1 - c0) / cg_.s_mm[2];
  }

  double value(const double u[3], double e) const {
    const double r = e - dr_;
    return a_ * (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]) + b_ * r * r;
  }

  // Minimum of gamma^2 = a|u|^2 + b (D_e(u) - D_r)^2 over the box [lo, hi] of the loaded
  // cell, inside the search sphere (the start q, the cell's closest point, is inside it): projected Gauss-Newton (the Hessian a I + b g g^T inverted with the
  // Sherman-Morrison formula on the coordinates not held at a bound), with step halving.
  double minimise_in_cell(const double lo[3], const double hi[3], const double q[3]) {
    // Two starts: the cell's closest point to r, and its best corner (plateaus end at voxel
    // centres) when that is a different point; the trilinear level surface can curve, so
    // the two may descend to different local minima.
    double e, g[3];
    interpolate(q, e, g);
    const double val_q = value(q, e);
    const double best_q = descend(lo, hi, q, e, g, val_q);
    double corner[3] = {0, 0, 0}, ec = 0, gc[3] = {0, 0, 0}, val_c = kInf;
    for (int c = 0; c < 8; ++c) {
      const double v[3] = {(c & 1) ? hi[0] : lo[0], (c & 2) ? hi[1] : lo[1],
                           (c & 4) ? hi[2] : lo[2]};
      if (v[0] * v[0] + v[1] * v[1] + v[2] * v[2] > r2max_) continue;  // beyond R_max
      double ev, gv[3];
      interpolate(v, ev, gv);
      const double vv = value(v, ev);
      if (vv < val_c) {
        val_c = vv;
        ec = ev;
        for (int m = 0; m < 3; ++m) {
          corner[m] = v[m];
          gc[m] = gv[m];
        }
      }
    }
    if (!(val_c < kInf) || (corner[0] == q[0] && corner[1] == q[1] && corner[2] == q[2]))
      return best_q;
    return std::min(best_q, descend(lo, hi, corner, ec, gc, val_c));
  }

  // Projected Gauss-Newton descent from u (dose e, gradient g, value val) within the box
  // [lo, hi] and the search sphere; returns the smallest gamma^2 reached.
  double descend(const double lo[3], const double hi[3], const double u0[3], double e,
                 const double g0[3], double val) const {
    double u[3] = {u0[0], u0[1], u0[2]}, g[3] = {g0[0], g0[1], g0[2]};
    const double tiny = 1e-9 * (cg_.s_mm[0] + cg_.s_mm[1] + cg_.s_mm[2]);
    for (int iter = 0; iter < 40; ++iter) {
      const double r = e - dr_;
      double v[3], gf[3];
      bool free_axis[3];
      for (int m = 0; m < 3; ++m) {
        v[m] = a_ * u[m] + b_ * r * g[m];
        free_axis[m] = !((u[m] <= lo[m] + tiny && v[m] > 0) || (u[m] >= hi[m] - tiny && v[m] < 0));
        gf[m] = free_axis[m] ? g[m] : 0.0;
      }
      const double g2 = gf[0] * gf[0] + gf[1] * gf[1] + gf[2] * gf[2];
      double gv = 0;
      for (int m = 0; m < 3; ++m) gv += free_axis[m] ? gf[m] * v[m] : 0.0;
      const double cc = b_ * gv / (a_ + b_ * g2);
      double delta[3];
      double len2 = 0;
      for (int m = 0; m < 3; ++m) {
        delta[m] = free_axis[m] ? -(v[m] - cc * gf[m]) / a_ : 0.0;
        len2 += delta[m] * delta[m];
      }
      if (len2 < tiny * tiny) break;
      bool accepted = false;
      double step = 1.0;
      for (int half = 0; half < 12 && !accepted; ++half, step *= 0.5) {
        double w[3], ew, gw[3];
        for (int m = 0; m < 3; ++m) w[m] = std::clamp(u[m] + step * delta[m], lo[m], hi[m]);
        // Stay inside the search sphere (u is inside, so halving gets back in).
        if (w[0] * w[0] + w[1] * w[1] + w[2] * w[2] > r2max_) continue;
        interpolate(w, ew, gw);
        const double vw = value(w, ew);
        if (vw < val) {
          const double gain = val - vw;
          for (int m = 0; m < 3; ++m) {
            u[m] = w[m];
            g[m] = gw[m];
          }
          e = ew;
          val = vw;
          accepted = true;
          if (gain <= 1e-15 * (1 + val)) return val;
        }
      }
      if (!accepted) break;
    }
    return val;
  }

  const CellGrid& cg_;
  const std::vector<CellOffset>& offsets_;
  double a_;       // 1/DTA^2 [1/mm^2]
  double r2max_;   // R_max^2 [mm^2]
  double b_ = 0;   // 1/dD^2 [1/Gy^2]
  double dr_ = 0;  // reference dose [Gy]
  double p_[3] = {0, 0, 0};
  double corner_[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  double corner_lo_[3] = {0, 0, 0};
};

}  // namespace

TrilinearDose::TrilinearDose(const phys::GridGeometry& grid, const std::vector<double>& dose_gy)
    : grid_(grid), dose_(dose_gy) {}

bool TrilinearDose::sample_index(double fx, double fy, double fz, double& dose_gy,
                                 double grad[3]) const {
  Axis ax, ay, az;
  if (!axis(fx, grid_.nx, ax) || !axis(fy, grid_.ny, ay) || !axis(fz, grid_.nz, az))
    return false;
  const std::int64_t nx = grid_.nx, nxy = std::int64_t(grid_.nx) * grid_.ny;
  const double* d = dose_.data();
  const std::int64_t k0 = az.i0 * nxy, k1 = az.i1 * nxy;
  const std::int64_t j0 = ay.i0 * nx, j1 = ay.i1 * nx;
  const double c000 = d[ax.i0 + j0 + k0], c100 = d[ax.i1 + j0 + k0];
  const double c010 = d[ax.i0 + j1 + k0], c110 = d[ax.i1 + j1 + k0];
  const double c001 = d[ax.i0 + j0 + k1], c101 = d[ax.i1 + j0 + k1];
  const double c011 = d[ax.i0 + j1 + k1], c111 = d[ax.i1 + j1 + k1];
  const double tx = ax.t, ty = ay.t, tz = az.t;
  // Along x first.
  const double c00 = c000 + tx * (c100 - c000), c10 = c010 + tx * (c110 - c010);
  const double c01 = c001 + tx * (c101 - c001), c11 = c011 + tx * (c111 - c011);
  const double c0 = c00 + ty * (c10 - c00), c1 = c01 + ty * (c11 - c01);
  dose_gy = c0 + tz * (c1 - c0);
  // d/dtx, d/dty, d/dtz of the trilinear form, times dt/df.
  const double dx0 = (c100 - c000) + ty * ((c110 - c010) - (c100 - c000));
  const double dx1 = (c101 - c001) + ty * ((c111 - c011) - (c101 - c001));
  grad[0] = ax.dt * (dx0 + tz * (dx1 - dx0));
  grad[1] = ay.dt * ((c10 - c00) + tz * ((c11 - c01) - (c10 - c00)));
  grad[2] = az.dt * (c1 - c0);
  return true;
}

bool TrilinearDose::sample(phys::Vec3 p_cm, double& dose_gy) const {
  double g[3];
  return sample_index((p_cm.x - grid_.origin_cm.x) / grid_.spacing_cm.x - 0.5,
                      (p_cm.y - grid_.origin_cm.y) / grid_.spacing_cm.y - 0.5,
                      (p_cm.z - grid_.origin_cm.z) / grid_.spacing_cm.z - 0.5, dose_gy, g);
}

GammaResult compute_gamma(const DoseResult& reference, const DoseResult& evaluated,
                          const GammaCriteria& criteria) {
  check_volume(reference, "reference");
  check_volume(evaluated, "evaluated");
  if (!(criteria.dose_fraction > 0)) throw std::invalid_argument("dose criterion must be > 0");
  if (!(criteria.distance_mm > 0)) throw std::invalid_argument("distance criterion must be > 0");
  if (!(criteria.threshold_fraction >= 0 && criteria.threshold_fraction < 1))
    throw std::invalid_argument("threshold must be in [0, 1)");

  const auto t_start = std::chrono::steady_clock::now();
  GammaResult res;
  res.criteria = criteria;
  const auto& rg = reference.grid;
  res.grid = rg;

  const auto& dr = reference.dose_gy;
  res.reference_max_index = std::max_element(dr.begin(), dr.end()) - dr.begin();
  res.reference_max_gy = dr[res.reference_max_index];
  res.norm_dose_gy = criteria.norm_dose_gy > 0 ? criteria.norm_dose_gy : res.reference_max_gy;
  if (!(res.norm_dose_gy > 0))
    throw std::invalid_argument("reference dose maximum is not positive: nothing to compare");
  res.threshold_gy = criteria.threshold_fraction * res.norm_dose_gy;
  res.max_search_mm = criteria.max_search_mm > 0 ? criteria.max_search_mm
                                                 : 3.0 * criteria.distance_mm;

  // The reference voxels to evaluate: dose at or above the threshold (and, for local
  // gamma, positive so that dD > 0; with a zero threshold, global gamma evaluates every voxel).
  std::vector<std::int64_t> points;
  for (std::int64_t v = 0; v < rg.size(); ++v)
    if (dr[v] >= res.threshold_gy && (!criteria.local || dr[v] > 0)) points.push_back(v);

  const CellGrid cells = make_cells(evaluated);
  const auto offsets = make_cell_offsets(cells, res.max_search_mm, criteria.distance_mm);

  res.gamma.assign(rg.size(), std::numeric_limits<float>::quiet_NaN());
  res.pass.assign(rg.size(), 255);
  res.difference_gy.assign(rg.size(), std::numeric_limits<float>::quiet_NaN());
  std::vector<double> gamma2(points.size());
  std::vector<double> diff(points.size());

  int threads = criteria.threads > 0 ? criteria.threads
                                     : int(std::max(1u, std::thread::hardware_concurrency()));
  threads = int(std::min<std::int64_t>(threads, std::max<std::int64_t>(1, points.size() / 64)));
  res.threads = threads;
  std::atomic<std::int64_t> next{0};
  constexpr std::int64_t kChunk = 256;
  std::atomic<std::int64_t> cells_minimised{0};
  auto worker = [&] {
    PointSearch ps(cells, offsets, criteria.distance_mm, res.max_search_mm);
    for (;;) {
      if (interrupt::requested()) break;  // SIGINT/SIGTERM: stop; thrown after the join
      const std::int64_t begin = next.fetch_add(kChunk);
      if (begin >= std::int64_t(points.size())) break;
      const std::int64_t end = std::min<std::int64_t>(begin + kChunk, points.size());
      for (std::int64_t p = begin; p < end; ++p) {
        const std::int64_t v = points[p];
        const int i = int(v % rg.nx), j = int((v / rg.nx) % rg.ny);
        const int k = int(v / (std::int64_t(rg.nx) * rg.ny));
        const phys::Vec3 c = rg.voxel_centre(i, j, k);
        const double p_mm[3] = {c.x * 10, c.y * 10, c.z * 10};
        const double dd_gy = criteria.dose_fraction * (criteria.local ? dr[v] : res.norm_dose_gy);
        gamma2[p] = ps.search(p_mm, dr[v], dd_gy, diff[p]);
      }
    }
    cells_minimised += ps.cells_minimised;
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  interrupt::throw_if_requested();

  // Summaries, serially and in voxel order (deterministic for any thread count).
  std::vector<double> finite;
  finite.reserve(points.size());
  double sum_gamma = 0;
  for (std::size_t p = 0; p < points.size(); ++p) {
    const double gam = std::sqrt(gamma2[p]);
    const std::int64_t v = points[p];
    res.gamma[v] = float(gam);
    res.difference_gy[v] = float(diff[p]);
    const bool ok = gam <= 1.0;
    res.pass[v] = ok ? 1 : 0;
    res.passed += ok;
    if (std::isfinite(gam)) {
      sum_gamma += gam;
      finite.push_back(gam);
      res.max_gamma = std::max(res.max_gamma, gam);
    } else {
      ++res.outside_evaluated_grid;
    }
  }
  res.evaluated = std::int64_t(points.size());
  if (res.evaluated > 0) {
    res.pass_rate_percent = 100.0 * double(res.passed) / double(res.evaluated);
    if (!finite.empty()) res.mean_gamma = sum_gamma / double(finite.size());
    // 95th percentile over all evaluated points (points with no evaluated dose count as +inf).
    const std::int64_t rank = std::min<std::int64_t>(
        res.evaluated - 1, std::int64_t(std::ceil(0.95 * double(res.evaluated))) - 1);
    if (rank < std::int64_t(finite.size())) {
      std::nth_element(finite.begin(), finite.begin() + rank, finite.end());
      res.gamma_p95 = finite[rank];
    } else {
      res.gamma_p95 = kInf;
    }
  }

  // Dose-difference statistics (two-pass mean and SD, in voxel order).
  auto& st = res.difference;
  st.within_percent.assign(st.within_levels_percent.size(), 0.0);
  double sum = 0, sum_abs = 0;
  st.min_gy = kInf;
  st.max_gy = -kInf;
  for (double d : diff) {
    if (std::isnan(d)) continue;
    ++st.voxels;
    sum += d;
    sum_abs += std::fabs(d);
    st.min_gy = std::min(st.min_gy, d);
    st.max_gy = std::max(st.max_gy, d);
    for (std::size_t l = 0; l < st.within_levels_percent.size(); ++l)
      if (std::fabs(d) <= st.within_levels_percent[l] * 0.01 * res.norm_dose_gy * (1 + 1e-12))
        st.within_percent[l] += 1;
  }
  if (st.voxels > 0) {
    st.mean_gy = sum / double(st.voxels);
    st.mean_abs_percent = 100.0 * sum_abs / double(st.voxels) / res.norm_dose_gy;
    double ss = 0;
    for (double d : diff)
      if (!std::isnan(d)) ss += (d - st.mean_gy) * (d - st.mean_gy);
    st.sd_gy = st.voxels > 1 ? std::sqrt(ss / double(st.voxels - 1)) : 0.0;
    for (double& w : st.within_percent) w *= 100.0 / double(st.voxels);
  } else {
    st.min_gy = st.max_gy = 0;
  }

  res.cells_minimised = cells_minimised.load();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

}  // namespace sabre::compare
