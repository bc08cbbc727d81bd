#include "beams/helical_build.hh"

#include <cmath>
#include <string>

#include "core/errors.hh"

namespace sabre::beams {

double latency_open_fraction(double f, double t_s, double latency_s) {
  if (f >= 1 || !(f > 0) || !(latency_s > 0)) return f;
  const double e = f - latency_s / t_s;
  return e > 0 ? e : 0.0;
}

HelicalDelivery::HelicalDelivery(const Machine& m, const Plan& plan, const CollimatorStack& st) {
  if (plan.beams.size() != 1 || !plan.beams.front().helical)
    throw InputError(plan.path, "a tomotherapy plan is one helical or fixed-angle beam with a sinogram (" +
                                    std::to_string(plan.beams.size()) + " beams here)");
  const Beam& b = plan.beams.front();
  const Sinogram& s = b.sinogram;
  const std::string where = plan.path + ": beam " + std::to_string(b.number) + " '" + b.name + "'";
  const int jd = st.jaws_on_axis[1], md = st.mlc_on_axis[1];
  if (jd < 0 || md < 0 || st.jaws_on_axis[0] >= 0 || st.mlc_on_axis[0] >= 0)
    throw InputError(m.path, "a tomotherapy machine needs one jaw pair and one binary MLC, both along y");
  const CollimatorDevice& mlc = st.devices[md];
  if (s.n_leaves != mlc.mlc.n_pairs)
    throw InputError(where + ": the sinogram has " + std::to_string(s.n_leaves) + " leaves, machine " + m.name +
                     "'s MLC " + std::to_string(mlc.mlc.n_pairs));
  if (2 + 2 * s.n_leaves > kMaxHelicalValues) throw InputError(m.path, "too many MLC leaves for a tomotherapy MLC");
  const int n = s.n_projections();
  if (n < 1 || int(s.open_fraction.size()) != n * s.n_leaves)
    throw InputError(where + ": the sinogram needs whole projections of " + std::to_string(s.n_leaves) + " leaves");
  if (!(s.projection_time_s > 0)) throw InputError(where + ": the projection time must be > 0 s");
  const CollimatorSpec* jaws = m.serving("ASYMY") ? m.serving("ASYMY") : m.serving("Y");
  const double half = 0.05 * s.jaw_width_mm;
  const double off = 0.1 * s.jaw_offset_mm;
  if (!(half > 0) || !jaws || std::abs(off) + half > jaws->max_open_cm + 1e-9)
    throw InputError(where + ": jaw width " + std::to_string(s.jaw_width_mm) + " mm (offset " +
                     std::to_string(s.jaw_offset_mm) + " mm) is not one the jaws can open");
  const double latency = s.leaf_latency ? m.leaf_latency_s : 0.0;
  open_.resize(s.open_fraction.size());
  for (std::size_t i = 0; i < open_.size(); ++i) {
    const double f = s.open_fraction[i];
    if (!(f >= 0 && f <= 1))
      throw InputError(where + ": open fraction " + std::to_string(f) + " of projection " +
                       std::to_string(int(i) / s.n_leaves) + ", leaf " + std::to_string(int(i) % s.n_leaves + 1) +
                       " is outside [0, 1]");
    open_[i] = float(latency_open_fraction(f, s.projection_time_s, latency));
  }
  HelicalDeliveryView& v = view_;
  v.n_proj = n;
  v.n_leaves = s.n_leaves;
  v.open_fraction = open_.data();
  if (s.geometry == "FIXED_ANGLE") {
    if (int(s.fixed_gantry_deg.size()) != n)
      throw InputError(where + ": FIXED_ANGLE needs one gantry angle per projection (" +
                       std::to_string(s.fixed_gantry_deg.size()) + " for " + std::to_string(n) + ")");
    fixed_ = s.fixed_gantry_deg;
    couch_index_.resize(fixed_.size());
    double j = 0;
    for (std::size_t k = 0; k < fixed_.size(); ++k) {
      if (k > 0 && fixed_[k] != fixed_[k - 1]) j = 0;
      couch_index_[k] = j;
      j += 1;
    }
    v.fixed_angle = true;
    v.fixed_gantry_deg = fixed_.data();
    v.couch_index = couch_index_.data();
  } else if (s.geometry == "HELICAL") {
    if (s.projections_per_rotation < 1) throw InputError(where + ": projections per rotation must be >= 1");
    v.gantry_start_deg = s.gantry_start_deg;
    v.deg_per_projection = 360.0 / s.projections_per_rotation;
  } else {
    throw InputError(where + ": geometry '" + s.geometry + "' is not HELICAL or FIXED_ANGLE");
  }
  if (b.control_points.empty()) throw InputError(where + ": no start isocentre");
  const auto& iso = b.control_points.front().iso_mm;
  v.iso_start_cm = {iso[0] / 10, iso[1] / 10, iso[2] / 10};
  v.position = patient_position_from(b.patient_position);
  // The couch carries the patient along +Y of IEC f/t: the beam plane moves along -Y_t in
  // the patient (couch and table-top angles 0).
  const Vec3 step_t{0, -0.1 * s.couch_mm_per_projection, 0};
  v.iso_step_cm = patient_to_table_top(v.position).transposed() * step_t;
  v.jaw_first = st.devices[jd].first;
  v.mlc_first = mlc.first;
  v.jaw1_cm = off - half;
  v.jaw2_cm = off + half;
  v.leaf_park_cm = jaws->max_open_cm + 2.0;  // beyond the widest jaw opening
  v.active = 0;
  for (int d = 0; d < st.n; ++d) v.active |= 1u << d;
  v.total_time_s = n * s.projection_time_s;
}

}  // namespace sabre::beams
