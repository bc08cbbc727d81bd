// Photoelectric absorption. The photon is absorbed; one photoelectron leaves with the
// photon's whole energy (binding energy and fluorescence are neglected: for water and
// tissue the K-shell binding is < 1 keV, far below any transport cut; the energy stays
// in the electron and so is deposited where it stops, and the energy balance is exact).
//
// Photoelectron direction: the Sauter K-shell distribution [F. Sauter, Ann. Phys. 11
// (1931) 454], sampled as in F. Salvat et al., PENELOPE-2008 manual, section 2.2.1
// (eqs. 2.11-2.15): nu = 1 - cos(theta) from
//   p(nu) ~ (2 - nu) [1/(A + nu) + B] nu / (A + nu)^3,  A = 1/beta - 1,
//   B = beta gamma (gamma - 1)(gamma - 2) / 2,
// by drawing nu from pi(nu) ~ nu/(A+nu)^3 analytically and rejecting with
// g(nu) = (2 - nu)[1/(A + nu) + B] against g(0). Acceptance is high (> 0.5 for electrons
// below 10 MeV); capped at kMaxTries, the last candidate kept (bounded draw count).
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/rng.hh"
#include "physics/photon/interaction.hh"

namespace sabre::phys {

struct PhotoelectricInteractor {
  double energy_mev;  // photon energy = photoelectron kinetic energy [MeV]
  Vec3 dir;

  static constexpr int kMaxTries = 64;

  // Sauter: cos(theta) of the photoelectron relative to the photon direction.
  SABRE_HD static double sample_cos_theta(double electron_kinetic_mev, Rng& rng) {
    const double gamma = 1.0 + electron_kinetic_mev / kElectronMassMeV;
    const double beta = std::sqrt(electron_kinetic_mev * (electron_kinetic_mev + 2 * kElectronMassMeV)) /
                        (electron_kinetic_mev + kElectronMassMeV);
    if (beta > 0.999999) return 1.0;  // ultra-relativistic: forward
    const double a = 1.0 / beta - 1.0;
    const double b = 0.5 * beta * gamma * (gamma - 1.0) * (gamma - 2.0);
    const double g0 = 2.0 * (1.0 / a + b);
    const double ap2 = a + 2.0;
    double nu = 0;
    for (int n = 0; n < kMaxTries; ++n) {
      const double r = rng.uniform();
      // inverse of the CDF of pi(nu) = (A (A+2)^2 / 2) nu / (A+nu)^3 on [0, 2]
      nu = 2.0 * a / (ap2 * ap2 - 4.0 * r) * (2.0 * r + ap2 * std::sqrt(r));
      const double g = (2.0 - nu) * (1.0 / (a + nu) + b);
      if (rng.uniform() * g0 <= g) break;
    }
    return 1.0 - nu;
  }

  SABRE_HD PhotonInteraction operator()(Rng& rng) const {
    PhotonInteraction out;
    out.photon_alive = false;
    out.n_secondaries = 1;
    out.secondary_type[0] = ParticleType::electron;
    out.secondary_energy_mev[0] = energy_mev;
    const double c = sample_cos_theta(energy_mev, rng);
    out.secondary_dir[0] = rotate(dir, c, kTwoPi * rng.uniform());
    return out;
  }
};

}  // namespace sabre::phys
