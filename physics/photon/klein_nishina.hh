// Incoherent (Compton) scattering on free electrons at rest: the Klein-Nishina cross
// section [O. Klein and Y. Nishina, Z. Phys. 52 (1929) 853],
//   dsigma/deps = pi r_e^2 / kappa * (1/eps + eps) * (1 - eps sin^2(theta) / (1 + eps^2)),
// eps = k'/k in [1/(1 + 2 kappa), 1], kappa = k / (m c^2), cos(theta) = 1 - (1-eps)/(kappa eps).
//
// Sampling: the composition-rejection method of Butcher and Messel [J. C. Butcher and
// H. Messel, Nucl. Phys. 20 (1960) 15], as used in EGS4 [W. R. Nelson, H. Hirayama,
// D. W. O. Rogers, SLAC-265 (1985), section 2.9]: eps from f1 ~ 1/eps (prob. alpha1) or
// f2 ~ eps (prob. alpha2), then accept with g = 1 - eps sin^2 / (1 + eps^2) in [1/2, 1].
// Acceptance is >= 1/2 per try, so 3 draws per try and on average < 6 draws per
// sample; the loop is capped at kMaxTries (chance of reaching it < 2^-64), and the
// last candidate is kept then, so the draw count is bounded.
// Binding effects (incoherent scattering function, Doppler broadening) are not modelled;
// the total cross section used for tracking is XCOM's (bound) incoherent one.
// The electron takes the energy k - k' and the momentum k u - k' u' (conservation).
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/rng.hh"
#include "physics/photon/interaction.hh"

namespace sabre::phys {

struct KleinNishinaInteractor {
  double energy_mev;  // incident photon energy k [MeV]
  Vec3 dir;           // incident direction

  static constexpr int kMaxTries = 64;

  // Samples eps = k'/k and returns it; cos_theta receives the photon's scattering cosine.
  SABRE_HD static double sample_eps(double energy_mev, Rng& rng, double& cos_theta) {
    const double kappa = energy_mev / kElectronMassMeV;
    const double eps0 = 1.0 / (1.0 + 2.0 * kappa);
    const double eps0_sq = eps0 * eps0;
    const double alpha1 = -std::log(eps0);       // integral of 1/eps over [eps0, 1]
    const double alpha2 = 0.5 * (1.0 - eps0_sq);  // integral of eps over [eps0, 1]
    const double p1 = alpha1 / (alpha1 + alpha2);
    double eps = 1, t = 0;
    for (int n = 0; n < kMaxTries; ++n) {
      const double r1 = rng.uniform(), r2 = rng.uniform(), r3 = rng.uniform();
      if (r1 < p1) {
        eps = std::exp(-alpha1 * r2);                 // eps0^r2: density ~ 1/eps
      } else {
        eps = std::sqrt(eps0_sq + (1.0 - eps0_sq) * r2);  // density ~ eps
      }
      t = (1.0 - eps) / (kappa * eps);  // 1 - cos(theta)
      const double sin2 = t * (2.0 - t);
      const double g = 1.0 - eps * sin2 / (1.0 + eps * eps);
      if (r3 <= g) break;
    }
    cos_theta = 1.0 - t;
    return eps;
  }

  SABRE_HD PhotonInteraction operator()(Rng& rng) const {
    PhotonInteraction out;
    double cos_theta;
    const double eps = sample_eps(energy_mev, rng, cos_theta);
    const double phi = kTwoPi * rng.uniform();
    const double k1 = eps * energy_mev;
    out.photon_alive = true;
    out.photon_energy_mev = k1;
    out.photon_dir = rotate(dir, cos_theta, phi);
    const double te = energy_mev - k1;
    if (te > 0) {
      // electron momentum (units of MeV/c) p_e = k u - k' u'
      const Vec3 pe = energy_mev * dir - k1 * out.photon_dir;
      const double pn = std::sqrt(dot(pe, pe));
      out.n_secondaries = 1;
      out.secondary_type[0] = ParticleType::electron;
      out.secondary_energy_mev[0] = te;
      out.secondary_dir[0] = pn > 0 ? (1.0 / pn) * pe : dir;
    }
    return out;
  }
};

// Klein-Nishina differential cross section in eps = k'/k, per electron [cm^2]
// (for tests and references).
SABRE_HD_INLINE double klein_nishina_dsigma_deps_cm2(double energy_mev, double eps) {
  const double kappa = energy_mev / kElectronMassMeV;
  const double t = (1.0 - eps) / (kappa * eps);
  const double sin2 = t * (2.0 - t);
  return kPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm / kappa *
         (1.0 / eps + eps) * (1.0 - eps * sin2 / (1.0 + eps * eps));
}

}  // namespace sabre::phys
