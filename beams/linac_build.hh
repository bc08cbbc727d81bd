// Host side of the linac source: owns the arrays behind a LinacSourceView (spectrum
// histogram, FFF profile, MLC boundaries, delivery) built from a machine model and a plan.
#pragma once

#include <memory>
#include <vector>

#include "beams/delivery_build.hh"
#include "beams/linac_source.hh"
#include "beams/machine.hh"
#include "beams/rtplan.hh"

namespace sabre::beams {

struct LinacOptions {
  double margin_cm = 0.5;            // field-restriction margin at isocentre [cm]
  double roulette_threshold = 0.05;  // collimator survival below which roulette applies
};

class LinacSource {
 public:
  // `beam_indices`: which of plan.beams to deliver (empty: all). All must map to `beam`.
  LinacSource(const Machine& machine, const BeamModel& beam, const Plan& plan,
              const std::vector<int>& beam_indices = {}, const LinacOptions& opt = {});
  LinacSource(const LinacSource&) = delete;
  LinacSource& operator=(const LinacSource&) = delete;

  const LinacSourceView& view() const { return view_; }
  double total_mu() const { return delivery_->total_mu(); }

 private:
  std::unique_ptr<Delivery> delivery_;
  std::vector<double> edges_, cdf_, fluence_r_, fluence_rel_;
  LinacSourceView view_;
};

// The VSM part alone (tests, phase-space scoring): arrays owned by the caller's vectors.
VsmView make_vsm_view(const Machine& machine, const BeamModel& beam, std::vector<double>& edges,
                      std::vector<double>& cdf, const LinacOptions& opt = {});
CollimatorGeometry make_collimator_geometry(const Machine& machine, const std::vector<double>& boundaries_cm);

// A plan with one static field: square `field_cm` at isocentre set by the jaws with the MLC
// retracted to `field_cm`/2 + 1 cm, gantry 0, isocentre at `iso_cm` (patient frame, cm),
// `mu` MU. For calibration and validation runs.
Plan reference_field_plan(const Machine& machine, const BeamModel& beam, double field_x_cm, double field_y_cm,
                          const std::array<double, 3>& iso_cm, double mu = 100);

}  // namespace sabre::beams
