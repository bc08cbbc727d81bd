// One history, start to end, as a host/device function: the source particle, then every
// secondary from the stack until it is empty. The same function runs in a CPU thread
// (kernels/transport.cc) and, next issue, in a CUDA thread.
//
// Template parameters (all resolved at compile time; no virtuals):
//   Charged - the e-/e+ transport policy: a type with
//       template <class Scorer, class Stack>
//       SABRE_HD static void transport(const TransportParams&, Particle&, Rng&, Scorer&,
//                                      Stack&);
//     that follows one electron or positron (inside the grid or on its surface moving in)
//     until it stops, leaves the grid (Scorer::escape) or falls below the absorption cut,
//     pushing its secondaries (delta rays, bremsstrahlung and annihilation photons) on the
//     stack. Production: physics/electron/'s class II condensed history.
//   Source  - a type with  SABRE_HD Particle sample(Rng&) const  giving the primary
//     (position may be outside the grid: it is moved to the grid along its direction
//     through vacuum, or escapes if it misses).
//   Scorer, Stack - see physics/transport/transport_api.hh; Stack also needs
//       SABRE_HD bool pop(Particle&)  and  SABRE_HD void clear().
//
// Random numbers: the source draws from stream kStreamSource, transport from
// kStreamTransport, both keyed by (seed, history): a history's result depends on nothing
// else (thread, device, batch).
#pragma once

#include <cstdint>

#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"
#include "physics/geometry/voxel_traversal.hh"
#include "physics/photon/photon_transport.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

// Brings p into the grid along its direction (vacuum outside). Returns false when it
// misses the grid. The entry point is clamped onto the grid box (rounding).
SABRE_HD_INLINE bool enter_grid(const GridGeometry& g, Particle& p) {
  double t_cm;
  if (!move_to_grid(g, p.pos_cm, p.dir, t_cm)) return false;
  const Vec3 lo = g.origin_cm, hi = g.upper_cm();
  p.pos_cm.x = p.pos_cm.x < lo.x ? lo.x : (p.pos_cm.x > hi.x ? hi.x : p.pos_cm.x);
  p.pos_cm.y = p.pos_cm.y < lo.y ? lo.y : (p.pos_cm.y > hi.y ? hi.y : p.pos_cm.y);
  p.pos_cm.z = p.pos_cm.z < lo.z ? lo.z : (p.pos_cm.z > hi.z ? hi.z : p.pos_cm.z);
  return true;
}

template <class Charged, class Scorer, class Stack>
SABRE_HD void transport_one(const TransportParams& tp, Particle& p, Rng& rng, Scorer& scorer,
                            Stack& stack) {
  if (!enter_grid(tp.phantom.grid, p)) {
    // A positron that misses the grid never annihilates in it: its kinetic energy
    // escapes (its rest mass was never converted inside, so nothing else to count).
    scorer.escape(p.energy_mev * p.weight);
    return;
  }
  if (p.type == ParticleType::photon) {
    transport_photon(tp, p, rng, scorer, stack);
  } else {
    Charged::transport(tp, p, rng, scorer, stack);
  }
}

// Runs history `history` under `seed`; returns the primary's emitted kinetic energy x
// weight [MeV] (for energy-balance checks).
template <class Charged, class Source, class Scorer, class Stack>
SABRE_HD double run_history(const TransportParams& tp, const Source& source, std::uint64_t seed,
                            std::uint64_t history, Scorer& scorer, Stack& stack) {
  Rng src_rng(seed, history, kStreamSource);
  Rng rng(seed, history, kStreamTransport);
  Particle p = source.sample(src_rng);
  const double emitted = p.energy_mev * p.weight;
  stack.clear();
  // Source splitting: n copies of weight w / n, each followed to its end before the next
  // (the stack never holds two copies' secondaries). A removed particle (weight 0) is not
  // split. The copies draw from the same transport stream one after another, so each is
  // an independent continuation of the same source particle.
  const int n = p.weight > 0 && tp.switches.source_splitting > 1 ? tp.switches.source_splitting : 1;
  if (n > 1) p.weight /= n;
  Particle s;
  for (int c = 0; c < n; ++c) {
    Particle q = p;
    transport_one<Charged>(tp, q, rng, scorer, stack);
    while (stack.pop(s)) transport_one<Charged>(tp, s, rng, scorer, stack);
  }
  return emitted;
}

// A fixed-capacity LIFO stack of particles (host and device; no allocation). A push on a
// full stack returns false and counts an overflow; the caller deposits the particle
// locally (physics/transport/secondaries.hh).
template <int Capacity>
struct FixedStack {
  Particle items[Capacity];
  int size = 0;
  std::uint64_t overflows = 0;

  SABRE_HD bool push(const Particle& p) {
    if (size >= Capacity) {
      ++overflows;
      return false;
    }
    items[size++] = p;
    return true;
  }
  SABRE_HD bool pop(Particle& p) {
    if (size == 0) return false;
    p = items[--size];
    return true;
  }
  SABRE_HD void clear() { size = 0; }
};

}  // namespace sabre::phys
