// One part of a machine beam's virtual source model, for basis doses: the primary photons,
// the extra-focal photons or the contamination electrons alone, with the photon spectrum
// reduced to one histogram bin and, optionally, the primary fluence to one hat function of
// the off-axis profile. The dose of the full model is a linear combination of these parts'
// doses (beams/vsm.hh: the component is chosen with probability w_c, the energy from the
// spectrum independently of the position, the weight from the fluence), which is what the
// commissioning fits rest on. Host only.
#pragma once

#include <memory>
#include <vector>

#include "beams/machine.hh"
#include "beams/plan.hh"
#include "beams/plan_source.hh"

namespace sabre::commission {

enum class Part { primary, extrafocal, electrons };

struct PartSpec {
  Part part = Part::primary;
  // Photons: the spectrum restricted to [e_lo, e_hi) MeV, uniformly (e_hi <= 0: the model's).
  double e_lo_mev = 0, e_hi_mev = 0;
  // Photons: other relative weights of the model's spectrum bins (empty: the model's).
  std::vector<double> spectrum_weights;
  // Primary photons: the off-axis fluence replaced by the hat function of knot `knot` of the
  // model's fluence_r_cm grid (-1: the model's fluence); its aims drawn on the hat's support
  // only (beams/vsm.hh, ring restriction), which leaves the expected dose unchanged.
  int knot = -1;
};

class PartSource {
 public:
  PartSource(const beams::Machine& m, const beams::BeamModel& b, const beams::Plan& plan, const PartSpec& spec,
             const beams::SourceOptions& opt = {});
  const beams::SourceView& view() const { return view_; }

 private:
  std::unique_ptr<beams::PlanSource> source_;
  std::vector<double> edges_, cdf_, hat_, weighted_cdf_;
  beams::SourceView view_;
};

}  // namespace sabre::commission
