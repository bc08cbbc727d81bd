// The C-arm linac source: delivery sampling (beams/delivery.hh) -> virtual source model
// (beams/vsm.hh) -> the machine's collimator stack (beams/collimator.hh) -> IEC 61217 to
// the patient (beams/iec61217.hh). A Source for the transport loop: `Particle
// sample(Rng&) const`, host and device. LinacSourceView owns nothing;
// beams/plan_source.hh builds it.
//
// Per history: 1 number for the meterset, 8 for the VSM, 1 for the collimator roulette:
// 10, always (no rejection loop).
//
// Collimator: a photon's weight is multiplied by its tungsten survival T = exp(-mu t);
// below `roulette_threshold` it survives with probability T / threshold at weight x
// threshold (Russian roulette: unbiased, fewer low-weight photons to transport). An
// electron that meets any tungsten is absorbed. A removed particle is returned with
// weight 0, at the source, travelling away from the patient, so that the transport loop
// finds it misses the grid and counts nothing.
//
// Monitor backscatter: weight x S_ref / S(X, Y) with S of the machine file's calibration
// block (X, Y: the openings of the jaw pairs moving along x and y at this meterset; 40 cm
// along an axis without jaws) and S_ref = S at the reference field: at a fixed number of
// histories per MU, smaller fields get more chamber backscatter and so fewer particles per
// MU.
#pragma once

#include "beams/collimator.hh"
#include "beams/delivery.hh"
#include "beams/iec61217.hh"
#include "beams/vsm.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"

namespace sabre::beams {

// A VSM sample through the collimators (its tungsten survival, Russian roulette below
// `roulette`, electrons meeting tungsten absorbed) and placed in the patient by `map`; the
// weight times `scale_num` / `scale_den` (in that order of operations). A removed particle has weight 0, sits at the source and
// travels away from the patient. Shared by the machine sources (linac, helical).
SABRE_HD_INLINE phys::Particle collimate_and_place(const VsmSample& vs, const CollimatorStack& collimator,
                                                   const ApertureState& ap, double scale_num, double scale_den,
                                                   double u_r,
                                                   double roulette, double sad_cm, const BeamToPatient& map) {
  phys::Particle p;
  p.type = vs.component == VsmComponent::electron ? phys::ParticleType::electron : phys::ParticleType::photon;
  p.energy_mev = vs.energy_mev;
  double w = vs.weight * scale_num / scale_den;
  bool alive = true;
  const TungstenPath path = tungsten_path(collimator, ap, vs.origin_cm, vs.dir);
  if (path.mass_g_cm2 > 0) {
    if (p.type == phys::ParticleType::electron) {
      alive = false;
    } else {
      const double t = tungsten_transmission(vs.energy_mev, path);
      if (t >= roulette) w *= t;
      else if (u_r * roulette < t) w *= roulette;
      else alive = false;
    }
  }
  // Collimator frame -> IEC beam-limiting device: (x, y, SAD - z); direction (dx, dy, -dz).
  const Vec3 pos_b{vs.origin_cm.x, vs.origin_cm.y, sad_cm - vs.origin_cm.z};
  const Vec3 dir_b{vs.dir.x, vs.dir.y, -vs.dir.z};
  p.pos_cm = map.point(pos_b);
  p.dir = map.direction(dir_b);
  p.weight = w;
  if (!alive) {
    p.weight = 0;
    p.dir = -1.0 * p.dir;
  }
  return p;
}

struct LinacSourceView {
  static constexpr const char* kKindName = "linac, virtual source model";
  DeliveryView delivery;
  VsmView vsm;
  CollimatorStack collimator;
  double backscatter_kx = 0, backscatter_ky = 0;
  double s_ref = 1;  // monitor signal at the reference field
  double roulette_threshold = 0.05;

  // The opening of the jaw pair moving along `axis` [cm at isocentre]; 40 without one.
  SABRE_HD double jaw_opening(const ApertureState& ap, int axis) const {
    const int d = collimator.jaws_on_axis[axis];
    if (d < 0 || !ap.is_active(d)) return 40;
    const int f = collimator.devices[d].first;
    return ap.value(f + 1) - ap.value(f);
  }

  SABRE_HD double monitor_signal(const ApertureState& ap) const {
    double x = jaw_opening(ap, 0), y = jaw_opening(ap, 1);
    x = x < 0 ? 0 : (x > 40 ? 40 : x);
    y = y < 0 ? 0 : (y > 40 ? 40 : y);
    return 1 + backscatter_kx * (1 - x / 40) + backscatter_ky * (1 - y / 40);
  }

  SABRE_HD phys::Particle sample(phys::Rng& rng) const {
    const double u_m = rng.uniform();
    const DeliveryState st = delivery_state(delivery, u_m);
    const VsmSample vs = vsm_sample(vsm, collimator, st.aperture, rng);
    const double u_r = rng.uniform();
    return collimate_and_place(vs, collimator, st.aperture, s_ref, monitor_signal(st.aperture), u_r,
                               roulette_threshold, vsm.sad_cm, st.beam_to_patient_map());
  }

  // A copy whose arrays live where `copy` puts them (kernels/params_relocation.hh).
  template <class Copier>
  LinacSourceView relocated(Copier& c) const {
    LinacSourceView s = *this;
    s.delivery = delivery.relocated(c);
    s.vsm = vsm.relocated(c);
    s.collimator = collimator.relocated(c);
    return s;
  }
};

}  // namespace sabre::beams
