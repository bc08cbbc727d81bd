// Direction helpers shared by host and device: rotating a unit vector by a polar angle
// and an azimuth, and isotropic directions. Units: none (unit vectors), angles in radians.
#pragma once

#include <cmath>

#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"

namespace sabre::phys {

SABRE_HD_INLINE Vec3 normalized(Vec3 v) {
  const double n = std::sqrt(dot(v, v));
  return (1.0 / n) * v;
}

// The unit vector at polar angle theta (given as cos_theta) and azimuth phi [rad] about
// the unit vector u: the usual rotation of the scattering frame onto u (e.g. F. Salvat,
// PENELOPE-2008 manual, eq. 1.131). Renormalised to stop rounding drift over many steps.
SABRE_HD_INLINE Vec3 rotate(Vec3 u, double cos_theta, double phi) {
  double c = cos_theta;
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  const double s = std::sqrt((1 - c) * (1 + c));
  const double cp = std::cos(phi), sp = std::sin(phi);
  const double rho2 = u.x * u.x + u.y * u.y;
  Vec3 v;
  if (rho2 < 1e-20) {
    const double sgn = u.z >= 0 ? 1.0 : -1.0;
    v = {s * cp, s * sp, sgn * c};
  } else {
    const double rho = std::sqrt(rho2);
    v = {u.x * c + s * (u.x * u.z * cp - u.y * sp) / rho,
         u.y * c + s * (u.y * u.z * cp + u.x * sp) / rho, u.z * c - s * rho * cp};
  }
  return normalized(v);
}

// Isotropic unit vector: cos(theta) uniform in (-1,1), phi uniform in (0, 2 pi). Two draws.
SABRE_HD_INLINE Vec3 isotropic_direction(Rng& rng) {
  const double c = 2 * rng.uniform() - 1;
  const double phi = kTwoPi * rng.uniform();
  const double s = std::sqrt((1 - c) * (1 + c));
  return {s * std::cos(phi), s * std::sin(phi), c};
}

}  // namespace sabre::phys
