#include "beams/robotic.hh"

#include <cmath>
#include <sstream>

#include "core/errors.hh"

namespace sabre::beams {

namespace {

double norm(Vec3 v) { return std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }
Vec3 cross(Vec3 a, Vec3 b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
Vec3 scaled(Vec3 v, double k) { return {v.x * k, v.y * k, v.z * k}; }
Vec3 sum(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }

std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

Mat3 node_rotation(Vec3 s, Vec3 t, double roll_deg) {
  const Vec3 d{s.x - t.x, s.y - t.y, s.z - t.z};
  const Vec3 a = scaled(d, 1 / norm(d));
  // Reference x: patient left, or superior when the axis is within 8 degrees of it.
  Vec3 e{1, 0, 0};
  if (std::abs(a.x) > std::cos(deg_to_rad(8.0))) e = {0, 0, 1};
  Vec3 x = sum(e, scaled(a, -phys::dot(e, a)));
  x = scaled(x, 1 / norm(x));
  Vec3 y = cross(a, x);
  const double c = std::cos(deg_to_rad(roll_deg)), sn = std::sin(deg_to_rad(roll_deg));
  const Vec3 xr = sum(scaled(x, c), scaled(y, sn));
  const Vec3 yr = cross(a, xr);
  Mat3 r;
  const Vec3 cols[3] = {xr, yr, a};
  for (int j = 0; j < 3; ++j) {
    r.m[0][j] = cols[j].x;
    r.m[1][j] = cols[j].y;
    r.m[2][j] = cols[j].z;
  }
  return r;
}

NodeFrame node_frame(const Machine& m, const Beam& b, const std::string& where) {
  if (b.control_points.empty()) throw InputError(where + ": no control points");
  const ControlPoint& c0 = b.control_points.front();
  for (const auto& c : b.control_points)
    if (c.gantry_deg != c0.gantry_deg || c.collimator_deg != c0.collimator_deg || c.couch_deg != c0.couch_deg ||
        c.table_pitch_deg != c0.table_pitch_deg || c.table_roll_deg != c0.table_roll_deg || c.iso_mm != c0.iso_mm)
      throw InputError(where + ": the beam moves (angles or isocentre change between control points): a robotic "
                       "node is delivered from one fixed position");
  NodeFrame f;
  f.target_cm = {c0.iso_mm[0] / 10, c0.iso_mm[1] / 10, c0.iso_mm[2] / 10};
  if (b.node) {
    f.source_cm = {b.source_mm[0] / 10, b.source_mm[1] / 10, b.source_mm[2] / 10};
    const Vec3 d{f.source_cm.x - f.target_cm.x, f.source_cm.y - f.target_cm.y, f.source_cm.z - f.target_cm.z};
    f.distance_cm = norm(d);
    if (!(f.distance_cm > 0)) throw InputError(where + ": the source coincides with the target");
    f.rot = node_rotation(f.source_cm, f.target_cm, b.roll_deg);
  } else {
    BeamAngles a;
    a.gantry_deg = c0.gantry_deg;
    a.collimator_deg = c0.collimator_deg;
    a.couch_deg = c0.couch_deg;
    a.table_pitch_deg = c0.table_pitch_deg;
    a.table_roll_deg = c0.table_roll_deg;
    const PatientPosition pos = patient_position_from(b.patient_position);
    f.rot = beam_to_patient(a, pos, f.target_cm).rot;
    f.distance_cm = b.sad_mm / 10;
    if (!(f.distance_cm > 0)) throw InputError(where + ": SourceAxisDistance must be > 0");
    f.source_cm = sum(f.target_cm, scaled(f.rot * Vec3{0, 0, 1}, f.distance_cm));
  }
  double bottom = 0;
  for (const auto& c : m.collimators) bottom = c.bottom_cm() > bottom ? c.bottom_cm() : bottom;
  if (f.distance_cm <= bottom)
    throw InputError(where + ": the target is " + num(f.distance_cm) + " cm from the source, inside the collimator (" +
                     num(bottom) + " cm from the source)");
  const Vec3 a = f.rot * Vec3{0, 0, 1};
  f.virtual_iso_cm = sum(f.source_cm, scaled(a, -m.sad_cm));
  return f;
}

Beam mlcy_as_mlcx(const Beam& in) {
  const LimitingDevice* d = in.device("MLCY");
  if (!d || in.device("MLCX")) return in;
  Beam b = in;
  for (auto& dev : b.devices) {
    if (dev.type != "MLCY") continue;
    dev.type = "MLCX";
    std::vector<double> r(dev.boundaries_mm.rbegin(), dev.boundaries_mm.rend());
    for (double& v : r) v = -v;
    dev.boundaries_mm = r;
  }
  for (auto& c : b.control_points) {
    c.collimator_deg += 90;
    auto it = c.positions_mm.find("MLCY");
    if (it == c.positions_mm.end()) continue;
    const std::vector<double> v = it->second;
    const std::size_t n = v.size() / 2;
    std::vector<double> w(v.size());
    for (std::size_t k = 0; k < n; ++k) {
      w[k] = v[n - 1 - k];
      w[n + k] = v[2 * n - 1 - k];
    }
    c.positions_mm.erase(it);
    c.positions_mm["MLCX"] = w;
  }
  return b;
}

bool reads_mlcy_as_mlcx(const Machine& m, const Beam& b) {
  return m.kind == DeliveryKind::robotic && m.mlc() && m.mlc()->serves("MLCX") && !m.serving("MLCY") &&
         b.device("MLCY") && !b.device("MLCX");
}

ApplicatorChoice choose_applicator(const Machine& m, const Beam& b) {
  using P = ApplicatorChoice::Problem;
  ApplicatorChoice r;
  const Applicator& a = b.applicator;
  const CollimatorSpec* c = nullptr;
  if (const CollimatorSpec* iris = m.iris())
    for (const auto& p : iris->applicator_ids)
      if (glob_match(p, a.id)) c = iris;
  if (!c && m.cone() && m.cone()->serves_applicator(a.type)) c = m.cone();
  if (!c) {
    r.problem = P::no_collimator;
    r.why = "no cone for applicator type " + (a.type.empty() ? std::string("(none)") : a.type);
    if (m.iris()) r.why += " and no Iris for applicator ID '" + a.id + "'";
    return r;
  }
  r.collimator = c;
  const std::string kind = c->kind == CollimatorKind::iris ? "Iris" : "cone";
  if (a.aperture_shape != "SYM_CIRCULAR" || !(a.opening_mm > 0)) {
    r.problem = P::no_geometry;
    r.why = "no circular opening for the " + kind + " (applicator '" + a.id + "')";
    return r;
  }
  if (!c->has_size(a.opening_mm / 10)) {
    r.problem = P::no_size;
    r.why = "no " + num(a.opening_mm) + " mm " + kind;
    return r;
  }
  for (double d : c->diameters_cm)
    if (std::abs(d - a.opening_mm / 10) <= 1e-3) r.size_cm = d;
  return r;
}

}  // namespace sabre::beams
