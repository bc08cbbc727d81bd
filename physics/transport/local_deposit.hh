// A charged-particle policy that deposits every electron's and positron's kinetic energy
// where it is set in motion (the kerma approximation), and converts a positron's rest mass
// into two back-to-back 511 keV photons at that point. It is NOT the production physics
// (that is physics/electron/'s class II condensed history); it exists to isolate the
// photon transport in checks (host vs device, photon-only validation) and as a fast
// approximation a user may ask for explicitly.
#pragma once

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

struct LocalDepositCharged {
  template <class Scorer, class Stack>
  SABRE_HD static void transport(const TransportParams& tp, Particle& p, Rng& rng,
                                 Scorer& scorer, Stack& stack) {
    int i, j, k;
    if (!tp.phantom.grid.locate(p.pos_cm, i, j, k)) {
      // On the far surface (clamped entry point): count it as leaving.
      scorer.escape(p.energy_mev * p.weight);
      return;
    }
    const auto voxel = tp.phantom.grid.index(i, j, k);
    scorer.below_cut(voxel, p.energy_mev * p.weight);
    if (p.type == ParticleType::positron) {
      scorer.rest_mass(2 * kElectronMassMeV * p.weight);
      const double cos_t = 2 * rng.uniform() - 1;
      const double phi = kTwoPi * rng.uniform();
      const double sin_t = std::sqrt(1 - cos_t * cos_t);
      const Vec3 d{sin_t * std::cos(phi), sin_t * std::sin(phi), cos_t};
      Particle g;
      g.type = ParticleType::photon;
      g.energy_mev = kElectronMassMeV;
      g.pos_cm = p.pos_cm;
      g.weight = p.weight;
      g.dir = d;
      if (!stack.push(g)) scorer.below_cut(voxel, g.energy_mev * g.weight);
      g.dir = Vec3{-d.x, -d.y, -d.z};
      if (!stack.push(g)) scorer.below_cut(voxel, g.energy_mev * g.weight);
    }
  }
};

}  // namespace sabre::phys
