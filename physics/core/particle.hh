// A particle as sources emit it and transport carries it. Units: cm, MeV.
#pragma once

#include <cstdint>

#include "physics/core/macros.hh"

namespace sabre::phys {

enum class ParticleType : std::uint8_t { photon = 0, electron = 1, positron = 2 };

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

SABRE_HD_INLINE Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
SABRE_HD_INLINE Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
SABRE_HD_INLINE Vec3 operator*(double s, Vec3 a) { return {s * a.x, s * a.y, s * a.z}; }
SABRE_HD_INLINE double dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

// Particle::flags bits.
inline constexpr std::uint8_t kFlagRangeRouletted = 1;  // range-rejection roulette already
                                                        // played (physics/electron/)

struct Particle {
  ParticleType type = ParticleType::photon;
  std::uint8_t flags = 0;  // kFlag* bits (variance reduction state)
  double energy_mev = 0;  // kinetic energy [MeV]
  Vec3 pos_cm;            // position [cm], in the phantom (DICOM patient LPS) frame
  Vec3 dir;               // unit direction
  double weight = 1;      // statistical weight
};

}  // namespace sabre::phys
