// Putting a secondary on the stack, or, when the stack is full, depositing it on the spot
// with exact energy bookkeeping (never silently lost). Shared by photon and charged
// transport. Units: MeV.
#pragma once

#include <cstdint>

#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"

namespace sabre::phys {

template <class Scorer, class Stack>
SABRE_HD void push_or_deposit(Stack& stack, Scorer& scorer, const Particle& s,
                              std::int64_t voxel) {
  if (stack.push(s)) return;
  // Full stack: the kinetic energy stays here; a positron's annihilation energy too
  // (its rest mass is released here: rest_mass(+2 m c^2) balances the deposit).
  double e = s.energy_mev;
  if (s.type == ParticleType::positron) {
    scorer.rest_mass(2.0 * kElectronMassMeV * s.weight);
    e += 2.0 * kElectronMassMeV;
  }
  scorer.deposit(voxel, e * s.weight);
}

}  // namespace sabre::phys
