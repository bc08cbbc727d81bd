// Hard inelastic collisions of electrons (Moller) and positrons (Bhabha) with atomic
// electrons treated as free and at rest: differential cross sections, integrated hard cross
// sections above the delta-ray production cut W_cc, and samplers of the delta-ray kinetic
// energy. Host and device.
//
// Notation: T kinetic energy of the incident particle [MeV], tau = T / m c^2,
// gamma = tau + 1, beta^2 = tau (tau + 2) / gamma^2, W the kinetic energy given to the
// delta ray [MeV], eps = W / T. Cross sections are per target electron [cm^2]; multiply by
// the electron density per gram, N_A sum_i w_i Z_i / A_i, for a mass cross section.
//
// Moller (e- e- -> e- e-), C. Moller, Ann. Phys. 14 (1932) 531; in the form of
// ICRU Report 37 (1984) sec. 2.2 / Rossi, High-Energy Particles (1952):
//   dsigma/deps = C / beta^2 [ 1/eps^2 + 1/(1-eps)^2 + (tau/gamma)^2
//                              - (2 tau + 1)/gamma^2 * 1/(eps (1-eps)) ],
//   C = 2 pi r_e^2 m c^2 / T,   eps in [W_cc/T, 1/2]  (the faster outgoing electron is the
//   primary by convention, so the delta ray takes at most half of T).
// Bhabha (e+ e- -> e+ e-), H. J. Bhabha, Proc. R. Soc. A 154 (1936) 195; same reference form:
//   dsigma/deps = C [ 1/(beta^2 eps^2) - B1/eps + B2 - B3 eps + B4 eps^2 ],
//   y = 1/(gamma + 1), B1 = 2 - y^2, B2 = (1 - 2y)(3 + y^2), B4 = (1 - 2y)^3,
//   B3 = B4 + (1 - 2y)^2,   eps in [W_cc/T, 1].
//
// Sampling: eps is drawn from the dominant 1/eps^2 term by inversion and accepted with the
// ratio of the full cross section to it (bounded by 1 after scaling, see below). The loop
// is bounded: at most kMaxDeltaTries proposals (2 uniforms each); the acceptance
// probability is >= 0.44 (Moller) and >= 0.56 (Bhabha) for every T, so exhausting the
// bound has probability below 1e-16; then the last proposal is returned.
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/materials/material_data.hh"

namespace sabre::phys {

inline constexpr int kMaxDeltaTries = 64;

// --- differential cross sections per target electron, dsigma/deps [cm^2]

SABRE_HD inline double moller_dcs_eps(double kinetic_mev, double eps) {
  const double tau = kinetic_mev / kElectronMassMeV;
  const double gamma = tau + 1;
  const double beta2 = tau * (tau + 2) / (gamma * gamma);
  const double c = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm *
                   kElectronMassMeV / kinetic_mev;
  const double a = tau / gamma;
  const double b = (2 * tau + 1) / (gamma * gamma);
  const double q = 1 - eps;
  return c / beta2 * (1 / (eps * eps) + 1 / (q * q) + a * a - b / (eps * q));
}

SABRE_HD inline double bhabha_dcs_eps(double kinetic_mev, double eps) {
  const double tau = kinetic_mev / kElectronMassMeV;
  const double gamma = tau + 1;
  const double beta2 = tau * (tau + 2) / (gamma * gamma);
  const double c = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm *
                   kElectronMassMeV / kinetic_mev;
  const double y = 1 / (gamma + 1);
  const double y12 = 1 - 2 * y;
  const double b1 = 2 - y * y;
  const double b2 = y12 * (3 + y * y);
  const double b4 = y12 * y12 * y12;
  const double b3 = b4 + y12 * y12;
  return c * (1 / (beta2 * eps * eps) - b1 / eps + b2 - b3 * eps + b4 * eps * eps);
}

// --- integrated hard cross sections above cut_mev, per target electron [cm^2]
// (closed-form integrals of the expressions above; 0 when no hard event is possible).

SABRE_HD inline double moller_hard_xs(double kinetic_mev, double cut_mev) {
  if (kinetic_mev <= 2 * cut_mev) return 0;
  const double tau = kinetic_mev / kElectronMassMeV;
  const double gamma = tau + 1;
  const double beta2 = tau * (tau + 2) / (gamma * gamma);
  const double c = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm *
                   kElectronMassMeV / kinetic_mev;
  const double a = tau / gamma;
  const double b = (2 * tau + 1) / (gamma * gamma);
  const double e0 = cut_mev / kinetic_mev;
  // int_{e0}^{1/2}: 1/eps^2 -> 1/e0 - 2; 1/(1-eps)^2 -> 2 - 1/(1-e0); const -> 1/2 - e0;
  // 1/(eps(1-eps)) -> ln((1-e0)/e0).
  return c / beta2 *
         (1 / e0 - 1 / (1 - e0) + a * a * (0.5 - e0) - b * std::log((1 - e0) / e0));
}

SABRE_HD inline double bhabha_hard_xs(double kinetic_mev, double cut_mev) {
  if (kinetic_mev <= cut_mev) return 0;
  const double tau = kinetic_mev / kElectronMassMeV;
  const double gamma = tau + 1;
  const double beta2 = tau * (tau + 2) / (gamma * gamma);
  const double c = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm *
                   kElectronMassMeV / kinetic_mev;
  const double y = 1 / (gamma + 1);
  const double y12 = 1 - 2 * y;
  const double b1 = 2 - y * y;
  const double b2 = y12 * (3 + y * y);
  const double b4 = y12 * y12 * y12;
  const double b3 = b4 + y12 * y12;
  const double e0 = cut_mev / kinetic_mev;
  // int_{e0}^{1}
  return c * ((1 / e0 - 1) / beta2 + b1 * std::log(e0) + b2 * (1 - e0) -
              0.5 * b3 * (1 - e0 * e0) + b4 * (1 - e0 * e0 * e0) / 3);
}

// --- samplers: return the delta-ray kinetic energy W [MeV], W_cc <= W <= T/2 (Moller) or
// W_cc <= W <= T (Bhabha). Preconditions: T > 2 W_cc (Moller), T > W_cc (Bhabha).

template <class Rng>
SABRE_HD double sample_moller_delta_energy(double kinetic_mev, double cut_mev, Rng& rng) {
  const double tau = kinetic_mev / kElectronMassMeV;
  const double gamma = tau + 1;
  const double a = tau / gamma;
  const double b = (2 * tau + 1) / (gamma * gamma);
  const double e0 = cut_mev / kinetic_mev;
  // eps^2 * [..] = 1 + (eps/(1-eps))^2 + a^2 eps^2 - b eps/(1-eps) <= 2 + a^2/4 on [0, 1/2].
  const double gmax = 2 + 0.25 * a * a;
  double eps = e0;
  for (int t = 0; t < kMaxDeltaTries; ++t) {
    eps = e0 / (1 - rng.uniform() * (1 - 2 * e0));  // inverse CDF of 1/eps^2 on [e0, 1/2]
    const double r = eps / (1 - eps);
    const double g = 1 + r * r + a * a * eps * eps - b * r;
    if (rng.uniform() * gmax <= g) break;
  }
  return eps * kinetic_mev;
}

template <class Rng>
SABRE_HD double sample_bhabha_delta_energy(double kinetic_mev, double cut_mev, Rng& rng) {
  const double tau = kinetic_mev / kElectronMassMeV;
  const double gamma = tau + 1;
  const double beta2 = tau * (tau + 2) / (gamma * gamma);
  const double y = 1 / (gamma + 1);
  const double y12 = 1 - 2 * y;
  const double b1 = 2 - y * y;
  const double b2 = y12 * (3 + y * y);
  const double b4 = y12 * y12 * y12;
  const double b3 = b4 + y12 * y12;
  const double e0 = cut_mev / kinetic_mev;
  double eps = e0;
  for (int t = 0; t < kMaxDeltaTries; ++t) {
    eps = e0 / (1 - rng.uniform() * (1 - e0));  // inverse CDF of 1/eps^2 on [e0, 1]
    // beta^2 eps^2 * [..] = 1 - beta^2 eps (B1 - eps (B2 - eps (B3 - B4 eps))) <= 1
    // (tests/physics/electron/delta_ray_test.cc checks the bound over tau and eps).
    const double g = 1 - beta2 * eps * (b1 - eps * (b2 - eps * (b3 - b4 * eps)));
    if (rng.uniform() <= g) break;
  }
  return eps * kinetic_mev;
}

// The delta-ray energy for `species` (kElectron: Moller, kPositron: Bhabha) above the
// table's electron production cut.
template <class Rng>
SABRE_HD double sample_delta_ray_energy(const MaterialData& data, int species,
                                        double kinetic_mev, Rng& rng) {
  const double cut = data.cuts.electron_production_mev;
  return species == kPositron ? sample_bhabha_delta_energy(kinetic_mev, cut, rng)
                              : sample_moller_delta_energy(kinetic_mev, cut, rng);
}

}  // namespace sabre::phys
