// Tomotherapy delivery (helical and fixed-angle): a source kind of its own. Host and
// device; HelicalSourceView owns nothing, HelicalDelivery (host) builds and owns its arrays
// from a plan's Sinogram (beams/plan.hh).
//
// Per history: one number u picks the instant: projection k = floor(u n), time within it
// t = u n - k (all projections last the same time, so the instant is uniform over the
// delivery). At that instant
// - the gantry is at gantry_start + (k + t) x 360 / projections_per_rotation (HELICAL,
//   continuous rotation) or at fixed_gantry[k] (FIXED_ANGLE, TomoDirect);
// - the beam plane (the IEC isocentre) has moved from the start by (k + t) x the couch
//   step: the couch carries the patient into the bore (+Y of IEC f), so the plane moves
//   toward the patient's feet for a head-first patient; FIXED_ANGLE: by (j + t) x the step,
//   j the projections since the gantry angle last changed (each angle one pass of the couch
//   over the same length);
// - leaf i is open when its open fraction f (after the latency model) covers t within an
//   interval centred in the projection: |t - 1/2| < f / 2 (f >= 1: open all through);
//   an open leaf's banks stand at -L and +L (beyond the jaws), a closed leaf's both at +L,
//   so that bank A covers the field with no tip in it (a binary leaf closes the whole
//   slot); L = leaf_park_cm;
// - the jaws stand at the plan's fixed positions.
// The virtual source model (beams/vsm.hh) then draws a particle through that aperture,
// collimate_and_place (beams/linac_source.hh) attenuates it in the jaws and leaves and puts
// it in the patient by the IEC 61217 chain (beams/iec61217.hh).
//
// Leaf latency (optional, per plan): a leaf that opens and closes within a projection
// (0 < f < 1) delivers as if open for f - latency / projection_time (not below 0), the
// time lost while it travels; a leaf open all through (f = 1) loses nothing. The machine
// file's `leaf_latency_ms` sets the time (docs/machine-file.md).
//
// Random numbers per history: 1 (instant) + 8 (VSM) + 1 (roulette) = 10, always.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "beams/collimator.hh"
#include "beams/iec61217.hh"
#include "beams/linac_source.hh"
#include "beams/vsm.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"

namespace sabre::beams {

// Most device positions a tomotherapy stack has: a jaw pair and an MLC of up to 96 leaves.
inline constexpr int kMaxHelicalValues = 2 + 2 * 96;

struct HelicalDeliveryView {
  int n_proj = 0;
  int n_leaves = 0;
  const float* open_fraction = nullptr;  // [n_proj * n_leaves], latency applied
  bool fixed_angle = false;
  std::uint8_t padding_[7] = {};  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  const double* fixed_gantry_deg = nullptr;  // [n_proj] when fixed_angle
  const double* couch_index = nullptr;       // [n_proj] when fixed_angle: projections since the angle changed
  double gantry_start_deg = 0;
  double deg_per_projection = 0;
  Vec3 iso_start_cm;    // beam plane at the start, patient frame
  Vec3 iso_step_cm;     // its motion per projection, patient frame
  PatientPosition position = PatientPosition::HFS;
  int jaw_first = 0;    // the jaw pair's first value in the stack's position layout
  int mlc_first = 0;    // the MLC's bank A
  std::int32_t padding2_ = 0;  // explicit, as padding_
  double jaw1_cm = 0, jaw2_cm = 0;
  double leaf_park_cm = 0;
  unsigned active = 0;  // devices in the beam (all)
  std::int32_t padding3_ = 0;  // explicit, as padding_
  double total_time_s = 0;

  template <class Copier>
  HelicalDeliveryView relocated(Copier& c) const {
    HelicalDeliveryView d = *this;
    if (open_fraction && n_proj > 0 && n_leaves > 0)
      d.open_fraction = c.copy(open_fraction, std::size_t(n_proj) * std::size_t(n_leaves));
    if (fixed_gantry_deg && n_proj > 0) d.fixed_gantry_deg = c.copy(fixed_gantry_deg, std::size_t(n_proj));
    if (couch_index && n_proj > 0) d.couch_index = c.copy(couch_index, std::size_t(n_proj));
    return d;
  }
};

// Is leaf with open fraction f open at time t in [0, 1) of its projection?
SABRE_HD_INLINE bool leaf_open_at(double f, double t) {
  if (f >= 1) return true;
  if (!(f > 0)) return false;
  const double d = t - 0.5;
  return (d < 0 ? -d : d) < 0.5 * f;
}

struct HelicalSourceView {
  static constexpr const char* kKindName = "tomotherapy, virtual source model";
  HelicalDeliveryView delivery;
  VsmView vsm;
  CollimatorStack collimator;
  double roulette_threshold = 0.05;

  SABRE_HD phys::Particle sample(phys::Rng& rng) const {
    const HelicalDeliveryView& d = delivery;
    const double x = rng.uniform() * d.n_proj;
    int k = int(x);
    if (k >= d.n_proj) k = d.n_proj - 1;
    const double t = x - k;
    double pos[kMaxHelicalValues];
    pos[d.jaw_first] = d.jaw1_cm;
    pos[d.jaw_first + 1] = d.jaw2_cm;
    const float* f = d.open_fraction + std::size_t(k) * std::size_t(d.n_leaves);
    for (int i = 0; i < d.n_leaves; ++i) {
      pos[d.mlc_first + i] = leaf_open_at(f[i], t) ? -d.leaf_park_cm : d.leaf_park_cm;
      pos[d.mlc_first + d.n_leaves + i] = d.leaf_park_cm;
    }
    ApertureState ap;
    ap.p0 = ap.p1 = pos;
    ap.frac = 0;
    ap.active = d.active;
    BeamAngles a;
    a.gantry_deg = d.fixed_angle ? d.fixed_gantry_deg[k] : d.gantry_start_deg + (k + t) * d.deg_per_projection;
    const double s = (d.couch_index ? d.couch_index[k] : double(k)) + t;
    const Vec3 iso{d.iso_start_cm.x + s * d.iso_step_cm.x, d.iso_start_cm.y + s * d.iso_step_cm.y,
                   d.iso_start_cm.z + s * d.iso_step_cm.z};
    const VsmSample vs = vsm_sample(vsm, collimator, ap, rng);
    const double u_r = rng.uniform();
    return collimate_and_place(vs, collimator, ap, 1.0, 1.0, u_r, roulette_threshold, vsm.sad_cm,
                               beam_to_patient(a, d.position, iso));
  }

  template <class Copier>
  HelicalSourceView relocated(Copier& c) const {
    HelicalSourceView s = *this;
    s.delivery = delivery.relocated(c);
    s.vsm = vsm.relocated(c);
    s.collimator = collimator.relocated(c);
    return s;
  }
};

}  // namespace sabre::beams
