// Host side of tomotherapy delivery: turns a plan's helical beam (Beam::sinogram,
// beams/plan.hh) into the arrays a HelicalDeliveryView points at (beams/helical.hh), laid
// out for the machine's stack (a jaw pair along y and a binary MLC along y).
#pragma once

#include <vector>

#include "beams/collimator.hh"
#include "beams/helical.hh"
#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

class HelicalDelivery {
 public:
  // The plan's one helical beam on machine `m` (delivery kind helical). Throws InputError
  // naming the plan for a plan that is not one helical beam, a sinogram whose leaf count is
  // not the MLC's, fractions outside [0, 1], a jaw width the jaws cannot open, ...
  HelicalDelivery(const Machine& m, const Plan& plan, const CollimatorStack& stack);
  HelicalDelivery(const HelicalDelivery&) = delete;
  HelicalDelivery& operator=(const HelicalDelivery&) = delete;

  const HelicalDeliveryView& view() const { return view_; }
  double total_time_s() const { return view_.total_time_s; }

 private:
  std::vector<float> open_;
  std::vector<double> fixed_, couch_index_;
  HelicalDeliveryView view_;
};

// The effective open fraction of a leaf programmed open for `f` of a projection of `t_s`
// seconds with leaf latency `latency_s` (beams/helical.hh).
double latency_open_fraction(double f, double t_s, double latency_s);

}  // namespace sabre::beams
