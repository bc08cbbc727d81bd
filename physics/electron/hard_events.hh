// Final states of the discrete ("hard") events of class II condensed history, as
// interactors that return their result (energies and directions); the step
// (physics/electron/condensed_history.hh) applies them. Host and device. Units: MeV.
//
//  - Moller / Bhabha delta ray: energy from physics/electron/delta_ray.hh; directions from
//    two-body kinematics on a free electron at rest (energy and momentum conservation):
//      cos theta = sqrt( W (T + 2 m) / (T (W + 2 m)) )  for an outgoing electron of kinetic
//    energy W out of a projectile of kinetic energy T (derived from the two conservation
//    laws; the same relation as for binary collisions in F. Salvat et al., PENELOPE-2008
//    manual, sec. 3.2),
//    the two outgoing particles coplanar with the projectile, azimuths differing by pi.
//  - Bremsstrahlung photon: energy from physics/electron/brems_sampling.hh; the electron
//    keeps its direction (its deflection is left to multiple scattering); the photon polar
//    angle from the simplified Tsai distribution
//      theta = u m c^2 / E_total,  f(u) ~ u exp(-a u) + d u exp(-3 a u),  a = 0.625, d = 27
//    [Y. S. Tsai, Rev. Mod. Phys. 46 (1974) 815, as reduced by L. Urban in the Geant4
//    Physics Reference Manual, "Bremsstrahlung angular distribution"], sampled with a fixed
//    count of random numbers (two-component gamma(2) mixture: weights 9 : d).
//  - Positron annihilation at rest: two 511 keV photons, back to back, isotropic.
//  - Positron annihilation in flight on a free electron at rest, two photons, W. Heitler,
//    The Quantum Theory of Radiation (3rd ed., 1954) sec. 29 (the cross section that the
//    tables' sigma_annihilation integrates): with g = 1 + T/m and zeta the fraction of the
//    total energy (T + 2m) taken by the softer photon, zeta in [zeta_min, 1/2],
//    zeta_min = 1/(g + 1 + sqrt(g^2 - 1)),
//      dsigma/dzeta ~ S(zeta) + S(1 - zeta),  S(z) = -(g+1)^2 + (g^2 + 4g + 1)/z - 1/z^2.
//    Sampled over the symmetric range [zeta_min, 1 - zeta_min] from S alone (the two
//    photons are then zeta and 1 - zeta): propose zeta ~ 1/zeta by inversion, accept with
//    g(z) / (g^2 + 2g - 1), where z S(z) = g(z) = g^2+4g+1 - (g+1)^2 z - 1/z <= g^2+2g-1
//    (AM-GM). Bounded loop (kMaxAnnihilationTries). Photon angles from momentum
//    conservation: cos theta_1 = (zeta (g + 1) - 1) / (zeta sqrt(g^2 - 1)).
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"

namespace sabre::phys {

// Polar cosine of an outgoing electron of kinetic energy w_mev after a binary collision of a
// projectile (e- or e+) of kinetic energy t_mev with a free electron at rest.
SABRE_HD_INLINE double binary_collision_cos(double t_mev, double w_mev) {
  const double two_m = 2 * kElectronMassMeV;
  double c2 = w_mev * (t_mev + two_m) / (t_mev * (w_mev + two_m));
  if (c2 > 1) c2 = 1;
  if (c2 < 0) c2 = 0;
  return std::sqrt(c2);
}

struct TwoBodyResult {
  double energy_mev[2];  // [0]: the projectile after the event, [1]: the secondary
  Vec3 dir[2];
};

// Delta-ray kinematics: projectile of kinetic energy t_mev along dir gives w_mev to an atomic
// electron. One uniform (azimuth).
template <class Rng>
SABRE_HD TwoBodyResult delta_ray_kinematics(double t_mev, double w_mev, Vec3 dir, Rng& rng) {
  TwoBodyResult r;
  const double phi = kTwoPi * rng.uniform();
  r.energy_mev[0] = t_mev - w_mev;
  r.energy_mev[1] = w_mev;
  r.dir[0] = rotate(dir, binary_collision_cos(t_mev, t_mev - w_mev), phi + kPi);
  r.dir[1] = rotate(dir, binary_collision_cos(t_mev, w_mev), phi);
  return r;
}

// Bremsstrahlung photon polar cosine (simplified Tsai, see the header comment) for an
// electron of kinetic energy t_mev. Three uniforms.
template <class Rng>
SABRE_HD double sample_brems_photon_cos(double t_mev, Rng& rng) {
  constexpr double kA = 0.625, kD = 27.0;
  const double pick = rng.uniform();
  const double r = rng.uniform() * rng.uniform();
  // P(first component) = (1/a^2) / (1/a^2 + d/(9 a^2)) = 9 / (9 + d)
  const double rate = pick < 9.0 / (9.0 + kD) ? kA : 3 * kA;
  const double u = -std::log(r) / rate;  // gamma(2, rate): sum of two exponentials
  double theta = u * kElectronMassMeV / (t_mev + kElectronMassMeV);
  if (theta > kPi) theta = kPi;
  return std::cos(theta);
}

inline constexpr int kMaxAnnihilationTries = 64;

struct AnnihilationResult {
  double energy_mev[2];
  Vec3 dir[2];
};

// Two back-to-back 511 keV photons, isotropic. Two uniforms.
template <class Rng>
SABRE_HD AnnihilationResult annihilate_at_rest(Rng& rng) {
  AnnihilationResult r;
  const Vec3 d = isotropic_direction(rng);
  r.energy_mev[0] = r.energy_mev[1] = kElectronMassMeV;
  r.dir[0] = d;
  r.dir[1] = Vec3{-d.x, -d.y, -d.z};
  return r;
}

// Heitler two-photon annihilation in flight of a positron of kinetic energy t_mev > 0 moving
// along dir. The photon energies sum to t_mev + 2 m c^2 exactly.
template <class Rng>
SABRE_HD AnnihilationResult annihilate_in_flight(double t_mev, Vec3 dir, Rng& rng) {
  const double g = 1 + t_mev / kElectronMassMeV;
  const double pg = std::sqrt((g - 1) * (g + 1));  // p / (m c)
  const double zmin = 1 / (g + 1 + pg);
  const double zmax = 1 - zmin;
  const double lnr = std::log(zmax / zmin);
  const double bound = g * g + 2 * g - 1;
  double z = 0.5;
  for (int t = 0; t < kMaxAnnihilationTries; ++t) {
    z = zmin * std::exp(rng.uniform() * lnr);
    const double gz = g * g + 4 * g + 1 - (g + 1) * (g + 1) * z - 1 / z;
    if (rng.uniform() * bound <= gz) break;
  }
  const double e_tot = t_mev + 2 * kElectronMassMeV;
  AnnihilationResult r;
  r.energy_mev[0] = z * e_tot;
  r.energy_mev[1] = e_tot - r.energy_mev[0];
  const double phi = kTwoPi * rng.uniform();
  double c1 = (z * (g + 1) - 1) / (z * pg);
  double c2 = ((1 - z) * (g + 1) - 1) / ((1 - z) * pg);
  c1 = c1 > 1 ? 1 : (c1 < -1 ? -1 : c1);
  c2 = c2 > 1 ? 1 : (c2 < -1 ? -1 : c2);
  r.dir[0] = rotate(dir, c1, phi);
  r.dir[1] = rotate(dir, c2, phi + kPi);
  return r;
}

}  // namespace sabre::phys
