// Host side of C-arm delivery sampling: turns RT Plan beams (mm, degrees, carried-forward
// control points) into the arrays a DeliveryView points at (cm, unwrapped gantry), laid
// out for the machine's collimator stack (beams/collimator.hh): per control point, the
// positions of every device of the machine, in its order.
//
// Devices: each plan device must be one the machine has (served by one of its
// collimators) or one it declares ignored (logged once). A jaw pair the plan does not
// position is fully open (the machine's max_open_cm); an MLC the plan does not carry is out
// of the beam. MLC leaf boundaries are the plan's, which must match the machine's (0.01 mm)
// and be the same for every beam. A beam's applicator selects the machine's cone: its
// type must be one the cone serves and its circular opening one of the cone diameters
// (0.01 mm); a beam without applicator has the cone out of the beam.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beams/collimator.hh"
#include "beams/delivery.hh"
#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

class Delivery {
 public:
  // The treatment beams `beam_indices` of `plan` (empty: all) on machine `m`. Throws
  // InputError naming the plan for a beam without MU, control points, or with a device or
  // leaf layout the machine does not have.
  Delivery(const Machine& m, const Plan& plan, const std::vector<int>& beam_indices = {});
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  const DeliveryView& view() const { return view_; }
  // The MLC's leaf boundaries in use (the plan's; the machine's when no beam has an MLC),
  // at isocentre [cm]; empty for a machine without MLC.
  const std::vector<double>& boundaries_cm() const { return boundaries_cm_; }
  double total_mu() const { return view_.total_mu; }

 private:
  // The constructor's work, on the plan as mapped for the machine.
  void build(const Machine& m, const Plan& plan, const std::vector<int>& use);
  struct BeamArrays {
    std::vector<double> meterset, gantry, coll, couch, pitch, roll, positions;
  };
  std::vector<BeamArrays> arrays_;
  std::vector<BeamDeliveryView> beam_views_;
  std::vector<double> cdf_;
  std::vector<double> boundaries_cm_;
  DeliveryView view_;
};

// The machine's collimator stack with `mlc_boundaries_cm` as its MLC's leaf boundaries
// (which must outlive the stack; ignored for a machine without MLC). Device positions
// follow the machine's collimator order: jaws 2 values, an MLC 2 x pairs.
CollimatorStack make_collimator_stack(const Machine& m, const std::vector<double>& mlc_boundaries_cm);

// The size [cm at isocentre] of the cone or Iris the applicator of beam `b` selects on
// machine `m` (beams/robotic.hh's choose_applicator), and that collimator; InputError(`where`:
// ...) when the machine has neither for it or the size is unknown.
double applicator_size_cm(const Machine& m, const Beam& b, const std::string& where,
                          const CollimatorSpec** collimator);

// Unwraps a gantry angle sequence along its rotation directions: each step goes the way
// the previous control point's GantryRotationDirection says (CW: increasing, CC:
// decreasing, NONE: the shorter way), so interpolation never jumps across 0/360.
std::vector<double> unwrap_gantry(const std::vector<double>& deg, const std::vector<std::string>& dirs);

}  // namespace sabre::beams
