// The host twin of the transport kernel: one history at a time per CPU thread, each with
// its own bounded secondary stack, all threads adding into one shared energy array.
//
// Energy is scored in 64-bit fixed point (quanta of 2^-32 MeV, ~2.3e-10 MeV) with relaxed
// atomic integer adds: integer addition is associative, so the per-voxel sum of a batch
// is the same whatever the thread count and order (bit-identical dose). One voxel can
// hold up to 2^31 MeV (~2.1e9 MeV) per batch. Rounding each deposit to the nearest
// quantum changes a voxel's energy by < 1.2e-10 MeV per deposit: negligible.
// The energy-balance counters (diagnostics) are per-thread doubles.
#pragma once

#include <atomic>
#include <vector>
#include <cmath>
#include <cstdint>

#include "physics/core/macros.hh"
#include "physics/transport/history.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::kernels {

inline constexpr double kEnergyQuantaPerMeV = 4294967296.0;  // 2^32 quanta per MeV

// One deposit in fixed point: round to the nearest quantum (host and device alike; the
// device scorer in kernels/transport.cu calls this too).
SABRE_HD_INLINE std::int64_t quantize_energy(double e_mev) {
  return static_cast<std::int64_t>(::llround(e_mev * kEnergyQuantaPerMeV));
}

struct EnergyBalance {
  double emitted_mev = 0;     // primaries' kinetic energy
  double rest_mass_mev = 0;   // rest mass converted (+) / created (-)
  double deposited_mev = 0;   // deposit()
  double below_cut_mev = 0;   // below_cut()
  double escaped_mev = 0;     // escape()
  std::uint64_t stack_overflows = 0;
  std::uint64_t histories = 0;

  void add(const EnergyBalance& o) {
    emitted_mev += o.emitted_mev;
    rest_mass_mev += o.rest_mass_mev;
    deposited_mev += o.deposited_mev;
    below_cut_mev += o.below_cut_mev;
    escaped_mev += o.escaped_mev;
    stack_overflows += o.stack_overflows;
    histories += o.histories;
  }
  // (out - in) / in: 0 up to rounding when the bookkeeping is exact.
  double relative_imbalance() const {
    const double in = emitted_mev + rest_mass_mev;
    const double out = deposited_mev + below_cut_mev + escaped_mev;
    return in != 0 ? (out - in) / in : out;
  }
};

// Scorer for the host (see physics/transport/transport_api.hh).
struct HostScorer {
  std::int64_t* energy_fp = nullptr;  // [voxel] shared by all threads, fixed point
  EnergyBalance balance;              // this thread's
  // Optional: each voxel this scorer's add takes from 0 to nonzero is appended, so that the
  // batch's fold visits only the voxels that received energy: every voxel nonzero at the
  // end of the batch is in some thread's list (at least once: a negative roulette
  // correction can bring a voxel back to 0 and a later add list it again).
  std::vector<std::int64_t>* touched = nullptr;
  // The list's longest length: beyond it the scorer stops listing (touched = nullptr) and says
  // so here, and the batch's fold scans the whole grid instead (a batch that touches a large
  // share of the grid gains nothing from a list, which would cost 8 bytes per voxel).
  std::size_t touched_cap = std::size_t(-1);
  bool touched_overflow = false;

  static std::int64_t quantize(double e_mev) { return quantize_energy(e_mev); }
  void add(std::int64_t voxel, double e_mev) {
    const std::int64_t q = quantize(e_mev);
    const std::int64_t before =
        std::atomic_ref<std::int64_t>(energy_fp[voxel]).fetch_add(q, std::memory_order_relaxed);
    if (touched && before == 0 && q != 0) {
      if (touched->size() < touched_cap) {
        touched->push_back(voxel);
      } else {
        touched_overflow = true;
        touched = nullptr;
      }
    }
  }
  void deposit(std::int64_t voxel, double e_mev) {
    add(voxel, e_mev);
    balance.deposited_mev += e_mev;
  }
  void below_cut(std::int64_t voxel, double e_mev) {
    add(voxel, e_mev);
    balance.below_cut_mev += e_mev;
  }
  void escape(double e_mev) { balance.escaped_mev += e_mev; }
  void rest_mass(double e_mev) { balance.rest_mass_mev += e_mev; }
};

inline constexpr int kHostStackCapacity = 256;
using HostStack = phys::FixedStack<kHostStackCapacity>;

// The work of one GPU thread (kernels/transport.cu): histories first + i for
// i = thread, thread + stride, ... below count (a grid-stride loop). Returns the emitted
// energy. Shared with the host so that the kernel's indexing is tested on the CPU
// (tests/kernels/transport_cuda_twin_test.cc).
template <class Charged, class Source, class Scorer, class Stack>
SABRE_HD double transport_strided(const phys::TransportParams& tp, const Source& source,
                                  std::uint64_t seed, std::uint64_t first, std::uint64_t count,
                                  std::uint64_t thread, std::uint64_t stride, Scorer& scorer,
                                  Stack& stack) {
  double emitted = 0;
  for (std::uint64_t i = thread; i < count; i += stride)
    emitted += phys::run_history<Charged>(tp, source, seed, first + i, scorer, stack);
  return emitted;
}

// Runs histories [first, first + count) under `seed` into `scorer`.
template <class Charged, class Source>
void transport_range_host(const phys::TransportParams& tp, const Source& source,
                          std::uint64_t seed, std::uint64_t first, std::uint64_t count,
                          HostScorer& scorer, HostStack& stack) {
  const std::uint64_t before = stack.overflows;
  for (std::uint64_t h = first; h < first + count; ++h) {
    scorer.balance.emitted_mev +=
        phys::run_history<Charged>(tp, source, seed, h, scorer, stack);
  }
  scorer.balance.histories += count;
  scorer.balance.stack_overflows += stack.overflows - before;
}

}  // namespace sabre::kernels
