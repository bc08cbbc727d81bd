#include "beams/plan_source.hh"

#include <algorithm>
#include <cmath>

#include "core/errors.hh"

namespace sabre::beams {

VsmView make_vsm_view(const Machine& m, const BeamModel& b, std::vector<double>& edges, std::vector<double>& cdf,
                      const SourceOptions& opt) {
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
  v.margin_density = opt.margin_density;
  return v;
}

VsmView PlanSource::owned_vsm_view(const Machine& m, const BeamModel& b, const SourceOptions& opt) {
  VsmView v = make_vsm_view(m, b, edges_, cdf_, opt);
  fluence_r_ = b.fluence_r_cm;
  fluence_rel_ = b.fluence_rel;
  v.fluence_r_cm = fluence_r_.data();
  v.fluence_rel = fluence_rel_.data();
  return v;
}

PlanSource::PlanSource(const Machine& m, const BeamModel& b, const Plan& plan, const std::vector<int>& idx,
                       const SourceOptions& opt) {
  if (m.kind == DeliveryKind::helical) {
    if (opt.phsp) throw InputError(plan.path, "a phase-space source is not available for a tomotherapy machine");
    if (!idx.empty() && !(idx.size() == 1 && idx[0] == 0))
      throw InputError(plan.path, "a tomotherapy plan is delivered whole (one beam)");
    const CollimatorStack stack = make_collimator_stack(m, {});
    helical_ = std::make_unique<HelicalDelivery>(m, plan, stack);
    HelicalSourceView v;
    v.vsm = owned_vsm_view(m, b, opt);
    v.delivery = helical_->view();
    v.collimator = stack;
    v.roulette_threshold = opt.roulette_threshold;
    view_ = v;
    return;
  }
  // C-arm beams, and robotic nodes as fixed-frame beams of the same delivery (beams/robotic.hh).
  delivery_ = std::make_unique<Delivery>(m, plan, idx);
  const CollimatorStack stack = make_collimator_stack(m, delivery_->boundaries_cm());
  if (opt.phsp) {
    PhspSourceView v;
    v.n = std::int64_t(opt.phsp->size());
    v.particles = opt.phsp->data();
    v.delivery = delivery_->view();
    v.collimator = stack;
    v.sad_cm = m.sad_cm;
    v.roulette_threshold = opt.roulette_threshold;
    view_ = v;
    return;
  }
  LinacSourceView v;
  v.vsm = owned_vsm_view(m, b, opt);
  v.delivery = delivery_->view();
  v.collimator = stack;
  v.backscatter_kx = b.calibration.backscatter_kx;
  v.backscatter_ky = b.calibration.backscatter_ky;
  v.s_ref = b.monitor_signal(b.calibration.field_cm, b.calibration.field_cm);
  v.roulette_threshold = opt.roulette_threshold;
  view_ = v;
}

}  // namespace sabre::beams
