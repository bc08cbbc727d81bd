// Launch sizing of the transport kernel (kernels/transport.cu), in plain C++ so that the
// host tests cover it: how many blocks a batch gets, and the out-of-memory fallback.
//
// The kernel runs one history per thread in a grid-stride loop (kernels/transport.hh,
// transport_strided), so any number of blocks >= 1 covers any number of histories; the
// launch size only sets how many histories are in flight at once, and with them the local
// memory for the per-thread secondary stacks. When a launch fails for lack of memory or
// resources, the plan halves its block limit and the batch is launched again (nothing is
// scored by a launch that did not start), down to a single block; below that the error
// is reported.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace sabre::kernels {

struct LaunchPlan {
  static constexpr std::uint64_t kThreadsPerBlock = 128;
  // Resident blocks per multiprocessor to aim for (several waves hide latency).
  static constexpr std::uint64_t kBlocksPerMultiprocessor = 16;

  std::uint64_t max_blocks = 1;

  static LaunchPlan for_device(int multiprocessors) {
    LaunchPlan p;
    p.max_blocks = std::max<std::uint64_t>(1, std::uint64_t(std::max(multiprocessors, 1)) *
                                                  kBlocksPerMultiprocessor);
    return p;
  }
  // Blocks for `count` histories: enough for one history per thread, at most max_blocks,
  // at least one.
  std::uint64_t blocks_for(std::uint64_t count) const {
    const std::uint64_t needed = (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
    return std::max<std::uint64_t>(1, std::min(needed, max_blocks));
  }
  std::uint64_t threads_for(std::uint64_t count) const { return blocks_for(count) * kThreadsPerBlock; }
  // After an out-of-memory launch: false when there is nothing smaller to try.
  bool shrink() {
    if (max_blocks <= 1) return false;
    max_blocks /= 2;
    return true;
  }
};

// What one launch attempt reports to launch_with_fallback.
enum class LaunchStatus { ok, out_of_memory, failed };

// Calls `attempt(blocks)` (which launches, waits, and reports) with the plan's block count
// for `count` histories; after out_of_memory, halves the plan and tries again, until a
// launch succeeds, fails otherwise, or one block still runs out of memory. Returns the
// last status. The plan keeps its reduced size for later batches.
template <class Attempt>
LaunchStatus launch_with_fallback(LaunchPlan& plan, std::uint64_t count, Attempt&& attempt) {
  while (true) {
    const LaunchStatus s = attempt(plan.blocks_for(count));
    if (s == LaunchStatus::out_of_memory && plan.shrink()) continue;
    return s;
  }
}

// Part `i` of `n` of the history range [first, first + count): contiguous, in order, sizes
// differing by at most one (several devices sharing one batch). Returns [begin, end).
inline std::pair<std::uint64_t, std::uint64_t> share_of_range(std::uint64_t first,
                                                              std::uint64_t count,
                                                              std::uint64_t n, std::uint64_t i) {
  // count * i / n without overflow for count < 2^64 / n (batches are far smaller).
  return {first + count * i / n, first + count * (i + 1) / n};
}

}  // namespace sabre::kernels
