#include "beams/linac_build.hh"

#include <cmath>

#include "beams/plan_builder.hh"
#include "core/errors.hh"

namespace sabre::beams {

VsmView make_vsm_view(const Machine& m, const BeamModel& b, std::vector<double>& edges, std::vector<double>& cdf,
                      const LinacOptions& opt) {
  const auto& c = b.spectrum_energies_mev;
  const std::size_t n = c.size();
  edges.assign(n + 1, 0);
  for (std::size_t i = 1; i < n; ++i) edges[i] = 0.5 * (c[i - 1] + c[i]);
  edges[0] = std::max(0.0, c[0] - 0.5 * (c[1] - c[0]));
  edges[n] = c[n - 1] + 0.5 * (c[n - 1] - c[n - 2]);
  if (!(edges[0] > 0)) edges[0] = 0.5 * c[0];  // energies must stay > 0
  cdf.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) cdf[i + 1] = cdf[i] + b.spectrum_weights[i];
  for (double& v : cdf) v /= cdf[n];
  cdf[n] = 1;
  VsmView v;
  v.sad_cm = m.sad_cm;
  v.sigma_x_cm = b.primary.sigma_x_cm;
  v.sigma_y_cm = b.primary.sigma_y_cm;
  v.tail_weight = b.primary.tail_weight;
  v.tail_sigma_cm = b.primary.tail_sigma_cm;
  v.ef_weight = b.extrafocal.weight;
  v.ef_z_cm = b.extrafocal.z_cm;
  v.ef_sigma_cm = b.extrafocal.sigma_cm;
  v.ef_energy_scale = b.extrafocal.energy_scale;
  v.e_weight = b.electron.weight;
  v.e_mean_mev = b.electron.mean_energy_mev;
  v.e_radius_cm = b.electron.radius_cm;
  v.n_bins = int(n);
  v.edges_mev = edges.data();
  v.cdf = cdf.data();
  v.softening_per_cm = b.softening_per_cm;
  v.n_fluence = int(b.fluence_r_cm.size());
  v.fluence_r_cm = b.fluence_r_cm.data();
  v.fluence_rel = b.fluence_rel.data();
  v.margin_cm = opt.margin_cm;
  v.jx_top_cm = m.jaw_x.top_cm;
  v.jx_bottom_cm = m.jaw_x.top_cm + m.jaw_x.thickness_cm;
  v.jy_top_cm = m.jaw_y.top_cm;
  v.jy_bottom_cm = m.jaw_y.top_cm + m.jaw_y.thickness_cm;
  return v;
}

CollimatorGeometry make_collimator_geometry(const Machine& m, const std::vector<double>& bnd) {
  CollimatorGeometry g;
  g.sad_cm = m.sad_cm;
  g.jx_top_cm = m.jaw_x.top_cm;
  g.jx_bottom_cm = m.jaw_x.top_cm + m.jaw_x.thickness_cm;
  g.jx_density_g_cm3 = m.jaw_x.density_g_cm3;
  g.jy_top_cm = m.jaw_y.top_cm;
  g.jy_bottom_cm = m.jaw_y.top_cm + m.jaw_y.thickness_cm;
  g.jy_density_g_cm3 = m.jaw_y.density_g_cm3;
  g.n_pairs = bnd.empty() ? 0 : int(bnd.size()) - 1;
  g.boundaries_cm = bnd.empty() ? nullptr : bnd.data();
  g.mlc_top_cm = m.mlc.top_cm;
  g.mlc_bottom_cm = m.mlc.top_cm + m.mlc.height_cm;
  g.mlc_density_g_cm3 = m.mlc.density_g_cm3;
  g.tongue_groove_cm = m.mlc.tongue_groove_cm;
  g.interleaf_gap_cm = m.mlc.interleaf_gap_cm;
  g.leaf_end_radius_cm = m.mlc.leaf_end_radius_cm;
  g.leaf_offset_cm = m.mlc.leaf_offset_cm;
  return g;
}

LinacSource::LinacSource(const Machine& m, const BeamModel& b, const Plan& plan, const std::vector<int>& idx,
                         const LinacOptions& opt) {
  delivery_ = std::make_unique<Delivery>(plan, idx);
  view_.vsm = make_vsm_view(m, b, edges_, cdf_, opt);
  fluence_r_ = b.fluence_r_cm;
  fluence_rel_ = b.fluence_rel;
  view_.vsm.fluence_r_cm = fluence_r_.data();
  view_.vsm.fluence_rel = fluence_rel_.data();
  view_.delivery = delivery_->view();
  view_.collimator = make_collimator_geometry(m, delivery_->boundaries_cm());
  view_.backscatter_kx = b.calibration.backscatter_kx;
  view_.backscatter_ky = b.calibration.backscatter_ky;
  view_.s_ref = b.monitor_signal(b.calibration.field_cm, b.calibration.field_cm);
  view_.roulette_threshold = opt.roulette_threshold;
  // The plan's MLC must be the model's: same number of pairs.
  if (view_.collimator.n_pairs > 0 && view_.collimator.n_pairs != m.mlc.leaf_pairs)
    throw InputError(plan.path, "the plan's MLC has " + std::to_string(view_.collimator.n_pairs) +
                                    " leaf pairs, machine model " + m.name + " has " +
                                    std::to_string(m.mlc.leaf_pairs));
}

Plan reference_field_plan(const Machine& m, const BeamModel& b, double fx, double fy,
                          const std::array<double, 3>& iso_cm, double mu) {
  FieldSpec f;
  f.machine_name = m.name;
  f.mlc_model = m.mlc.model;
  f.energy_mv = b.energy_mv;
  f.fff = b.fff;
  f.mu = mu;
  f.x1_mm = -5 * fx; f.x2_mm = 5 * fx; f.y1_mm = -5 * fy; f.y2_mm = 5 * fy;
  f.iso_mm = {iso_cm[0] * 10, iso_cm[1] * 10, iso_cm[2] * 10};
  Beam beam = make_static_beam(f, 1, "reference");
  // Retract the leaves 1 cm behind the jaws: the field is set by the jaws alone.
  const int n = beam.mlc()->pairs;
  const auto& bnd = beam.mlc()->boundaries_mm;
  for (auto& cp : beam.control_points)
    for (int i = 0; i < n; ++i) {
      // Pairs within 1 cm of the field open 1 cm beyond the jaws; the others close under X1.
      const bool inside = bnd[i + 1] > f.y1_mm - 10 && bnd[i] < f.y2_mm + 10;
      cp.mlc_mm[i] = f.x1_mm - 10;
      cp.mlc_mm[i + n] = inside ? f.x2_mm + 10 : f.x1_mm - 10;
    }
  Plan p;
  p.path = "(reference field " + std::to_string(fx) + " x " + std::to_string(fy) + " cm)";
  p.beams.push_back(beam);
  return p;
}

}  // namespace sabre::beams
