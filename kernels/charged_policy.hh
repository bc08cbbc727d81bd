// The charged-particle (e-/e+) transport policy the production loop instantiates
// (physics/transport/history.hh's `Charged` parameter). It is physics/electron/'s class II
// condensed history once that lands; until then `kChargedTransportAvailable` is false and
// the engine refuses to run (RuntimeError), rather than silently depositing electrons on
// the spot.
#pragma once

#include "physics/core/particle.hh"
#include "physics/core/rng.hh"
#include "physics/transport/transport_params.hh"

#if __has_include("physics/electron/condensed_history.hh")
#include "physics/electron/condensed_history.hh"
namespace sabre::kernels {
inline constexpr bool kChargedTransportAvailable = true;
using ProductionCharged = phys::CondensedHistoryCharged;
}  // namespace sabre::kernels
#else
namespace sabre::kernels {
inline constexpr bool kChargedTransportAvailable = false;
struct ProductionCharged {  // never runs: the engine checks kChargedTransportAvailable
  template <class Scorer, class Stack>
  static void transport(const phys::TransportParams&, phys::Particle&, phys::Rng&, Scorer&,
                        Stack&) {}
};
}  // namespace sabre::kernels
#endif
