// Rayleigh (coherent) scattering: the photon keeps its energy and changes direction.
//
// MODEL LIMITATION (stated): the angular distribution is Thomson's, (1 + cos^2 theta)/2,
// WITHOUT the atomic form factor, because the table set carries no form factors yet. Real
// Rayleigh scattering is much more forward (the form factor suppresses large angles above
// ~ 20 keV). The total coherent cross section used for tracking is XCOM's, so attenuation
// (narrow-beam, uncollided fluence) is exact; only where the scattered photon goes is
// approximate. Coherent scattering is < 1.5 % of mu in water at 0.1 MeV and < 0.5 % above
// 1 MeV, and deposits no energy, so its effect on MV dose is small. It can be switched
// off (PhysicsSwitches::rayleigh), which treats Rayleigh events as fictitious.
//
// Sampling: exact inversion of the Thomson CDF F(c) = (c + c^3/3 + 4/3) / (8/3), i.e.
// c^3 + 3 c = 8 r - 4, solved by Cardano's formula: c = u - 1/u, u^3 = (d + sqrt(d^2+4))/2.
// Two random numbers (cos theta, phi), always.
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/rng.hh"
#include "physics/photon/interaction.hh"

namespace sabre::phys {

struct RayleighInteractor {
  double energy_mev;
  Vec3 dir;

  SABRE_HD static double sample_cos_theta(Rng& rng) {
    const double d = 8.0 * rng.uniform() - 4.0;
    const double u = std::cbrt(0.5 * (d + std::sqrt(d * d + 4.0)));
    return u - 1.0 / u;
  }

  SABRE_HD PhotonInteraction operator()(Rng& rng) const {
    PhotonInteraction out;
    out.photon_alive = true;
    out.photon_energy_mev = energy_mev;
    const double c = sample_cos_theta(rng);
    out.photon_dir = rotate(dir, c, kTwoPi * rng.uniform());
    return out;
  }
};

}  // namespace sabre::phys
