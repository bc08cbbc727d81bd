#include "beams/plan_builder.hh"

#include <algorithm>
#include <cmath>

#include "core/errors.hh"

namespace sabre::beams {

std::vector<double> mlc_boundaries_mm(const std::string& model) {
  std::vector<std::pair<int, double>> groups;  // (count, width mm)
  if (model == "HD120") groups = {{14, 5.0}, {32, 2.5}, {14, 5.0}};
  else if (model == "Millennium120") groups = {{10, 10.0}, {40, 5.0}, {10, 10.0}};
  else throw UsageError("unknown MLC model '" + model + "' (HD120 or Millennium120)");
  double total = 0;
  for (auto [n, w] : groups) total += n * w;
  std::vector<double> b{-total / 2};
  for (auto [n, w] : groups)
    for (int i = 0; i < n; ++i) b.push_back(b.back() + w);
  return b;
}

std::vector<double> rectangle_leaves(const std::vector<double>& bnd, double x1, double x2, double y1,
                                     double y2, double park) {
  const int n = int(bnd.size()) - 1;
  std::vector<double> v(2 * n);
  for (int i = 0; i < n; ++i) {
    const double yc = 0.5 * (bnd[i] + bnd[i + 1]);
    const bool open = yc > y1 && yc < y2;
    v[i] = open ? x1 : park;
    v[i + n] = open ? x2 : park;
  }
  return v;
}

namespace {

void check_field(const FieldSpec& f) {
  if (!(f.x2_mm > f.x1_mm) || !(f.y2_mm > f.y1_mm))
    throw UsageError("the field needs x1 < x2 and y1 < y2");
  if (f.x1_mm < -200 || f.x2_mm > 200 || f.y1_mm < -200 || f.y2_mm > 200)
    throw UsageError("the field must lie within +-200 mm of the axis");
  if (!(f.mu > 0)) throw UsageError("MU must be > 0");
}

Beam base_beam(const FieldSpec& f, int number, const std::string& name, const std::string& type) {
  check_field(f);
  Beam b;
  b.number = number;
  b.name = name;
  b.machine_name = f.machine_name;
  b.type = type;
  b.fff = f.fff;
  b.fluence_mode_id = f.fff ? "FFF" : "";
  b.mu = f.mu;
  b.final_weight = 1;
  b.sad_mm = 1000;
  b.patient_position = f.patient_position;
  LimitingDevice jx{"ASYMX", 1, {}}, jy{"ASYMY", 1, {}}, mlc{"MLCX", 0, mlc_boundaries_mm(f.mlc_model)};
  mlc.pairs = int(mlc.boundaries_mm.size()) - 1;
  b.devices = {jx, jy, mlc};
  return b;
}

ControlPoint base_cp(const FieldSpec& f) {
  ControlPoint p;
  p.energy_mv = f.energy_mv;
  p.dose_rate = f.dose_rate;
  p.gantry_deg = f.gantry_deg;
  p.collimator_deg = f.collimator_deg;
  p.couch_deg = f.couch_deg;
  p.iso_mm = f.iso_mm;
  p.jaw_x_mm = {f.x1_mm - f.jaw_margin_mm, f.x2_mm + f.jaw_margin_mm};
  p.jaw_y_mm = {f.y1_mm - f.jaw_margin_mm, f.y2_mm + f.jaw_margin_mm};
  p.has_jaw_x = p.has_jaw_y = true;
  return p;
}

double wrap360(double a) {
  a = std::fmod(a, 360.0);
  return a < 0 ? a + 360 : a;
}

}  // namespace

Beam make_static_beam(const FieldSpec& f, int number, const std::string& name) {
  Beam b = base_beam(f, number, name, "STATIC");
  ControlPoint p = base_cp(f);
  p.mlc_mm = rectangle_leaves(b.devices[2].boundaries_mm, f.x1_mm, f.x2_mm, f.y1_mm, f.y2_mm,
                              0.5 * (f.x1_mm + f.x2_mm));
  p.cumulative_weight = 0;
  b.control_points.push_back(p);
  p.index = 1;
  p.cumulative_weight = 1;
  b.control_points.push_back(p);
  return b;
}

Beam make_step_and_shoot_beam(const FieldSpec& f, int segments, int number, const std::string& name) {
  if (segments < 1) throw UsageError("step-and-shoot needs at least 1 segment");
  Beam b = base_beam(f, number, name, "STATIC");
  const double cx = 0.5 * (f.x1_mm + f.x2_mm), cy = 0.5 * (f.y1_mm + f.y2_mm);
  for (int s = 0; s < segments; ++s) {
    const double k = 1.0 - double(s) / segments;  // 1, (n-1)/n, ...
    ControlPoint p = base_cp(f);
    p.mlc_mm = rectangle_leaves(b.devices[2].boundaries_mm, cx + k * (f.x1_mm - cx), cx + k * (f.x2_mm - cx),
                                cy + k * (f.y1_mm - cy), cy + k * (f.y2_mm - cy), cx);
    p.index = 2 * s;
    p.cumulative_weight = double(s) / segments;
    b.control_points.push_back(p);
    p.index = 2 * s + 1;
    p.cumulative_weight = double(s + 1) / segments;
    b.control_points.push_back(p);
  }
  return b;
}

Beam make_sliding_window_beam(const FieldSpec& f, double gap_mm, int n_cp, int number,
                              const std::string& name) {
  if (!(gap_mm > 0)) throw UsageError("the sliding-window gap must be > 0 mm");
  if (n_cp < 2) throw UsageError("a sliding window needs at least 2 control points");
  Beam b = base_beam(f, number, name, "DYNAMIC");
  const auto& bnd = b.devices[2].boundaries_mm;
  for (int k = 0; k < n_cp; ++k) {
    const double w = double(k) / (n_cp - 1);
    ControlPoint p = base_cp(f);
    // Leading leaf B from x1 to x2 + gap; trailing leaf A = B - gap: every x in [x1, x2]
    // sees the opening for the same meterset fraction gap / (x2 - x1 + gap).
    const double xb = f.x1_mm + w * (f.x2_mm - f.x1_mm + gap_mm);
    p.mlc_mm = rectangle_leaves(bnd, xb - gap_mm, xb, f.y1_mm, f.y2_mm, f.x1_mm - gap_mm);
    // Closed pairs are parked at x1 - gap, under the X1 jaw.
    p.index = k;
    p.cumulative_weight = w;
    b.control_points.push_back(p);
  }
  return b;
}

Beam make_arc_beam(const FieldSpec& f, double g0, double g1, const std::string& dir, int n_cp,
                   double modulation, int number, const std::string& name) {
  if (n_cp < 2) throw UsageError("an arc needs at least 2 control points");
  if (dir != "CW" && dir != "CC" && dir != "NONE") throw UsageError("arc direction must be CW, CC or NONE");
  if (modulation < 0 || modulation >= 1) throw UsageError("arc modulation must be in [0, 1)");
  double span = 0;  // degrees travelled
  if (dir == "CW") span = wrap360(g1 - g0);
  else if (dir == "CC") span = wrap360(g0 - g1);
  else if (wrap360(g0) != wrap360(g1)) throw UsageError("direction NONE needs equal start and stop angles");
  if (dir != "NONE" && span == 0) span = 360;
  Beam b = base_beam(f, number, name, "DYNAMIC");
  const auto& bnd = b.devices[2].boundaries_mm;
  const double cx = 0.5 * (f.x1_mm + f.x2_mm);
  for (int k = 0; k < n_cp; ++k) {
    const double w = double(k) / (n_cp - 1);
    ControlPoint p = base_cp(f);
    const double g = dir == "CW" ? g0 + w * span : dir == "CC" ? g0 - w * span : g0;
    p.gantry_deg = wrap360(g);
    if (p.gantry_deg >= 359.9999999) p.gantry_deg = 0;
    p.gantry_direction = k + 1 < n_cp ? dir : "NONE";
    const double scale = 1 - modulation * (1 - std::cos(2 * 3.14159265358979 * w)) / 2;
    p.mlc_mm = rectangle_leaves(bnd, cx + scale * (f.x1_mm - cx), cx + scale * (f.x2_mm - cx), f.y1_mm,
                                f.y2_mm, cx);
    p.index = k;
    p.cumulative_weight = w;
    b.control_points.push_back(p);
  }
  return b;
}

}  // namespace sabre::beams
