#include "beams/delivery_build.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/errors.hh"
#include "core/log.hh"
#include "beams/robotic.hh"

namespace sabre::beams {

std::vector<double> unwrap_gantry(const std::vector<double>& deg, const std::vector<std::string>& dirs) {
  std::vector<double> out(deg.size());
  for (std::size_t k = 0; k < deg.size(); ++k) {
    if (k == 0) { out[0] = deg[0]; continue; }
    double step = std::fmod(deg[k] - deg[k - 1], 360.0);
    const std::string& dir = dirs[k - 1];
    if (dir == "CW") { if (step < 0) step += 360; }
    else if (dir == "CC") { if (step > 0) step -= 360; }
    else { if (step > 180) step -= 360; if (step < -180) step += 360; }
    out[k] = out[k - 1] + step;
  }
  return out;
}

CollimatorStack make_collimator_stack(const Machine& m, const std::vector<double>& bnd) {
  if (int(m.collimators.size()) > kMaxCollimators)
    throw InputError(m.path, "more than " + std::to_string(kMaxCollimators) + " collimators");
  CollimatorStack st;
  st.sad_cm = m.sad_cm;
  st.field_half_cm = 0.5 * m.max_field_cm;
  st.n = int(m.collimators.size());
  int first = 0;
  for (int d = 0; d < st.n; ++d) {
    const CollimatorSpec& c = m.collimators[std::size_t(d)];
    CollimatorDevice& dev = st.devices[d];
    dev.axis = c.axis;
    dev.first = first;
    if (c.kind == CollimatorKind::jaws) {
      dev.kind = CollimatorKind::jaws;
      dev.n_values = 2;
      dev.jaws.top_cm = c.top_cm;
      dev.jaws.bottom_cm = c.bottom_cm();
      dev.jaws.density_g_cm3 = c.density_g_cm3;
      st.jaws_on_axis[c.axis] = d;
    } else if (c.kind == CollimatorKind::cone) {
      dev.kind = CollimatorKind::cone;
      dev.n_values = 1;
      dev.cone.top_cm = c.top_cm;
      dev.cone.bottom_cm = c.bottom_cm();
      dev.cone.density_g_cm3 = c.density_g_cm3;
      st.cone = d;
    } else if (c.kind == CollimatorKind::iris) {
      dev.kind = CollimatorKind::iris;
      dev.n_values = 1;
      dev.iris.top_cm = c.top_cm;
      dev.iris.bottom_cm = c.bottom_cm();
      dev.iris.density_g_cm3 = c.density_g_cm3;
      dev.iris.inradius_per_size = c.inradius_per_size;
      st.iris = d;
    } else {
      const std::vector<double>& b = bnd.empty() ? c.boundaries_cm : bnd;
      dev.kind = CollimatorKind::mlc;
      MlcGeometry& g = dev.mlc;
      g.n_pairs = int(b.size()) - 1;
      g.boundaries_cm = b.data();
      g.top_cm = c.top_cm;
      g.bottom_cm = c.bottom_cm();
      g.density_g_cm3 = c.density_g_cm3;
      g.tongue_groove_cm = c.tongue_groove_cm;
      g.interleaf_gap_cm = c.interleaf_gap_cm;
      g.side_tilt = std::tan(c.leaf_side_tilt_rad);
      g.leaf_end_radius_cm = c.leaf_end_radius_cm;
      g.leaf_offset_cm = c.leaf_offset_cm;
      dev.n_values = 2 * g.n_pairs;
      st.mlc_on_axis[c.axis] = d;
    }
    first += dev.n_values;
  }
  st.n_values = first;
  return st;
}

namespace {

// The plan device of `b` that collimator `c` serves, or nullptr.
const LimitingDevice* plan_device(const Beam& b, const CollimatorSpec& c) {
  for (const auto& d : b.devices)
    if (c.serves(d.type)) return &d;
  return nullptr;
}

}  // namespace

double applicator_size_cm(const Machine& m, const Beam& b, const std::string& where,
                          const CollimatorSpec** collimator) {
  using P = ApplicatorChoice::Problem;
  const ApplicatorChoice c = choose_applicator(m, b);
  const Applicator& a = b.applicator;
  const std::string kind = c.collimator && c.collimator->kind == CollimatorKind::iris ? "Iris" : "cone";
  switch (c.problem) {
    case P::none: break;
    case P::no_collimator:
      throw InputError(where + ": applicator '" + a.id + "' of type " + (a.type.empty() ? "(none)" : a.type) +
                       " is not a cone" + (m.iris() ? " or the Iris" : "") + " of machine " + m.name + " (" + m.path +
                       ")");
    case P::no_geometry:
      throw InputError(where + ": applicator '" + a.id + "' gives no circular opening (ApplicatorGeometrySequence: "
                       "ApplicatorApertureShape SYM_CIRCULAR with ApplicatorOpening): the " + kind + " size is unknown");
    case P::no_size: {
      char mm[32];
      std::snprintf(mm, sizeof mm, "%g", a.opening_mm);
      throw InputError(where + ": applicator '" + a.id + "' opens " + mm + " mm, not one of machine " + m.name + "'s " +
                       kind + (kind == "cone" ? "s" : " sizes"));
    }
  }
  if (collimator) *collimator = c.collimator;
  return c.size_cm;
}

Delivery::Delivery(const Machine& m, const Plan& plan, const std::vector<int>& indices) {
  std::vector<int> use = indices;
  if (use.empty())
    for (int i = 0; i < int(plan.beams.size()); ++i) use.push_back(i);
  if (use.empty()) throw InputError(plan.path, "no treatment beams to deliver");
  // A robotic machine's MLC read from an MLCY encoding: the same leaves with the frame
  // turned by 90 degrees (beams/robotic.hh).
  bool any = false;
  for (int i : use) any |= reads_mlcy_as_mlcx(m, plan.beams.at(i));
  if (!any) {
    build(m, plan, use);
    return;
  }
  Plan mapped = plan;
  for (auto& b : mapped.beams)
    if (reads_mlcy_as_mlcx(m, b)) b = mlcy_as_mlcx(b);
  build(m, mapped, use);
}

void Delivery::build(const Machine& m, const Plan& plan, const std::vector<int>& use) {
  double total = 0;
  for (int i : use) total += plan.beams.at(i).mu;
  if (!(total > 0)) throw InputError(plan.path, "the beams deliver no MU");
  const CollimatorSpec* mlc = m.mlc();
  // The MLC boundaries: the first beam's with an MLC; the others must equal them.
  for (int i : use) {
    const Beam& b = plan.beams.at(i);
    const std::string where = plan.path + ": beam " + std::to_string(b.number) + " '" + b.name + "'";
    for (const auto& d : b.devices)
      if (!m.serving(d.type) && !m.ignores(d.type))
        throw InputError(where + ": device " + d.type + " is not on machine " + m.name + " (" + m.path + ")");
    if (b.has_applicator) applicator_size_cm(m, b, where, nullptr);  // checked here, used below
    const LimitingDevice* pm = mlc ? plan_device(b, *mlc) : nullptr;
    if (!pm) continue;
    if (pm->pairs != mlc->pairs())
      throw InputError(where + ": its " + pm->type + " has " + std::to_string(pm->pairs) + " leaf pairs, machine " +
                       m.name + "'s " + mlc->model + " has " + std::to_string(mlc->pairs()));
    std::vector<double> bc;
    for (double v : pm->boundaries_mm) bc.push_back(v / 10);
    for (std::size_t k = 0; k < bc.size(); ++k)
      if (std::abs(bc[k] - mlc->boundaries_cm[k]) > 1e-3)
        throw InputError(where + ": its leaf boundary " + std::to_string(k) + " (" + std::to_string(10 * bc[k]) +
                         " mm) is not machine " + m.name + "'s " + mlc->model + " (" +
                         std::to_string(10 * mlc->boundaries_cm[k]) + " mm)");
    if (boundaries_cm_.empty()) boundaries_cm_ = bc;
    else if (bc != boundaries_cm_)
      throw InputError(where + ": its MLC leaf boundaries differ from the other beams'");
  }
  if (boundaries_cm_.empty() && mlc) boundaries_cm_ = mlc->boundaries_cm;
  const CollimatorStack stack = make_collimator_stack(m, boundaries_cm_);
  std::set<std::string> ignored;
  cdf_.push_back(0);
  for (int i : use) {
    const Beam& b = plan.beams.at(i);
    const std::string where = plan.path + ": beam " + std::to_string(b.number) + " '" + b.name + "'";
    if (b.control_points.size() < 2) throw InputError(where + ": needs at least 2 control points");
    for (const auto& d : b.devices)
      if (m.ignores(d.type)) ignored.insert(d.type);
    // Which plan device positions each collimator, and which collimators are in the beam.
    std::vector<const LimitingDevice*> source(m.collimators.size(), nullptr);
    unsigned active = 0;
    const CollimatorSpec* held = nullptr;  // the cone or Iris the applicator selects
    const double held_cm = b.has_applicator ? applicator_size_cm(m, b, where, &held) : 0;
    int n_active = 0;
    for (std::size_t d = 0; d < m.collimators.size(); ++d) {
      source[d] = plan_device(b, m.collimators[d]);
      const CollimatorKind k = m.collimators[d].kind;
      if (k == CollimatorKind::jaws || source[d] || held == &m.collimators[d]) {
        active |= 1u << d;
        ++n_active;
      }
    }
    if (m.kind == DeliveryKind::robotic && n_active != 1)
      throw InputError(where + ": a node of robotic machine " + m.name + " needs exactly one collimator (a cone or " +
                       "the Iris as its applicator, or the MLC), this beam has " + std::to_string(n_active));
    BeamArrays a;
    std::vector<double> g;
    std::vector<std::string> dirs;
    for (const auto& c : b.control_points) {
      const std::string cw = where + ", control point " + std::to_string(c.index);
      a.meterset.push_back(c.cumulative_weight / b.final_weight);
      g.push_back(c.gantry_deg);
      dirs.push_back(c.gantry_direction);
      a.coll.push_back(c.collimator_deg);
      a.couch.push_back(c.couch_deg);
      a.pitch.push_back(c.table_pitch_deg);
      a.roll.push_back(c.table_roll_deg);
      for (std::size_t d = 0; d < m.collimators.size(); ++d) {
        const CollimatorSpec& spec = m.collimators[d];
        const int nv = stack.devices[d].n_values;
        if (spec.kind == CollimatorKind::cone || spec.kind == CollimatorKind::iris) {
          // the beam's cone or Iris size (0: none, out of the beam)
          a.positions.push_back(held == &spec ? held_cm : 0.0);
          continue;
        }
        const std::vector<double>* v = source[d] ? c.positions(source[d]->type) : nullptr;
        if (spec.kind == CollimatorKind::jaws && !v) {
          // A jaw pair the plan does not position is fully open.
          a.positions.push_back(-spec.max_open_cm);
          a.positions.push_back(spec.max_open_cm);
          continue;
        }
        if (!source[d]) {  // an MLC out of the beam
          a.positions.insert(a.positions.end(), std::size_t(nv), 0.0);
          continue;
        }
        if (!v || int(v->size()) != nv) throw InputError(cw + ": lacks the " + source[d]->type + " positions");
        for (double x : *v) a.positions.push_back(x / 10);
      }
      if (c.iso_mm != b.control_points.front().iso_mm)
        throw InputError(where + ": the isocentre moves within the beam (not supported)");
    }
    a.gantry = unwrap_gantry(g, dirs);
    arrays_.push_back(std::move(a));
    BeamDeliveryView v;
    v.n_cp = int(b.control_points.size());
    v.n_values = stack.n_values;
    v.active = active;
    const auto& iso = b.control_points.front().iso_mm;
    v.iso_cm = {iso[0] / 10, iso[1] / 10, iso[2] / 10};
    v.position = patient_position_from(b.patient_position);
    if (m.kind == DeliveryKind::robotic) {
      const NodeFrame nf = node_frame(m, b, where);
      v.fixed_frame = true;
      v.frame = nf.rot;
      v.iso_cm = nf.virtual_iso_cm;
    } else if (b.node) {
      throw InputError(where + ": a robotic node, but machine " + m.name + " is a " + to_string(m.kind));
    }
    beam_views_.push_back(v);
    cdf_.push_back(cdf_.back() + b.mu / total);
  }
  for (const auto& t : ignored)
    spdlog::warn("{}: device {} is ignored: machine {} has none ({})", plan.path, t, m.name, m.path);
  cdf_.back() = 1.0;
  for (std::size_t i = 0; i < arrays_.size(); ++i) {
    auto& v = beam_views_[i];
    auto& a = arrays_[i];
    v.meterset = a.meterset.data();
    v.gantry_deg = a.gantry.data();
    v.collimator_deg = a.coll.data();
    v.couch_deg = a.couch.data();
    v.pitch_deg = a.pitch.data();
    v.roll_deg = a.roll.data();
    v.positions_cm = a.positions.empty() ? nullptr : a.positions.data();
  }
  view_.n_beams = int(beam_views_.size());
  view_.beams = beam_views_.data();
  view_.beam_cdf = cdf_.data();
  view_.total_mu = total;
}

}  // namespace sabre::beams
