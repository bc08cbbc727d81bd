// The contract between the transport loop (kernels/) and the per-particle physics
// (physics/photon, physics/electron): what a scorer and a secondary stack must offer.
// Both are template parameters, so host and device bring their own implementations.
//
//   struct Scorer {
//     // Energy left in voxel `voxel` (linear index, GridGeometry::index) [MeV]: continuous
//     // loss along a step, local absorption, sub-threshold binding energy.
//     SABRE_HD void deposit(std::int64_t voxel, double energy_mev);
//     // Kinetic energy of a particle absorbed because it fell below its transport cut,
//     // deposited in `voxel` [MeV]. It is dose like deposit(), but is counted apart so
//     // that the energy balance can be checked (deposited + below-cut + escaped = emitted).
//     SABRE_HD void below_cut(std::int64_t voxel, double energy_mev);
//     // Kinetic energy carried out of the phantom by a particle that leaves it [MeV].
//     SABRE_HD void escape(double energy_mev);
//     // Rest-mass energy turned into kinetic/photon energy (+) or the reverse (−) [MeV]:
//     // pair production calls rest_mass(-2 m c^2) (the photon's energy pays the pair's
//     // masses), annihilation rest_mass(+2 m c^2) (at rest) or (+2 m c^2) in flight.
//     SABRE_HD void rest_mass(double energy_mev);
//   };
//
//   struct Stack {
//     SABRE_HD bool push(const Particle& p);  // false when full (the caller deposits locally
//                                             // and counts it: never silently lost; see
//                                             // physics/transport/secondaries.hh)
//     SABRE_HD bool pop(Particle& p);         // false when empty (used by the history loop)
//     SABRE_HD void clear();
//   };
//
// Weights: deposits, below-cut and escapes are energy x Particle::weight.
// The loop (physics/transport/history.hh) and its parameters (transport_params.hh) use
// these; physics/transport/history.hh's FixedStack is the stack for host and device.
//
// Energy balance per history, exactly: emitted kinetic + sum(rest_mass) =
//   sum(deposit) + sum(below_cut) + sum(escape).
#pragma once

#include "physics/core/constants.hh"
#include "physics/core/particle.hh"

// The charged-particle entry point the loops instantiate (host: kernels/charged_policy.hh,
// CUDA: kernels/transport.cu) is expected in physics/electron/condensed_history.hh as
//
//   namespace sabre::phys {
//   struct CondensedHistoryCharged {
//     template <class Scorer, class Stack>
//     SABRE_HD static void transport(const TransportParams& tp, Particle& p, Rng& rng,
//                                    Scorer& scorer, Stack& stack);
//   };
//   }
//
// It follows one e- or e+ (inside the grid, or on its surface moving in; see
// physics/transport/history.hh) to its end: below the absorption cut (Scorer::below_cut,
// plus the positron's annihilation photons on the stack with rest_mass(+2 m c^2)), out of
// the grid (Scorer::escape), or annihilated in flight; secondaries go on the stack
// (physics/transport/secondaries.hh push_or_deposit handles a full stack).
