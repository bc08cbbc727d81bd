// Host side of delivery sampling: turns RT Plan beams (mm, degrees, carried-forward
// control points) into the arrays a DeliveryView points at (cm, unwrapped gantry).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beams/delivery.hh"
#include "beams/rtplan.hh"

namespace sabre::beams {

class Delivery {
 public:
  // The treatment beams of `plan` (all must share one MLC layout, or have none). Throws
  // InputError naming the plan for a beam without MU, control points or jaws.
  Delivery(const Plan& plan, const std::vector<int>& beam_indices = {});
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  const DeliveryView& view() const { return view_; }
  const std::vector<double>& boundaries_cm() const { return boundaries_cm_; }  // MLC, at iso
  double total_mu() const { return view_.total_mu; }

 private:
  struct BeamArrays {
    std::vector<double> meterset, gantry, coll, couch, pitch, roll, jaws, leaves;
  };
  std::vector<BeamArrays> arrays_;
  std::vector<BeamDeliveryView> beam_views_;
  std::vector<double> cdf_;
  std::vector<double> boundaries_cm_;
  DeliveryView view_;
};

// Unwraps a gantry angle sequence along its rotation directions: each step goes the way
// the previous control point's GantryRotationDirection says (CW: increasing, CC:
// decreasing, NONE: the shorter way), so interpolation never jumps across 0/360.
std::vector<double> unwrap_gantry(const std::vector<double>& deg, const std::vector<std::string>& dirs);

}  // namespace sabre::beams
