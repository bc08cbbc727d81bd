// What a photon interactor returns: the outgoing photon (if any), up to two charged
// secondaries (kinetic energies, directions), and rest-mass bookkeeping. Positions are
// the interaction point, filled in by the caller. Units: MeV.
#pragma once

#include "physics/core/particle.hh"

namespace sabre::phys {

struct PhotonInteraction {
  bool photon_alive = false;  // the photon goes on with photon_energy_mev, photon_dir
  double photon_energy_mev = 0;
  Vec3 photon_dir;
  int n_secondaries = 0;      // charged secondaries below
  ParticleType secondary_type[2] = {ParticleType::electron, ParticleType::electron};
  double secondary_energy_mev[2] = {0, 0};  // kinetic [MeV]
  Vec3 secondary_dir[2];
  double rest_mass_mev = 0;   // rest-mass energy created (-) or released (+) [MeV]
  double local_deposit_mev = 0;  // energy left at the interaction point [MeV]
};

}  // namespace sabre::phys
