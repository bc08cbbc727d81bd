#include "beams/delivery_build.hh"

#include <cmath>

#include "core/errors.hh"

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

Delivery::Delivery(const Plan& plan, const std::vector<int>& indices) {
  std::vector<int> use = indices;
  if (use.empty())
    for (int i = 0; i < int(plan.beams.size()); ++i) use.push_back(i);
  if (use.empty()) throw InputError(plan.path, "no treatment beams to deliver");
  double total = 0;
  for (int i : use) total += plan.beams.at(i).mu;
  if (!(total > 0)) throw InputError(plan.path, "the beams deliver no MU");
  cdf_.push_back(0);
  for (int i : use) {
    const Beam& b = plan.beams.at(i);
    const std::string where = plan.path + ": beam " + std::to_string(b.number) + " '" + b.name + "'";
    if (b.control_points.size() < 2) throw InputError(where + ": needs at least 2 control points");
    BeamArrays a;
    std::vector<double> g;
    std::vector<std::string> dirs;
    const LimitingDevice* mlc = b.mlc();
    const int n = mlc ? mlc->pairs : 0;
    if (mlc) {
      std::vector<double> bc;
      for (double v : mlc->boundaries_mm) bc.push_back(v / 10);
      if (boundaries_cm_.empty()) boundaries_cm_ = bc;
      else if (bc != boundaries_cm_)
        throw InputError(where + ": its MLC leaf boundaries differ from the other beams'");
    }
    for (const auto& c : b.control_points) {
      a.meterset.push_back(c.cumulative_weight / b.final_weight);
      g.push_back(c.gantry_deg);
      dirs.push_back(c.gantry_direction);
      a.coll.push_back(c.collimator_deg);
      a.couch.push_back(c.couch_deg);
      a.pitch.push_back(c.table_pitch_deg);
      a.roll.push_back(c.table_roll_deg);
      // Without a jaw pair in the plan, that pair is fully open (20 cm each side).
      a.jaws.push_back(c.has_jaw_x ? c.jaw_x_mm[0] / 10 : -20);
      a.jaws.push_back(c.has_jaw_x ? c.jaw_x_mm[1] / 10 : 20);
      a.jaws.push_back(c.has_jaw_y ? c.jaw_y_mm[0] / 10 : -20);
      a.jaws.push_back(c.has_jaw_y ? c.jaw_y_mm[1] / 10 : 20);
      if (n > 0) {
        if (int(c.mlc_mm.size()) != 2 * n) throw InputError(where + ": control point lacks MLC positions");
        for (double v : c.mlc_mm) a.leaves.push_back(v / 10);
      }
      if (c.iso_mm != b.control_points.front().iso_mm)
        throw InputError(where + ": the isocentre moves within the beam (not supported)");
    }
    a.gantry = unwrap_gantry(g, dirs);
    arrays_.push_back(std::move(a));
    BeamDeliveryView v;
    v.n_cp = int(b.control_points.size());
    v.n_pairs = n;
    const auto& iso = b.control_points.front().iso_mm;
    v.iso_cm = {iso[0] / 10, iso[1] / 10, iso[2] / 10};
    const std::string& pp = b.patient_position;
    v.position = pp == "HFP" ? PatientPosition::HFP : pp == "FFS" ? PatientPosition::FFS
               : pp == "FFP" ? PatientPosition::FFP : PatientPosition::HFS;
    beam_views_.push_back(v);
    cdf_.push_back(cdf_.back() + b.mu / total);
  }
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
    v.jaws_cm = a.jaws.data();
    v.leaves_cm = a.leaves.empty() ? nullptr : a.leaves.data();
  }
  view_.n_beams = int(beam_views_.size());
  view_.beams = beam_views_.data();
  view_.beam_cdf = cdf_.data();
  view_.total_mu = total;
}

}  // namespace sabre::beams
