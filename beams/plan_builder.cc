#include "beams/plan_builder.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.hh"

namespace sabre::beams {

std::vector<LimitingDevice> plan_devices(const Machine& m) {
  std::vector<LimitingDevice> out;
  for (const auto& c : m.collimators) {
    if (c.kind == CollimatorKind::cone || c.kind == CollimatorKind::iris) continue;  // applicators
    LimitingDevice d;
    d.type = c.name();
    if (c.kind == CollimatorKind::jaws) {
      d.pairs = 1;
    } else {
      d.pairs = c.pairs();
      for (double b : c.boundaries_cm) d.boundaries_mm.push_back(10 * b);
    }
    out.push_back(d);
  }
  return out;
}

std::string default_machine_name(const Machine& m) {
  std::string name = m.match_names.empty() ? m.name : m.match_names.front();
  name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == '*' || c == '?'; }), name.end());
  return name.empty() ? m.name : name;
}

FieldSpec field_for(const Machine& m, const BeamModel& b) {
  FieldSpec f;
  f.machine_name = default_machine_name(m);
  f.devices = plan_devices(m);
  f.sad_mm = 10 * m.sad_cm;
  f.energy_mv = b.energy_mv;
  f.fff = b.fff;
  if (const CollimatorSpec* cone = m.cone()) f.cone_applicator_type = cone->applicator_types.front();
  return f;
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

bool along_x(const std::string& type) { return type == "X" || type == "ASYMX" || type == "MLCX"; }

void check_field(const FieldSpec& f) {
  if (f.devices.empty() && !(f.cone_mm > 0))
    throw UsageError("a field needs the machine's beam-limiting devices (field_for) or a cone");
  if (!(f.x2_mm > f.x1_mm) || !(f.y2_mm > f.y1_mm))
    throw UsageError("the field needs x1 < x2 and y1 < y2");
  if (f.x1_mm < -200 || f.x2_mm > 200 || f.y1_mm < -200 || f.y2_mm > 200)
    throw UsageError("the field must lie within +-200 mm of the axis");
  if (!(f.mu > 0)) throw UsageError("MU must be > 0");
  if (f.cone_mm < 0) throw UsageError("the cone diameter must be > 0 mm");
  if (f.cone_mm > 0 && f.cone_applicator_type.empty()) throw UsageError("this machine has no cones");
  if (f.iris && !(f.cone_mm > 0)) throw UsageError("an Iris field needs its size (cone_mm)");
}

// The field's rectangle in the MLC's frame: m along the leaf motion, c across the leaves
// (x and y for an MLCX, y and x for an MLCY).
struct Rect {
  double m1, m2, c1, c2;
};
Rect motion_rect(const FieldSpec& f, const Beam& b) {
  const LimitingDevice* mlc = b.mlc();
  if (mlc && !along_x(mlc->type)) return {f.y1_mm, f.y2_mm, f.x1_mm, f.x2_mm};
  return {f.x1_mm, f.x2_mm, f.y1_mm, f.y2_mm};
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
  b.sad_mm = f.sad_mm;
  b.patient_position = f.patient_position;
  b.devices = f.devices;
  if (f.cone_mm > 0) {
    char id[32];
    std::snprintf(id, sizeof id, f.iris ? "IRIS %g MM" : "CONE %g MM", f.cone_mm);
    b.has_applicator = true;
    b.applicator.id = id;
    b.applicator.type = f.cone_applicator_type;
    b.applicator.aperture_shape = "SYM_CIRCULAR";
    b.applicator.opening_mm = f.cone_mm;
  }
  return b;
}

// Angles, isocentre and the jaws (the field plus the jaw margin).
ControlPoint base_cp(const FieldSpec& f, const Beam& b) {
  ControlPoint p;
  p.energy_mv = f.energy_mv;
  p.dose_rate = f.dose_rate;
  p.gantry_deg = f.gantry_deg;
  p.collimator_deg = f.collimator_deg;
  p.couch_deg = f.couch_deg;
  p.iso_mm = f.iso_mm;
  for (const auto& d : b.devices)
    if (is_jaw_type(d.type))
      p.positions_mm[d.type] = along_x(d.type)
                                   ? std::vector<double>{f.x1_mm - f.jaw_margin_mm, f.x2_mm + f.jaw_margin_mm}
                                   : std::vector<double>{f.y1_mm - f.jaw_margin_mm, f.y2_mm + f.jaw_margin_mm};
  return p;
}

// The MLC (if any) open over [m1, m2] along its motion for the pairs across [c1, c2].
void set_mlc(ControlPoint& p, const Beam& b, double m1, double m2, double c1, double c2, double park) {
  if (const LimitingDevice* mlc = b.mlc())
    p.positions_mm[mlc->type] = rectangle_leaves(mlc->boundaries_mm, m1, m2, c1, c2, park);
}

double wrap360(double a) {
  a = std::fmod(a, 360.0);
  return a < 0 ? a + 360 : a;
}

}  // namespace

Beam make_static_beam(const FieldSpec& f, int number, const std::string& name) {
  Beam b = base_beam(f, number, name, "STATIC");
  ControlPoint p = base_cp(f, b);
  const Rect r = motion_rect(f, b);
  set_mlc(p, b, r.m1, r.m2, r.c1, r.c2, 0.5 * (r.m1 + r.m2));
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
  if (!b.mlc()) throw UsageError("step-and-shoot needs a machine with an MLC");
  const Rect r = motion_rect(f, b);
  const double cx = 0.5 * (r.m1 + r.m2), cy = 0.5 * (r.c1 + r.c2);
  for (int s = 0; s < segments; ++s) {
    const double k = 1.0 - double(s) / segments;  // 1, (n-1)/n, ...
    ControlPoint p = base_cp(f, b);
    set_mlc(p, b, cx + k * (r.m1 - cx), cx + k * (r.m2 - cx), cy + k * (r.c1 - cy), cy + k * (r.c2 - cy), cx);
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
  if (!b.mlc()) throw UsageError("a sliding window needs a machine with an MLC");
  const Rect r = motion_rect(f, b);
  for (int k = 0; k < n_cp; ++k) {
    const double w = double(k) / (n_cp - 1);
    ControlPoint p = base_cp(f, b);
    // Leading leaf B from m1 to m2 + gap; trailing leaf A = B - gap: every point in
    // [m1, m2] sees the opening for the same meterset fraction gap / (m2 - m1 + gap).
    // Closed pairs are parked at m1 - gap (under jaw 1 where there is one).
    const double xb = r.m1 + w * (r.m2 - r.m1 + gap_mm);
    set_mlc(p, b, xb - gap_mm, xb, r.c1, r.c2, r.m1 - gap_mm);
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
  const Rect r = motion_rect(f, b);
  const double cx = 0.5 * (r.m1 + r.m2);
  for (int k = 0; k < n_cp; ++k) {
    const double w = double(k) / (n_cp - 1);
    ControlPoint p = base_cp(f, b);
    const double g = dir == "CW" ? g0 + w * span : dir == "CC" ? g0 - w * span : g0;
    p.gantry_deg = wrap360(g);
    if (p.gantry_deg >= 359.9999999) p.gantry_deg = 0;
    p.gantry_direction = k + 1 < n_cp ? dir : "NONE";
    const double scale = 1 - modulation * (1 - std::cos(2 * 3.14159265358979 * w)) / 2;
    set_mlc(p, b, cx + scale * (r.m1 - cx), cx + scale * (r.m2 - cx), r.c1, r.c2, cx);
    p.index = k;
    p.cumulative_weight = w;
    b.control_points.push_back(p);
  }
  return b;
}

Plan reference_field_plan(const Machine& m, const BeamModel& bm, double fx, double fy,
                          const std::array<double, 3>& iso_cm, double mu) {
  FieldSpec f = field_for(m, bm);
  f.machine_name = m.name;
  f.mu = mu;
  if (m.kind == DeliveryKind::helical) {
    // A tomotherapy reference field: one fixed-angle projection at gantry 0 of `mu` seconds,
    // the leaves whose slot lies inside |x| < fx / 2 open, the jaws at fy (at most their widest).
    const CollimatorSpec* mlc = m.mlc();
    const CollimatorSpec* jaws = m.serving("ASYMY") ? m.serving("ASYMY") : m.serving("Y");
    if (!mlc || !jaws) throw InputError(m.path, "a tomotherapy machine needs jaws along y and a binary MLC");
    Beam b;
    b.number = 1;
    b.name = "reference";
    b.machine_name = f.machine_name;
    b.type = "STATIC";
    b.fff = bm.fff;
    b.helical = true;
    b.mu = mu;
    Sinogram& s = b.sinogram;
    s.n_leaves = mlc->pairs();
    s.geometry = "FIXED_ANGLE";
    s.fixed_gantry_deg = {0.0};
    s.projection_time_s = mu;
    s.jaw_width_mm = 10 * std::min(fy, 2 * jaws->max_open_cm);
    for (int i = 0; i < s.n_leaves; ++i) {
      const double lo = mlc->boundaries_cm[std::size_t(i)], hi = mlc->boundaries_cm[std::size_t(i + 1)];
      s.open_fraction.push_back(lo >= -0.5 * fx - 1e-9 && hi <= 0.5 * fx + 1e-9 ? 1.0 : 0.0);
    }
    ControlPoint c;
    c.energy_mv = bm.energy_mv;
    c.iso_mm = {iso_cm[0] * 10, iso_cm[1] * 10, iso_cm[2] * 10};
    ControlPoint c1 = c;
    c1.index = 1;
    c1.cumulative_weight = 1;
    b.control_points = {c, c1};
    Plan p;
    p.path = "(reference field " + std::to_string(fx) + " x " + std::to_string(fy) + " cm)";
    p.beams.push_back(b);
    return p;
  }
  if (m.kind == DeliveryKind::robotic) {
    // A robotic machine's reference field is a cone of diameter fx at the SAD.
    if (!m.cone() || !m.cone()->has_size(fx))
      throw InputError(m.path, "the reference field of a robotic machine is one of its cones: no " +
                                   std::to_string(10 * fx) + " mm cone");
    f.devices.clear();
    f.cone_mm = 10 * fx;
    f.iso_mm = {iso_cm[0] * 10, iso_cm[1] * 10, iso_cm[2] * 10};
    Plan p;
    p.path = "(reference cone " + std::to_string(10 * fx) + " mm)";
    p.beams.push_back(make_static_beam(f, 1, "reference"));
    return p;
  }
  f.x1_mm = -5 * fx; f.x2_mm = 5 * fx; f.y1_mm = -5 * fy; f.y2_mm = 5 * fy;
  f.iso_mm = {iso_cm[0] * 10, iso_cm[1] * 10, iso_cm[2] * 10};
  Beam beam = make_static_beam(f, 1, "reference");
  if (const LimitingDevice* mlc = beam.mlc()) {
    const int axis = along_x(mlc->type) ? 0 : 1;
    bool jaws_on_axis = false;
    for (const auto& c : m.collimators) jaws_on_axis |= c.kind == CollimatorKind::jaws && c.axis == axis;
    if (jaws_on_axis) {
      // Retract the leaves 1 cm behind the jaws: the field is set by the jaws alone. Pairs
      // within 1 cm of the field open 1 cm beyond the jaws; the others close under jaw 1.
      const Rect r = motion_rect(f, beam);
      const int n = mlc->pairs;
      const auto& bnd = mlc->boundaries_mm;
      for (auto& cp : beam.control_points) {
        std::vector<double>& v = cp.positions_mm[mlc->type];
        for (int i = 0; i < n; ++i) {
          const bool inside = bnd[i + 1] > r.c1 - 10 && bnd[i] < r.c2 + 10;
          v[i] = r.m1 - 10;
          v[i + n] = inside ? r.m2 + 10 : r.m1 - 10;
        }
      }
    }
  }
  Plan p;
  p.path = "(reference field " + std::to_string(fx) + " x " + std::to_string(fy) + " cm)";
  p.beams.push_back(beam);
  return p;
}

}  // namespace sabre::beams
