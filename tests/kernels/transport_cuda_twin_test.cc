// The logic of the CUDA transport kernel (kernels/transport.cu), run on the CPU: the
// grid-stride loop each GPU thread runs (kernels::transport_strided), the launch sizing
// and out-of-memory fallback (kernels/launch_plan.hh), the split of a batch over several
// devices, and the fixed-point arithmetic of the device scorer (unsigned 64-bit atomics
// adding signed quanta). Then the CUDA class itself: without a GPU its constructor must
// throw one DeviceError; with a GPU (skipped elsewhere) its dose is compared with the
// host twin.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "beams/source.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "kernels/charged_policy.hh"
#include "kernels/launch_plan.hh"
#include "kernels/transport.hh"
#include "kernels/transport_cuda.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/majorant.hh"
#include "tests/support/skip.hh"
#include "tests/support/transport_fixtures.hh"

using namespace sabre;
using kernels::LaunchPlan;

namespace {

using sabre::test::shipped_tables;
using sabre::test::WaterBox;

beams::SimpleSource beam(double e_mev) {
  beams::SimpleSource s;
  s.shape = beams::SourceShape::point;
  s.position_cm = {0, 0, -100};
  s.field_centre_cm = {0, 0, 0};
  s.u_min_cm = s.v_min_cm = -2;
  s.u_max_cm = s.v_max_cm = 2;
  s.mono_energy_mev = e_mev;
  return s;
}

// The host twin: histories [first, first + count) in order on one thread.
std::vector<std::int64_t> host_dose(const phys::TransportParams& tp, const beams::SimpleSource& s,
                                    std::uint64_t seed, std::uint64_t first, std::uint64_t count) {
  std::vector<std::int64_t> e(std::size_t(tp.phantom.grid.size()), 0);
  kernels::HostScorer sc;
  sc.energy_fp = e.data();
  auto stack = std::make_unique<kernels::HostStack>();
  kernels::transport_range_host<kernels::ProductionCharged>(tp, s, seed, first, count, sc, *stack);
  return e;
}

}  // namespace

TEST_CASE("kernel twin: the grid-stride loop covers each history once, in any thread order",
          "[kernels][cuda-twin]") {
  // Emulates launches of B blocks x T threads: every emulated thread runs
  // transport_strided with its global index and the grid's stride, threads taken in
  // reverse order (as a GPU may schedule them). The integer tally must equal the host
  // twin's, bit for bit, for a count that is not a multiple of the stride, one below the
  // stride, and one above.
  SABRE_REQUIRE_TRANSPORT_PHYSICS();
  const WaterBox box(*shipped_tables(), {-5, -5, 0}, 10, 10, 20);
  const auto src = beam(2.0);
  const std::uint64_t first = 1000;
  for (const std::uint64_t count : {std::uint64_t(37), std::uint64_t(300), std::uint64_t(1201)}) {
    const auto ref = host_dose(box.tp, src, 42, first, count);
    for (const std::uint64_t stride : {std::uint64_t(1), std::uint64_t(64), std::uint64_t(96)}) {
      std::vector<std::int64_t> e(ref.size(), 0);
      kernels::HostScorer sc;
      sc.energy_fp = e.data();
      kernels::HostStack stack;
      double emitted = 0;
      for (std::uint64_t t = stride; t-- > 0;)
        emitted += kernels::transport_strided<kernels::ProductionCharged>(
            box.tp, src, 42, first, count, t, stride, sc, stack);
      INFO("count " << count << ", stride " << stride);
      CHECK(e == ref);
      CHECK(emitted == Approx(2.0 * double(count)).epsilon(1e-12));
    }
  }
}

TEST_CASE("kernel twin: launch sizing and the out-of-memory fallback", "[kernels][cuda-twin]") {
  LaunchPlan p = LaunchPlan::for_device(132);  // an H100 SXM has 132 multiprocessors
  CHECK(p.max_blocks == 132 * LaunchPlan::kBlocksPerMultiprocessor);
  CHECK(p.blocks_for(0) == 1);
  CHECK(p.blocks_for(1) == 1);
  CHECK(p.blocks_for(LaunchPlan::kThreadsPerBlock) == 1);
  CHECK(p.blocks_for(LaunchPlan::kThreadsPerBlock + 1) == 2);
  CHECK(p.blocks_for(std::uint64_t(1) << 40) == p.max_blocks);
  // Halving down to one block, then no smaller launch to try.
  int halvings = 0;
  while (p.shrink()) ++halvings;
  CHECK(p.max_blocks == 1);
  CHECK(halvings == 11);  // 2112 -> 1056 -> ... -> 1
  CHECK_FALSE(p.shrink());
  CHECK(p.blocks_for(1000000) == 1);  // one block still covers any count (grid stride)
  CHECK(LaunchPlan::for_device(0).max_blocks >= 1);
}

TEST_CASE("kernel twin: out-of-memory launches are retried with half the blocks",
          "[kernels][cuda-twin]") {
  using kernels::LaunchStatus;
  const std::uint64_t count = 1000000;  // needs 7813 blocks; the plan allows 2112
  SECTION("succeeds once the launch is small enough; the plan keeps the smaller size") {
    LaunchPlan p = LaunchPlan::for_device(132);
    std::vector<std::uint64_t> tried;
    const auto s = kernels::launch_with_fallback(p, count, [&](std::uint64_t blocks) {
      tried.push_back(blocks);
      return blocks > 300 ? LaunchStatus::out_of_memory : LaunchStatus::ok;
    });
    CHECK(s == LaunchStatus::ok);
    CHECK(tried == std::vector<std::uint64_t>{2112, 1056, 528, 264});
    CHECK(p.max_blocks == 264);
    // The next batch starts at the reduced size (one attempt).
    tried.clear();
    kernels::launch_with_fallback(p, count, [&](std::uint64_t blocks) {
      tried.push_back(blocks);
      return LaunchStatus::ok;
    });
    CHECK(tried == std::vector<std::uint64_t>{264});
  }
  SECTION("gives up after one block still runs out of memory") {
    LaunchPlan p = LaunchPlan::for_device(2);  // 32 blocks
    int attempts = 0;
    const auto s = kernels::launch_with_fallback(p, count, [&](std::uint64_t blocks) {
      ++attempts;
      CHECK(blocks >= 1);
      return LaunchStatus::out_of_memory;
    });
    CHECK(s == LaunchStatus::out_of_memory);
    CHECK(attempts == 6);  // 32, 16, 8, 4, 2, 1
    CHECK(p.max_blocks == 1);
  }
  SECTION("any other failure is not retried") {
    LaunchPlan p = LaunchPlan::for_device(132);
    int attempts = 0;
    const auto s = kernels::launch_with_fallback(p, count, [&](std::uint64_t) {
      ++attempts;
      return LaunchStatus::failed;
    });
    CHECK(s == LaunchStatus::failed);
    CHECK(attempts == 1);
    CHECK(p.max_blocks == 2112);
  }
}

TEST_CASE("kernel twin: several devices share a batch in contiguous parts",
          "[kernels][cuda-twin]") {
  for (const std::uint64_t n : {1u, 2u, 3u, 8u}) {
    for (const std::uint64_t count : {0u, 1u, 7u, 1000u, 1001u}) {
      std::uint64_t next = 500;
      std::uint64_t lo = ~std::uint64_t(0), hi = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto [a, b] = kernels::share_of_range(500, count, n, i);
        CHECK(a == next);
        CHECK(b >= a);
        lo = std::min(lo, b - a);
        hi = std::max(hi, b - a);
        next = b;
      }
      CHECK(next == 500 + count);
      CHECK(hi - lo <= 1);
    }
  }
}

TEST_CASE("kernel twin: devices' parts add up to the whole batch bit for bit",
          "[kernels][cuda-twin]") {
  // What CudaBackend does with several GPUs: each device tallies its part; the host adds
  // the integer arrays. The sum must not depend on the number of parts.
  SABRE_REQUIRE_TRANSPORT_PHYSICS();
  const WaterBox box(*shipped_tables(), {-5, -5, 0}, 10, 10, 20);
  const auto src = beam(6.0);
  const auto whole = host_dose(box.tp, src, 9, 0, 900);
  for (std::uint64_t n : {2u, 3u}) {
    std::vector<std::int64_t> sum(whole.size(), 0);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto [a, b] = kernels::share_of_range(0, 900, n, i);
      const auto part = host_dose(box.tp, src, 9, a, b - a);
      for (std::size_t v = 0; v < sum.size(); ++v) sum[v] += part[v];
    }
    CHECK(sum == whole);
  }
}

TEST_CASE("kernel twin: unsigned 64-bit adds of signed quanta give the signed sum",
          "[kernels][cuda-twin]") {
  // The device scorer adds quantize_energy(e) to an unsigned long long with atomicAdd
  // (there is no signed 64-bit atomicAdd); the host reads the array back as int64. Two's
  // complement makes this exact, including negative deposits (positron rest-mass
  // bookkeeping can score negative energy) and any order.
  const std::vector<double> deposits{1.0, 1e-9, 0.5110, -1.022, 3.25e-3, 20.0, -0.25, 7e-11};
  std::int64_t signed_sum = 0;
  for (double e : deposits) signed_sum += kernels::quantize_energy(e);
  for (int order = 0; order < 2; ++order) {
    unsigned long long acc = 0;
    for (std::size_t k = 0; k < deposits.size(); ++k) {
      const double e = order == 0 ? deposits[k] : deposits[deposits.size() - 1 - k];
      acc += static_cast<unsigned long long>(kernels::quantize_energy(e));
    }
    CHECK(static_cast<std::int64_t>(acc) == signed_sum);
  }
  CHECK(kernels::quantize_energy(1.0) == (std::int64_t(1) << 32));
  CHECK(kernels::quantize_energy(-1.0) == -(std::int64_t(1) << 32));
  CHECK(kernels::quantize_energy(0.5 / kernels::kEnergyQuantaPerMeV) == 1);  // rounds half away
  CHECK(kernels::quantize_energy(0.49 / kernels::kEnergyQuantaPerMeV) == 0);
  CHECK(kernels::HostScorer::quantize(0.7) == kernels::quantize_energy(0.7));
}

TEST_CASE("CudaTransport without a usable GPU: one DeviceError", "[kernels][cuda]") {
  if (sabre::test::no_gpu_reason().empty()) {
    sabre::test::skip("a CUDA GPU is present: the no-GPU error path cannot be exercised");
    return;
  }
  phys::TransportParams tp;  // never touched: the device is checked first
  const auto src = beam(1.0);
  try {
    kernels::CudaTransport t(0, tp, src);
    FAIL("CudaTransport constructed without a GPU");
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(!msg.empty());
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("CudaTransport on a GPU: statistically equal to the host twin, repeat bit-identical",
          "[kernels][cuda][gpu]") {
  SABRE_REQUIRE_GPU();
  SABRE_REQUIRE_TRANSPORT_PHYSICS();
  const WaterBox box(*shipped_tables(), {-5, -5, 0}, 10, 10, 20);
  const auto src = beam(2.0);
  constexpr int kBatches = 20;
  constexpr std::uint64_t kPerBatch = 20000;
  kernels::CudaTransport gpu(0, box.tp, src);
  // Repeat: fixed point, so scheduling cannot change the sums.
  {
    std::vector<std::int64_t> g1, g2;
    kernels::EnergyBalance b1, b2;
    gpu.run(5, 0, kPerBatch, g1, b1);
    gpu.run(5, 0, kPerBatch, g2, b2);
    CHECK(g1 == g2);
    CHECK(b1.histories == kPerBatch);
    CHECK(b1.relative_imbalance() == Approx(0).margin(1e-6));
  }
  // Batches on both: per voxel (> 10 % of the maximum) the difference of the means within
  // 4 combined standard errors (sigma from 20 batches each; 4 rather than 3 because the
  // estimated sigma has few degrees of freedom) for >= 99 % of the voxels, and the totals
  // within 0.3 %. The random streams are the same, so the two usually agree far closer.
  const std::size_t nv = std::size_t(box.tp.phantom.grid.size());
  std::vector<double> sg(nv, 0), sg2(nv, 0), sh(nv, 0), sh2(nv, 0);
  for (int b = 0; b < kBatches; ++b) {
    std::vector<std::int64_t> g;
    kernels::EnergyBalance bal;
    gpu.run(5, b * kPerBatch, kPerBatch, g, bal);
    const auto h = host_dose(box.tp, src, 5, b * kPerBatch, kPerBatch);
    for (std::size_t v = 0; v < nv; ++v) {
      const double x = double(g[v]), y = double(h[v]);
      sg[v] += x, sg2[v] += x * x, sh[v] += y, sh2[v] += y * y;
    }
  }
  const double nb = kBatches;
  double hmax = 0, tg = 0, th = 0;
  for (std::size_t v = 0; v < nv; ++v) hmax = std::max(hmax, sh[v] / nb);
  int n_vox = 0, within = 0;
  for (std::size_t v = 0; v < nv; ++v) {
    tg += sg[v];
    th += sh[v];
    const double mg = sg[v] / nb, mh = sh[v] / nb;
    if (mh < 0.1 * hmax) continue;
    const double vg = std::max(0.0, sg2[v] / nb - mg * mg) / (nb - 1);
    const double vh = std::max(0.0, sh2[v] / nb - mh * mh) / (nb - 1);
    ++n_vox;
    within += std::abs(mg - mh) <= 4 * std::sqrt(vg + vh);
  }
  REQUIRE(n_vox > 20);
  CHECK(double(within) / n_vox >= 0.99);
  CHECK(tg / th == Approx(1).epsilon(0.003));
}
