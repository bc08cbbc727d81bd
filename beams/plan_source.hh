// Host side of the machine sources: a PlanSource owns every array behind the source view
// of a plan delivered by a machine model (delivery, spectrum, FFF profile, collimator stack)
// and hands the transport its SourceView (beams/source_kinds.hh). The machine's delivery
// kind chooses the view: a C-arm or robotic machine gives a LinacSourceView (virtual source
// model) or, with a phase space, a PhspSourceView; a helical one a HelicalSourceView (its
// MU are seconds of beam-on time). Engine code builds sources only through this file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beams/delivery_build.hh"
#include "beams/helical_build.hh"
#include "beams/machine.hh"
#include "beams/phsp_source.hh"
#include "beams/plan.hh"
#include "beams/source_kinds.hh"
#include "beams/vsm.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::beams {

struct SourceOptions {
  double margin_cm = 0.5;            // field-restriction margin at isocentre [cm]
  // Aims' density in that margin relative to the opening (beams/vsm.hh; 1 = uniform).
  double margin_density = phys::kDefaultSourceMarginDensity;
  double roulette_threshold = 0.05;  // collimator survival below which roulette applies
  // Particles of an IAEA phase space above the collimators (load_phsp_particles) instead of
  // the virtual source model; must outlive the source. nullptr: the VSM.
  const std::vector<PhspParticle>* phsp = nullptr;
};

class PlanSource {
 public:
  // `beam_indices`: which of plan.beams to deliver (empty: all); all must be served by
  // `machine` and `beam` (beams/machine_select.hh). Throws InputError naming the plan.
  PlanSource(const Machine& machine, const BeamModel& beam, const Plan& plan,
             const std::vector<int>& beam_indices = {}, const SourceOptions& opt = {});
  PlanSource(const PlanSource&) = delete;
  PlanSource& operator=(const PlanSource&) = delete;

  const SourceView& view() const { return view_; }
  double total_mu() const { return helical_ ? helical_->total_time_s() : delivery_->total_mu(); }

 private:
  // The VSM view with every array it points at owned here.
  VsmView owned_vsm_view(const Machine& m, const BeamModel& b, const SourceOptions& opt);

  std::unique_ptr<Delivery> delivery_;
  std::unique_ptr<HelicalDelivery> helical_;  // a helical machine's delivery (MU = seconds)
  std::vector<double> edges_, cdf_, fluence_r_, fluence_rel_;
  SourceView view_;
};

// The VSM part alone (tests, phase-space scoring): arrays owned by the caller's vectors
// (the FFF profile stays in `beam`, which must outlive the view).
VsmView make_vsm_view(const Machine& machine, const BeamModel& beam, std::vector<double>& edges,
                      std::vector<double>& cdf, const SourceOptions& opt = {});

}  // namespace sabre::beams
