#include "engine/commission/parts.hh"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace sabre::commission {

PartSource::PartSource(const beams::Machine& m, const beams::BeamModel& b, const beams::Plan& plan,
                       const PartSpec& spec, const beams::SourceOptions& opt) {
  source_ = std::make_unique<beams::PlanSource>(m, b, plan, std::vector<int>{}, opt);
  beams::LinacSourceView v = std::get<beams::LinacSourceView>(source_->view());
  switch (spec.part) {
    case Part::primary: v.vsm.e_weight = 0; v.vsm.ef_weight = 0; break;
    case Part::extrafocal: v.vsm.e_weight = 0; v.vsm.ef_weight = 1; break;
    case Part::electrons: v.vsm.e_weight = 1; v.vsm.ef_weight = 0; break;
  }
  if (spec.part != Part::electrons && spec.e_hi_mev > 0) {
    if (!(spec.e_hi_mev > spec.e_lo_mev && spec.e_lo_mev >= 0))
      throw std::invalid_argument("PartSource: energy bin must have e_hi > e_lo >= 0");
    edges_ = {spec.e_lo_mev, spec.e_hi_mev};
    cdf_ = {0, 1};
    v.vsm.n_bins = 1;
    v.vsm.edges_mev = edges_.data();
    v.vsm.cdf = cdf_.data();
  }
  if (spec.part != Part::electrons && !spec.spectrum_weights.empty()) {
    if (int(spec.spectrum_weights.size()) != v.vsm.n_bins)
      throw std::invalid_argument("PartSource: spectrum weights must match the model's bins");
    weighted_cdf_.assign(spec.spectrum_weights.size() + 1, 0.0);
    for (std::size_t i = 0; i < spec.spectrum_weights.size(); ++i) {
      if (spec.spectrum_weights[i] < 0) throw std::invalid_argument("PartSource: negative spectrum weight");
      weighted_cdf_[i + 1] = weighted_cdf_[i] + spec.spectrum_weights[i];
    }
    if (!(weighted_cdf_.back() > 0)) throw std::invalid_argument("PartSource: spectrum weights sum to 0");
    for (double& x : weighted_cdf_) x /= weighted_cdf_.back();
    weighted_cdf_.back() = 1;
    v.vsm.cdf = weighted_cdf_.data();
  }
  if (spec.knot >= 0) {
    if (spec.part != Part::primary || spec.knot >= v.vsm.n_fluence)
      throw std::invalid_argument("PartSource: a fluence knot applies to the primary part, within the grid");
    hat_.assign(std::size_t(v.vsm.n_fluence), 0.0);
    hat_[std::size_t(spec.knot)] = 1;
    v.vsm.fluence_rel = hat_.data();
    // Aims on the hat's support only (beams/vsm.hh, ring restriction): over the whole field
    // most histories would carry weight 0 (a 2 cm ring at r = 10 cm is a quarter of a 30 x
    // 30 field), the noise in the basis that pulled the fitted fluence low. The last knot's
    // hat stays 1 beyond it (the table is clamped): its ring reaches past every window.
    const int k = spec.knot, n = v.vsm.n_fluence;
    const double* r = v.vsm.fluence_r_cm;
    v.vsm.ring_lo_cm = k > 0 ? r[k - 1] : 0.0;
    v.vsm.ring_hi_cm = k + 1 < n ? r[k + 1]
                                 : std::max(r[n - 1], std::sqrt(2.0) * (0.5 * m.max_field_cm + v.vsm.margin_cm) + 5.0);
  }
  view_ = v;
}

}  // namespace sabre::commission
