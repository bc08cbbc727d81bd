// A phase-space source: particles read from an IAEA phase-space file scored in a plane
// above the collimators (as Varian distributes TrueBeam phase spaces), then transported
// through the machine's collimator stack and placed by the delivery and the IEC chain
// like the VSM's (beams/linac_source.hh). Host and device; PhspSourceView owns nothing.
//
// Frame: the phase-space particles are in the collimator frame of beams/collimator.hh
// (target at the origin, z toward the isocentre). A file whose z axis points the other way
// (toward the target) is converted on loading (load_phsp_particles(..., z_toward_iso =
// false) flips z and w).
//
// Sampling: a record drawn uniformly with replacement (each draw weight = record weight);
// records are therefore recycled when histories exceed the file's particles, which the
// uncertainty estimate does not see (latent variance): use files with more particles than
// histories, or state the recycling factor. Random numbers: 1 meterset, 1 record, 1
// roulette: 3, always.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "beams/collimator.hh"
#include "beams/delivery.hh"
#include "beams/iec61217.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"

namespace sabre::beams {

struct PhspParticle {
  float x_cm, y_cm, z_cm;  // collimator frame
  float u, v, w;           // direction, w > 0 toward the isocentre
  float energy_mev;
  float weight;
  std::int32_t type;       // phys::ParticleType
};

struct PhspSourceView {
  static constexpr const char* kKindName = "linac, phase space";
  std::int64_t n = 0;
  const PhspParticle* particles = nullptr;
  DeliveryView delivery;
  CollimatorStack collimator;
  double sad_cm = 100;
  double roulette_threshold = 0.05;

  SABRE_HD phys::Particle sample(phys::Rng& rng) const {
    const DeliveryState st = delivery_state(delivery, rng.uniform());
    std::int64_t i = std::int64_t(rng.uniform() * double(n));
    if (i >= n) i = n - 1;
    const double u_r = rng.uniform();
    const PhspParticle& q = particles[i];
    phys::Particle p;
    p.type = static_cast<phys::ParticleType>(q.type);
    p.energy_mev = q.energy_mev;
    const Vec3 o{q.x_cm, q.y_cm, q.z_cm};
    const Vec3 d{q.u, q.v, q.w};
    double w = q.weight;
    bool alive = d.z > 0;  // moving away from the isocentre: never reaches the patient
    if (alive) {
      const TungstenPath path = tungsten_path(collimator, st.aperture, o, d);
      if (path.mass_g_cm2 > 0) {
        if (p.type != phys::ParticleType::photon) {
          alive = false;
        } else {
          const double t = tungsten_transmission(q.energy_mev, path);
          if (t >= roulette_threshold) w *= t;
          else if (u_r * roulette_threshold < t) w *= roulette_threshold;
          else alive = false;
        }
      }
    }
    const BeamToPatient tr = st.beam_to_patient_map();
    p.pos_cm = tr.point({o.x, o.y, sad_cm - o.z});
    p.dir = tr.direction({d.x, d.y, -d.z});
    p.weight = alive ? w : 0;
    if (!alive) p.dir = -1.0 * p.dir;  // see beams/linac_source.hh: removed particles miss
    if (!alive && d.z <= 0) p.dir = tr.direction({0, 0, 1});  // straight back up
    return p;
  }

  // A copy whose arrays live where `copy` puts them (kernels/params_relocation.hh).
  template <class Copier>
  PhspSourceView relocated(Copier& c) const {
    PhspSourceView s = *this;
    if (particles && n > 0) s.particles = c.copy(particles, std::size_t(n));
    s.delivery = delivery.relocated(c);
    s.collimator = collimator.relocated(c);
    return s;
  }
};

// Reads every photon, electron and positron of an IAEA phase space (path: NAME or either
// file) into collimator-frame particles. z_toward_iso: the file's z axis points from the
// target toward the isocentre (false: flip z and w). Neutrons and protons are skipped
// (counted in `skipped`). Throws InputError for malformed files.
std::vector<PhspParticle> load_phsp_particles(const std::string& path, bool z_toward_iso,
                                              std::int64_t* skipped = nullptr);

}  // namespace sabre::beams
