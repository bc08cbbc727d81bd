// Pair production (nuclear field; the electron-field "triplet" is handled the same way,
// its recoil electron neglected): the photon of energy k > 2 m c^2 disappears, an e-/e+
// pair with total energies eps k and (1 - eps) k appears, and 2 m c^2 of the photon's
// energy becomes rest mass (PhotonInteraction::rest_mass_mev = -2 m c^2).
//
// Energy sharing: the Bethe-Heitler differential cross section with screening and the
// Coulomb correction [H. Bethe and W. Heitler, Proc. R. Soc. A 146 (1934) 83; H. Davies,
// H. A. Bethe and L. C. Maximon, Phys. Rev. 93 (1954) 788], in the approximate screening
// functions of Butcher and Messel [Nucl. Phys. 20 (1960) 15], sampled by their
// composition-rejection method as described in SLAC-265 (EGS4), section 2.7:
//   dsigma/deps ~ N1 f1(eps) g1(eps) + N2 f2(eps) g2(eps) on [eps_min, 1/2] (symmetric),
//   f1 ~ (1/2 - eps)^2, g1 = (F1(delta) - F_Z) / (F1(delta_min) - F_Z),
//   f2 uniform,         g2 = (F2(delta) - F_Z) / (F2(delta_min) - F_Z),
//   delta = 136 m Z^(-1/3) / (k eps (1 - eps)),  F_Z = 8 ln(Z)/3 (+ 8 f_c(Z) above 50 MeV).
// Below 2 MeV the distribution is almost flat and eps is sampled uniformly in
// [m/k, 1/2]. The half-interval eps is given to e- or e+ with equal probability.
// Acceptance per try is > 0.3; capped at kMaxTries, last candidate kept.
//
// Directions: fixed polar angle theta = m c^2 / E_total for each lepton (the leading-order
// estimate used by EGS4's default, SLAC-265 section 2.7), opposite azimuths.
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/rng.hh"
#include "physics/photon/interaction.hh"

namespace sabre::phys {

struct PairProductionInteractor {
  double energy_mev;  // photon energy k [MeV], > 2 m c^2
  Vec3 dir;
  double z;           // (effective) atomic number for screening

  static constexpr int kMaxTries = 64;

  // Butcher-Messel screening functions (SLAC-265 eq. 2.7.14 ff.)
  SABRE_HD static double screen_f1(double d) {
    return d > 1 ? 42.24 - 8.368 * std::log(d + 0.952) : 42.392 - d * (7.796 - 1.961 * d);
  }
  SABRE_HD static double screen_f2(double d) {
    return d > 1 ? 42.24 - 8.368 * std::log(d + 0.952) : 41.405 - d * (5.828 - 0.8945 * d);
  }
  // Coulomb correction f_c(Z) of Davies, Bethe and Maximon (1954).
  SABRE_HD static double coulomb_fc(double z) {
    const double a2 = (kFineStructure * z) * (kFineStructure * z);
    return a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2 * a2 -
                 0.002 * a2 * a2 * a2);
  }

  // Fraction eps of the photon energy taken (as total energy) by one lepton, in
  // [m/k, 1/2]; the caller assigns it to e- or e+ at random.
  SABRE_HD static double sample_eps(double k_mev, double z, Rng& rng) {
    const double eps0 = kElectronMassMeV / k_mev;
    if (k_mev < 2.0) return eps0 + (0.5 - eps0) * rng.uniform();
    const double z13 = std::cbrt(z);
    double fz = 8.0 * std::log(z) / 3.0;
    if (k_mev > 50.0) fz += 8.0 * coulomb_fc(z);
    const double screen_fac = 136.0 * eps0 / z13;
    const double screen_max = std::exp((42.24 - fz) / 8.368) - 0.952;
    const double screen_min = std::fmin(4.0 * screen_fac, screen_max);
    const double eps1 = 0.5 - 0.5 * std::sqrt(1.0 - screen_min / screen_max);
    const double eps_min = std::fmax(eps0, eps1);
    const double eps_range = 0.5 - eps_min;
    const double f10 = screen_f1(screen_min) - fz;
    const double f20 = screen_f2(screen_min) - fz;
    const double n1 = std::fmax(f10 * eps_range * eps_range, 0.0);
    const double n2 = std::fmax(1.5 * f20, 0.0);
    const double p1 = n1 / (n1 + n2);
    double eps = 0.5;
    for (int n = 0; n < kMaxTries; ++n) {
      const double r1 = rng.uniform(), r2 = rng.uniform(), r3 = rng.uniform();
      double g;
      if (r1 < p1) {
        eps = 0.5 - eps_range * std::cbrt(r2);  // density ~ (1/2 - eps)^2
        const double d = screen_fac / (eps * (1.0 - eps));
        g = (screen_f1(d) - fz) / f10;
      } else {
        eps = eps_min + eps_range * r2;  // uniform
        const double d = screen_fac / (eps * (1.0 - eps));
        g = (screen_f2(d) - fz) / f20;
      }
      if (r3 <= g) break;
    }
    return eps;
  }

  SABRE_HD PhotonInteraction operator()(Rng& rng) const {
    PhotonInteraction out;
    out.photon_alive = false;
    out.rest_mass_mev = -2.0 * kElectronMassMeV;
    const double eps = sample_eps(energy_mev, z, rng);
    const bool electron_gets_eps = rng.uniform() < 0.5;
    const double e_minus_total = (electron_gets_eps ? eps : 1.0 - eps) * energy_mev;
    const double e_plus_total = energy_mev - e_minus_total;
    const double phi = kTwoPi * rng.uniform();
    out.n_secondaries = 2;
    out.secondary_type[0] = ParticleType::electron;
    out.secondary_type[1] = ParticleType::positron;
    // kinetic energies; fmax guards eps = m/k rounding to a tiny negative value
    const double t_minus = std::fmax(e_minus_total - kElectronMassMeV, 0.0);
    const double t_plus = energy_mev - 2.0 * kElectronMassMeV - t_minus;
    out.secondary_energy_mev[0] = t_minus;
    out.secondary_energy_mev[1] = t_plus;
    out.secondary_dir[0] = rotate(dir, std::cos(kElectronMassMeV / e_minus_total), phi);
    out.secondary_dir[1] = rotate(dir, std::cos(kElectronMassMeV / e_plus_total), phi + kPi);
    return out;
  }
};

}  // namespace sabre::phys
