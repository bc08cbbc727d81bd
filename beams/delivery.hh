// Delivery sampling (C-arm beams and robotic nodes): a history draws a cumulative meterset value uniformly over the
// plan's MU, which picks a beam (by its MU share) and a point between two control points;
// the gantry, collimator, couch, table angles and every collimating device's positions
// are interpolated linearly in meterset between them (docs/machines.md: "between control
// points the gantry, jaws and leaves move linearly with meterset"). Host and device:
// DeliveryView owns nothing; the host-side Delivery (beams/delivery_build.hh) builds and
// owns its arrays.
//
// Units: cm at isocentre for device positions, degrees for angles (gantry unwrapped along
// the rotation direction, so interpolation never jumps across 0/360), cm for isocentres
// in the patient (DICOM LPS) frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "beams/collimator.hh"
#include "beams/iec61217.hh"
#include "physics/core/macros.hh"

namespace sabre::beams {

// One beam's control points, struct-of-arrays.
struct BeamDeliveryView {
  int n_cp = 0;
  int n_values = 0;                     // device positions per control point (the stack's)
  unsigned active = 0;                  // devices in the beam (bit d: device d of the stack)
  unsigned pad_ = 0;                    // explicit, zeroed: no stray bytes before the pointers
  const double* meterset = nullptr;     // [n_cp] cumulative meterset fraction, 0..1
  const double* gantry_deg = nullptr;   // [n_cp] unwrapped
  const double* collimator_deg = nullptr;
  const double* couch_deg = nullptr;
  const double* pitch_deg = nullptr;
  const double* roll_deg = nullptr;
  const double* positions_cm = nullptr; // [n_cp * n_values]: CollimatorDevice::first layout
  Vec3 iso_cm;                          // isocentre (patient frame) [cm]
  PatientPosition position = PatientPosition::HFS;
  // A robotic node (beams/robotic.hh): the beam's frame is fixed, `frame` maps IEC b to the
  // patient and `iso_cm` is the point SAD below the node's source on its axis; the angles
  // are unused.
  bool fixed_frame = false;
  std::uint8_t padding_[3] = {};  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  Mat3 frame;
};

struct DeliveryView {
  int n_beams = 0;
  int pad_ = 0;  // explicit, zeroed: copies carry no stray bytes (the relocation test scans every word)
  const BeamDeliveryView* beams = nullptr;
  const double* beam_cdf = nullptr;     // [n_beams + 1] cumulative MU share, 0..1
  double total_mu = 0;

  // A copy whose arrays live where `copy` puts them (kernels/params_relocation.hh): the
  // control-point arrays of each beam, then the array of beam views itself (a patched
  // temporary copy, so the views in the new memory point at the new arrays).
  template <class Copier>
  DeliveryView relocated(Copier& c) const {
    DeliveryView d = *this;
    if (n_beams <= 0) return d;
    std::vector<BeamDeliveryView> views(beams, beams + n_beams);
    for (auto& b : views) {
      const std::size_t n = std::size_t(b.n_cp);
      if (n == 0) continue;
      for (const double** a : {&b.meterset, &b.gantry_deg, &b.collimator_deg, &b.couch_deg, &b.pitch_deg,
                               &b.roll_deg})
        if (*a) *a = c.copy(*a, n);
      if (b.positions_cm && b.n_values > 0) b.positions_cm = c.copy(b.positions_cm, std::size_t(b.n_values) * n);
    }
    d.beams = c.copy(views.data(), views.size());
    if (beam_cdf) d.beam_cdf = c.copy(beam_cdf, std::size_t(n_beams) + 1);
    return d;
  }
};

// The machine state at one sampled meterset.
struct DeliveryState {
  int beam = 0;
  int segment = 0;           // control points segment, segment+1
  double frac = 0;           // position between them, 0..1
  BeamAngles angles;
  ApertureState aperture;    // device positions as (cp, cp+1, frac)
  Vec3 iso_cm;
  PatientPosition position = PatientPosition::HFS;
  bool fixed_frame = false;  // robotic node: `frame` (b -> patient) instead of the angles
  Mat3 frame;

  // The map from IEC b (origin at iso_cm, source at (0, 0, SAD)) to the patient.
  SABRE_HD BeamToPatient beam_to_patient_map() const {
    if (fixed_frame) return BeamToPatient{frame, iso_cm};
    return beam_to_patient(angles, position, iso_cm);
  }
};

// Index k in [0, n-2] with x[k] <= m < x[k+1] for the non-decreasing x[0..n-1] (segments
// of zero width are never chosen when m lies strictly inside (x[0], x[n-1])).
SABRE_HD_INLINE int find_segment(const double* x, int n, double m) {
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x[mid] <= m) lo = mid;
    else hi = mid;
  }
  return lo;
}

// The state at cumulative plan meterset fraction u in (0, 1).
SABRE_HD_INLINE DeliveryState delivery_state(const DeliveryView& d, double u) {
  DeliveryState s;
  const int b = d.n_beams > 1 ? find_segment(d.beam_cdf, d.n_beams + 1, u) : 0;
  const BeamDeliveryView& bv = d.beams[b];
  const double w0 = d.beam_cdf[b], w1 = d.beam_cdf[b + 1];
  double m = w1 > w0 ? (u - w0) / (w1 - w0) : 0.5;  // meterset fraction within the beam
  m = m < 0 ? 0 : (m > 1 ? 1 : m);
  const int k = find_segment(bv.meterset, bv.n_cp, m);
  const double m0 = bv.meterset[k], m1 = bv.meterset[k + 1];
  const double f = m1 > m0 ? (m - m0) / (m1 - m0) : 0;
  s.beam = b;
  s.segment = k;
  s.frac = f;
  auto lerp = [f, k](const double* a) { return a[k] + f * (a[k + 1] - a[k]); };
  s.angles.gantry_deg = lerp(bv.gantry_deg);
  s.angles.collimator_deg = lerp(bv.collimator_deg);
  s.angles.couch_deg = lerp(bv.couch_deg);
  s.angles.table_pitch_deg = lerp(bv.pitch_deg);
  s.angles.table_roll_deg = lerp(bv.roll_deg);
  s.aperture.p0 = bv.positions_cm + std::size_t(bv.n_values) * std::size_t(k);
  s.aperture.p1 = s.aperture.p0 + bv.n_values;
  s.aperture.frac = f;
  s.aperture.active = bv.active;
  s.iso_cm = bv.iso_cm;
  s.position = bv.position;
  s.fixed_frame = bv.fixed_frame;
  s.frame = bv.frame;
  return s;
}

}  // namespace sabre::beams
