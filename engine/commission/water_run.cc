#include "engine/commission/water_run.hh"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "core/errors.hh"
#include "engine/backend.hh"
#include "engine/simulation.hh"
#include "physics/transport/phantom_derived.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::commission {

bool Setup::operator<(const Setup& o) const {
  if (field_x_cm != o.field_x_cm) return field_x_cm < o.field_x_cm;
  if (field_y_cm != o.field_y_cm) return field_y_cm < o.field_y_cm;
  return ssd_cm < o.ssd_cm;
}
bool Setup::operator==(const Setup& o) const {
  return field_x_cm == o.field_x_cm && field_y_cm == o.field_y_cm && ssd_cm == o.ssd_cm;
}

std::int64_t area_scaled_histories(const Setup& s, std::int64_t base) {
  const double scale = std::clamp(s.field_x_cm * s.field_y_cm / 100.0, 1.0, 9.0);
  return std::int64_t(std::llround(double(base) * scale));
}

namespace {

// Linear interpolation weights of coordinate c between voxel centres along one axis.
void bracket(double c, double origin, double spacing, int n, int& i0, int& i1, double& f) {
  double u = (c - origin) / spacing - 0.5;  // continuous index of voxel centres
  u = std::clamp(u, 0.0, double(n - 1));
  i0 = int(std::floor(u));
  i1 = std::min(i0 + 1, n - 1);
  f = u - i0;
}

}  // namespace

double WaterDose::at(double x, double depth, double z, double* sigma) const {
  const auto& g = grid;
  int i0, i1, j0, j1, k0, k1;
  double fx, fy, fz;
  bracket(x, g.origin_cm.x, g.spacing_cm.x, g.nx, i0, i1, fx);
  bracket(surface_y_cm + depth, g.origin_cm.y, g.spacing_cm.y, g.ny, j0, j1, fy);
  bracket(z, g.origin_cm.z, g.spacing_cm.z, g.nz, k0, k1, fz);
  double v = 0, var = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        const double w = (a ? fx : 1 - fx) * (b ? fy : 1 - fy) * (c ? fz : 1 - fz);
        if (w == 0) continue;
        const auto idx = std::size_t(g.index(a ? i1 : i0, b ? j1 : j0, c ? k1 : k0));
        v += w * dose[idx];
        var += w * w * std::pow(dose[idx] * rel_unc[idx], 2);
      }
  if (sigma) *sigma = std::sqrt(var);
  return v;
}

double WaterDose::axis(double depth, double half_cm, double* sigma) const {
  const auto& g = grid;
  int j0, j1;
  double fy;
  bracket(surface_y_cm + depth, g.origin_cm.y, g.spacing_cm.y, g.ny, j0, j1, fy);
  const double hx = std::max(half_cm, 0.5 * g.spacing_cm.x), hz = std::max(half_cm, 0.5 * g.spacing_cm.z);
  double s[2] = {0, 0}, v[2] = {0, 0};
  int n = 0;
  for (int k = 0; k < g.nz; ++k)
    for (int i = 0; i < g.nx; ++i) {
      const auto c = g.voxel_centre(i, 0, k);
      if (std::abs(c.x) > hx + 1e-9 || std::abs(c.z) > hz + 1e-9) continue;
      ++n;
      for (int t = 0; t < 2; ++t) {
        const auto idx = std::size_t(g.index(i, t ? j1 : j0, k));
        s[t] += dose[idx];
        v[t] += std::pow(dose[idx] * rel_unc[idx], 2);
      }
    }
  if (n == 0) throw std::logic_error("WaterDose::axis: no voxel on the axis");
  if (sigma) *sigma = std::sqrt((1 - fy) * (1 - fy) * v[0] + fy * fy * v[1]) / n;
  return ((1 - fy) * s[0] + fy * s[1]) / n;
}

double axis_region_cm(double fx, double fy) { return std::min(1.0, 0.125 * std::min(fx, fy)); }

double detector_radius_cm(const std::string& detector) {
  std::string d;  // lower case, without spaces ("CC 13 Field" -> "cc13field")
  for (char c : detector)
    if (c != ' ' && c != '_' && c != '-') d += char(std::tolower(static_cast<unsigned char>(c)));
  // Thimble chambers of ~0.1-0.13 cm3 (IBA CC13, PTW 31010 Semiflex 0.125 cm3): inner radius
  // 3 mm (docs/commissioning.md). Anything else: a point (diodes, microchambers, or unknown).
  for (const char* name : {"cc13", "0.125", "31010", "semiflex", "ic15", "chamber0.125"})
    if (d.find(name) != std::string::npos) return 0.3;
  return 0;
}

std::vector<double> detector_average(const std::vector<double>& x, const std::vector<double>& y, double r) {
  if (r <= 0 || x.size() < 2) return y;
  auto interp = [&](double u) {
    if (u <= x.front()) return y.front();
    if (u >= x.back()) return y.back();
    const auto it = std::upper_bound(x.begin(), x.end(), u);
    const std::size_t k = std::size_t(it - x.begin());
    const double f = (u - x[k - 1]) / (x[k] - x[k - 1]);
    return y[k - 1] + f * (y[k] - y[k - 1]);
  };
  // Chord-length weights sqrt(r^2 - u^2) at 41 midpoint nodes over [-r, r].
  const int n = 41;
  std::vector<double> u(static_cast<std::size_t>(n)), w(static_cast<std::size_t>(n));
  double ws = 0;
  for (int i = 0; i < n; ++i) {
    u[std::size_t(i)] = -r + (i + 0.5) * 2 * r / n;
    w[std::size_t(i)] = std::sqrt(std::max(0.0, r * r - u[std::size_t(i)] * u[std::size_t(i)]));
    ws += w[std::size_t(i)];
  }
  std::vector<double> out(y.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += w[std::size_t(i)] * interp(x[k] + u[std::size_t(i)]);
    out[k] = s / ws;
  }
  return out;
}

WaterRunner::WaterRunner(const beams::Machine& m, const std::string& tables_path, DeviceSpec device)
    : machine_(m), tables_(std::make_unique<phys::MaterialTables>(tables_path)), device_(device) {
  tables_sha_ = tables_->file_sha256();
}

WaterRunner::~WaterRunner() = default;

WaterDose WaterRunner::run(const Setup& s, const GridSpec& gs, const beams::SourceView& source,
                           std::int64_t histories, std::uint64_t seed, bool fold) {
  // An odd number of lateral voxels, one centred on the axis.
  const int nl = 2 * int(std::lround(gs.half_width_cm / gs.lateral_voxel_cm)) + 1;
  const int nd = int(std::lround(gs.depth_cm / gs.depth_voxel_cm));
  WaterDose out;
  out.surface_y_cm = -(machine_.sad_cm - s.ssd_cm);
  out.sad_cm = machine_.sad_cm;
  phys::GridGeometry g;
  g.nx = g.nz = nl;
  g.ny = nd;
  g.spacing_cm = {gs.lateral_voxel_cm, gs.depth_voxel_cm, gs.lateral_voxel_cm};
  g.origin_cm = {-0.5 * nl * gs.lateral_voxel_cm, out.surface_y_cm, -0.5 * nl * gs.lateral_voxel_cm};
  const int water = tables_->index("water");
  std::vector<std::int32_t> mat(std::size_t(g.size()), water);
  std::vector<float> rho(std::size_t(g.size()), float(tables_->density_g_cm3(water)));
  phys::TransportParams tp;
  tp.phantom.grid = g;
  tp.phantom.material = mat.data();
  tp.phantom.density_g_cm3 = rho.data();
  tp.phantom.max_density_g_cm3 = rho.front();
  tp.materials = tables_->data();
  phys::PhantomDerivedStorage derived;
  phys::use_phantom_derived_data(tp, derived);
  auto backend = make_backend(device_, tp, source, seed);
  SimulationSettings st;
  st.distribute_over_ranks = false;  // each MPI rank runs it whole (deterministic, identical)
  st.histories = histories;
  st.batches = 10;
  st.seed = seed;
  std::vector<std::vector<std::int64_t>> batch_energy;
  st.batch_energy = &batch_energy;
  const SimulationRun r = run_batches(tp.phantom, st, *backend);
  out.grid = g;
  out.dose = r.dose.dose_gy;
  out.rel_unc = r.dose.rel_uncertainty;
  out.histories = r.dose.histories;
  // Each batch's dose per history: its energy per history times the run's dose per unit of
  // energy per history in that voxel (dose_gy / (sum_b e_b / N)), so no unit is restated.
  if (batch_energy.size() >= 2 && batch_energy.size() == r.batch_histories.size()) {
    const std::size_t nv = out.dose.size();
    std::vector<double> total(nv, 0.0);
    for (const auto& e : batch_energy)
      for (std::size_t v = 0; v < nv; ++v) total[v] += double(e[v]);
    const double n_all = double(out.histories);
    out.batch_dose.assign(batch_energy.size(), std::vector<float>(nv, 0.0f));
    for (std::size_t b = 0; b < batch_energy.size(); ++b) {
      const double nb = double(r.batch_histories[b]);
      for (std::size_t v = 0; v < nv; ++v)
        if (total[v] > 0) out.batch_dose[b][v] = float(out.dose[v] * (double(batch_energy[b][v]) / nb) / (total[v] / n_all));
      std::vector<std::int64_t>().swap(batch_energy[b]);
    }
  }
  if (fold) fold_quadrants(out);
  return out;
}

std::vector<double> batch_sigma(const WaterDose& d,
                                const std::function<std::vector<double>(const WaterDose&)>& readout) {
  const std::size_t nb = d.batch_dose.size();
  if (nb < 2) return {};
  WaterDose one;
  one.grid = d.grid;
  one.surface_y_cm = d.surface_y_cm;
  one.sad_cm = d.sad_cm;
  one.rel_unc.assign(d.dose.size(), 0.0);
  std::vector<std::vector<double>> v;
  for (const auto& bd : d.batch_dose) {
    one.dose.assign(bd.begin(), bd.end());
    v.push_back(readout(one));
  }
  // Each batch's value is already per history: the batch estimate (region_batch_mean) with
  // one "history" per batch.
  const std::size_t n = v.front().size();
  const std::vector<std::int64_t> ones(nb, 1);
  std::vector<double> sigma(n, 0.0), per_batch(nb);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < nb; ++b) per_batch[b] = v[b][i];
    const RegionEstimate e = region_batch_mean(per_batch, ones);
    sigma[i] = e.rel_uncertainty * e.mean_per_history;
  }
  return sigma;
}

void fold_quadrants(WaterDose& d) {
  const auto& g = d.grid;
  for (int j = 0; j < g.ny; ++j)
    for (int k = 0; k <= (g.nz - 1) / 2; ++k)
      for (int i = 0; i <= (g.nx - 1) / 2; ++i) {
        const int im = g.nx - 1 - i, km = g.nz - 1 - k;
        std::int64_t idx[4] = {g.index(i, j, k), g.index(im, j, k), g.index(i, j, km), g.index(im, j, km)};
        // Distinct voxels only (the axis row and column are their own mirrors).
        int n = 0;
        std::int64_t u[4];
        for (auto v : idx)
          if (std::find(u, u + n, v) == u + n) u[n++] = v;
        double s = 0, var = 0;
        for (int q = 0; q < n; ++q) {
          const double x = d.dose[std::size_t(u[q])];
          s += x;
          var += std::pow(x * d.rel_unc[std::size_t(u[q])], 2);
        }
        const double mean = s / n, sd = std::sqrt(var) / n;
        for (int q = 0; q < n; ++q) {
          d.dose[std::size_t(u[q])] = mean;
          d.rel_unc[std::size_t(u[q])] = mean > 0 ? sd / mean : 0;
        }
        for (auto& bd : d.batch_dose) {
          float sb = 0;
          for (int q = 0; q < n; ++q) sb += bd[std::size_t(u[q])];
          for (int q = 0; q < n; ++q) bd[std::size_t(u[q])] = sb / float(n);
        }
      }
}

namespace {

// Local quadratic least-squares fit of (x, y) evaluated at x0 (weights equal).
bool local_quadratic(const std::vector<double>& x, const std::vector<double>& y, double x0, double& out) {
  const std::size_t n = x.size();
  if (n < 5) return false;
  double S[5] = {0, 0, 0, 0, 0}, T[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const double u = x[i] - x0;
    double p = 1;
    for (int k = 0; k < 5; ++k) {
      S[k] += p;
      if (k < 3) T[k] += p * y[i];
      p *= u;
    }
  }
  // Normal equations [S0 S1 S2; S1 S2 S3; S2 S3 S4] c = T; the value at x0 is c0.
  const double a = S[0], b = S[1], c = S[2], e = S[3], f = S[4];
  const double det = a * (c * f - e * e) - b * (b * f - e * c) + c * (b * e - c * c);
  if (!(std::abs(det) > 1e-300)) return false;
  const double det0 = T[0] * (c * f - e * e) - b * (T[1] * f - e * T[2]) + c * (T[1] * e - c * T[2]);
  out = det0 / det;
  return true;
}

}  // namespace

namespace {
// Half-width [cm] of the depth-dose read-out's smoothing window at depth z.
double smoothing_half_cm(double z) { return std::clamp(0.5 * (z - 1.0), 0.0, 2.5); }

// Whether layer centre zc lies in the smoothing window of depth z.
bool in_window(double zc, double z) { return std::abs(zc - z) <= smoothing_half_cm(z) + 1e-9; }

// The axis region's mean dose per depth layer (at the layer centres), and the depth-dose
// read-out's smoothing of it: the local quadratic over +-h(z), h = clamp((z - 1 cm) / 2, 0,
// 2.5 cm), at least 5 layers, else the region's dose interpolated at z. `only_z`: read only
// the layers of that depth's window (one output factor), not every layer (a whole curve).
struct AxisLayers {
  const WaterDose& d;
  double half;
  std::vector<double> zc, raw, rs;
  AxisLayers(const WaterDose& dose, double half_cm, const double* only_z = nullptr) : d(dose), half(half_cm) {
    const auto& g = d.grid;
    zc.resize(std::size_t(g.ny));
    raw.resize(std::size_t(g.ny));
    rs.resize(std::size_t(g.ny));
    for (int j = 0; j < g.ny; ++j) {
      zc[std::size_t(j)] = (j + 0.5) * g.spacing_cm.y;
      if (only_z && !in_window(zc[std::size_t(j)], *only_z)) continue;
      raw[std::size_t(j)] = d.axis(zc[std::size_t(j)], half, &rs[std::size_t(j)]);
    }
  }
  double smoothed(double z, double* sigma) const {
    if (smoothing_half_cm(z) > 0) {
      std::vector<double> xs, ys;
      double var = 0;
      for (std::size_t j = 0; j < zc.size(); ++j)
        if (in_window(zc[j], z)) {
          xs.push_back(zc[j]);
          ys.push_back(raw[j]);
          var += rs[j] * rs[j];
        }
      double q = 0;
      if (local_quadratic(xs, ys, z, q)) {
        // The fitted value's 1 sigma: ~ the layers' mean's, times the quadratic fit's
        // inflation at the centre (sqrt(9/4) for a symmetric window).
        if (sigma) *sigma = 1.5 * std::sqrt(var) / double(xs.size());
        return q;
      }
    }
    double sg = 0;
    const double v = d.axis(z, half, &sg);
    if (sigma) *sigma = sg;
    return v;
  }
};
}  // namespace

double smoothed_axis(const WaterDose& d, double depth_cm, double half_cm, double* sigma) {
  return AxisLayers(d, half_cm, &depth_cm).smoothed(depth_cm, sigma);
}

namespace {
// The read-out of computed_curve with the sigma propagated from the voxels' own.
CurveValues readout_curve(const io::MeasuredCurve& c, const WaterDose& d) {
  CurveValues out;
  out.value.resize(c.position_cm.size());
  out.sigma.resize(c.position_cm.size());
  const double r = detector_radius_cm(c.detector);
  const auto& g = d.grid;
  if (c.kind == io::CurveKind::depth_dose) {
    const double half = std::max(r, axis_region_cm(c.field_x_cm, c.field_y_cm));
    const AxisLayers layers(d, half);
    for (std::size_t i = 0; i < out.value.size(); ++i) out.value[i] = layers.smoothed(c.position_cm[i], &out.sigma[i]);
    return out;
  }
  // Field half-sizes at the depth of the profile (isocentre sizes scaled by divergence).
  const double scale = (d.sad_cm + d.surface_y_cm + c.depth_cm) / d.sad_cm;
  const double hx = 0.5 * c.field_x_cm * scale, hy = 0.5 * c.field_y_cm * scale;
  // Unit vectors of the scan and across it in the (x, z) plane; the edge along the scan and
  // the field's size across it.
  double sx = 1, sz = 0, edge = hx, across = 2 * hy;
  bool diagonal = false;
  switch (c.axis) {
    case io::ProfileAxis::crossplane: break;
    case io::ProfileAxis::inplane: sx = 0; sz = 1; edge = hy; across = 2 * hx; break;
    case io::ProfileAxis::diagonal:
      sx = sz = 1 / std::sqrt(2.0);
      edge = std::sqrt(2.0) * std::min(hx, hy);
      across = 2 * std::min(hx, hy);
      diagonal = true;
      break;
  }
  const double ax = -sz, az = sx;  // across the scan
  const double step = 0.5 * std::min(g.spacing_cm.x, g.spacing_cm.z);
  const double cap = std::max(0.0, 0.25 * (across - 2.0));
  auto window_mean = [&](double p, double* sigma) {
    const double dist = std::abs(std::abs(p) - edge);
    double h_scan = std::clamp(dist - 1.0, 0.0, 0.5);
    double h_across = diagonal ? std::clamp(dist - 1.0, 0.0, 0.5) : 0.5 + std::clamp(1.5 - dist, 0.0, 1.0);
    h_across = std::min(h_across, cap);
    const int ns = int(std::floor(h_scan / step + 1e-9)), na = int(std::floor(h_across / step + 1e-9));
    double s = 0, var = 0;
    int n = 0;
    for (int a = -na; a <= na; ++a)
      for (int b = -ns; b <= ns; ++b) {
        const double u = p + b * step, w = a * step;
        double sg = 0;
        s += d.at(u * sx + w * ax, c.depth_cm, u * sz + w * az, &sg);
        var += sg * sg;
        ++n;
      }
    // Samples every half voxel: about 2 x 2 samples per distinct voxel.
    const double distinct = std::max(1.0, double((2 * ns + 1) * (2 * na + 1)) / 4.0);
    if (sigma) *sigma = std::sqrt(var / n) / std::sqrt(distinct);
    return s / n;
  };
  // The windowed profile on a fine grid (0.05 cm) around the measured range, averaged by the
  // detector there, then read at the measured positions.
  const double lo = c.position_cm.front() - r - 0.1, hi = c.position_cm.back() + r + 0.1;
  const int n = int(std::ceil((hi - lo) / 0.05)) + 1;
  std::vector<double> xs(static_cast<std::size_t>(n)), ys(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    xs[std::size_t(i)] = lo + i * (hi - lo) / (n - 1);
    ys[std::size_t(i)] = window_mean(xs[std::size_t(i)], nullptr);
  }
  const std::vector<double> avg = detector_average(xs, ys, r);
  for (std::size_t i = 0; i < out.value.size(); ++i) {
    const double u = (c.position_cm[i] - lo) / (hi - lo) * (n - 1);
    const int k = std::clamp(int(std::floor(u)), 0, n - 2);
    const double f = u - k;
    out.value[i] = avg[std::size_t(k)] + f * (avg[std::size_t(k) + 1] - avg[std::size_t(k)]);
    window_mean(c.position_cm[i], &out.sigma[i]);
  }
  return out;
}

}  // namespace

CurveValues computed_curve(const io::MeasuredCurve& c, const WaterDose& d) {
  CurveValues out = readout_curve(c, d);
  const auto s = batch_sigma(d, [&](const WaterDose& one) { return readout_curve(c, one).value; });
  if (!s.empty()) out.sigma = s;
  return out;
}

}  // namespace sabre::commission
