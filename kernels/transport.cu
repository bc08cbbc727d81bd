// CUDA twin of kernels/transport.hh (transport_range_host): one GPU thread per history in a
// grid-stride loop (kernels::transport_strided, shared with the host tests), each running
// phys::run_history with a device scorer and a per-thread secondary stack. Host-side
// set-up (device copies of the params and the source, launches, the out-of-memory
// fallback of kernels/launch_plan.hh) is in this file too; the physics is all in the
// shared headers. Instantiated for every kind of beams::SourceView (beams/source_kinds.hh),
// each with the production and the local-deposit charged-particle policy.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "kernels/charged_policy.hh"
#include "kernels/cuda_support.hh"
#include "kernels/launch_plan.hh"
#include "kernels/params_relocation.hh"
#include "kernels/transport_cuda.hh"
#include "physics/transport/history.hh"
#include "physics/transport/local_deposit.hh"
#include "physics/transport/secondaries.hh"

namespace sabre::kernels {
namespace {

// Per-thread secondary stack on the device (local memory). A history that would push
// beyond it deposits the particle locally and is counted (EnergyBalance::stack_overflows).
constexpr int kDeviceStackCapacity = 64;

enum BalanceSlot { kEmitted = 0, kRestMass, kDeposited, kBelowCut, kEscaped, kNumSlots };

struct DeviceScorer {
  unsigned long long* energy_fp;
  double deposited = 0, below = 0, escaped = 0, rest = 0;

  __device__ void add(std::int64_t voxel, double e_mev) {
    // Two's-complement addition: the unsigned atomic adds signed quanta exactly.
    atomicAdd(energy_fp + voxel, static_cast<unsigned long long>(quantize_energy(e_mev)));
  }
  __device__ void deposit(std::int64_t voxel, double e_mev) {
    add(voxel, e_mev);
    deposited += e_mev;
  }
  __device__ void below_cut(std::int64_t voxel, double e_mev) {
    add(voxel, e_mev);
    below += e_mev;
  }
  __device__ void escape(double e_mev) { escaped += e_mev; }
  __device__ void rest_mass(double e_mev) { rest += e_mev; }
};

template <class Charged, class Source>
__global__ void transport_kernel(phys::TransportParams tp, Source source, std::uint64_t seed,
                                 std::uint64_t first, std::uint64_t count,
                                 unsigned long long* energy_fp, double* balance,
                                 unsigned long long* overflows) {
  DeviceScorer scorer{energy_fp};
  phys::FixedStack<kDeviceStackCapacity> stack;
  const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
  const std::uint64_t thread = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const double emitted = transport_strided<Charged>(tp, source, seed, first, count, thread,
                                                    stride, scorer, stack);
  // Diagnostics only (double atomics are order dependent; the dose is not).
  atomicAdd(balance + kEmitted, emitted);
  atomicAdd(balance + kRestMass, scorer.rest);
  atomicAdd(balance + kDeposited, scorer.deposited);
  atomicAdd(balance + kBelowCut, scorer.below);
  atomicAdd(balance + kEscaped, scorer.escaped);
  if (stack.overflows) atomicAdd(overflows, static_cast<unsigned long long>(stack.overflows));
}

// Copies host arrays into device buffers that live as long as the Impl.
struct DeviceCopier {
  std::vector<cuda::DeviceBuffer<unsigned char>> buffers;
  template <class T>
  const T* copy(const T* src, std::size_t count) {
    cuda::DeviceBuffer<unsigned char> b;
    b.upload(reinterpret_cast<const unsigned char*>(src), count * sizeof(T));
    const T* p = reinterpret_cast<const T*>(b.get());
    buffers.push_back(std::move(b));
    return p;
  }
};

}  // namespace

struct CudaTransport::Impl {
  int device = 0;
  ChargedModel model = ChargedModel::condensed_history;
  DeviceCopier copier;
  phys::TransportParams tp;
  beams::SourceView source;
  std::size_t n_voxels = 0;
  cuda::DeviceBuffer<unsigned long long> energy;
  cuda::DeviceBuffer<double> balance;
  cuda::DeviceBuffer<unsigned long long> overflows;
  LaunchPlan plan;

  template <class Charged>
  void launch(std::uint64_t blocks, std::uint64_t seed, std::uint64_t first,
              std::uint64_t count) {
    std::visit(
        [&](const auto& src) {
          using Source = std::decay_t<decltype(src)>;
          transport_kernel<Charged, Source>
              <<<unsigned(blocks), unsigned(LaunchPlan::kThreadsPerBlock)>>>(
                  tp, src, seed, first, count, energy.get(), balance.get(), overflows.get());
        },
        source);
  }

  // Everything but the source: device, params copy, tallies, launch plan.
  static std::unique_ptr<Impl> create(int device, const phys::TransportParams& host_tp,
                                      ChargedModel model) {
    if (!kChargedTransportAvailable && model == ChargedModel::condensed_history)
      throw DeviceError("the CUDA back end was built without the condensed-history electron "
                        "transport");
    auto m = std::make_unique<Impl>();
    cuda::set_device(device);
    m->device = device;
    m->model = model;
    m->tp = relocate(host_tp, m->copier);
    m->n_voxels = std::size_t(host_tp.phantom.grid.size());
    m->energy.allocate(m->n_voxels);
    m->balance.allocate(kNumSlots);
    m->overflows.allocate(1);
    cudaDeviceProp prop{};
    cuda::check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    m->plan = LaunchPlan::for_device(prop.multiProcessorCount);
    return m;
  }
};

CudaTransport::CudaTransport(int device, const phys::TransportParams& tp, const beams::SourceView& source,
                             ChargedModel model)
    : impl_(Impl::create(device, tp, model)) {
  impl_->source = relocate(source, impl_->copier);
}

CudaTransport::~CudaTransport() = default;

int CudaTransport::device() const { return impl_->device; }
std::uint64_t CudaTransport::max_threads_in_flight() const {
  return impl_->plan.max_blocks * LaunchPlan::kThreadsPerBlock;
}

void CudaTransport::run(std::uint64_t seed, std::uint64_t first, std::uint64_t count,
                        std::vector<std::int64_t>& energy_fp, EnergyBalance& bal) {
  Impl& m = *impl_;
  cuda::set_device(m.device);
  if (energy_fp.size() != m.n_voxels) energy_fp.assign(m.n_voxels, 0);
  cudaError_t rc = cudaSuccess;
  launch_with_fallback(m.plan, count, [&](std::uint64_t blocks) {
    // Zeroed for every attempt: a launch that failed part-way must not leave its deposits.
    m.energy.zero();
    m.balance.zero();
    m.overflows.zero();
    if (m.model == ChargedModel::local_deposit) {
      m.launch<phys::LocalDepositCharged>(blocks, seed, first, count);
    } else {
      m.launch<ProductionCharged>(blocks, seed, first, count);
    }
    rc = cudaGetLastError();
    if (rc == cudaSuccess) rc = cudaDeviceSynchronize();
    if (rc == cudaSuccess) return LaunchStatus::ok;
    if (rc == cudaErrorMemoryAllocation || rc == cudaErrorLaunchOutOfResources) {
      // Local memory for the per-thread stacks scales with the launch: retry smaller
      // (launch_with_fallback halves the plan). Clear the (non-sticky) error first.
      cudaGetLastError();
      return LaunchStatus::out_of_memory;
    }
    return LaunchStatus::failed;
  });
  cuda::check(rc, "transport kernel (histories " + std::to_string(first) + " to " +
                      std::to_string(first + count) + ", " +
                      std::to_string(m.plan.max_blocks) + " blocks)");
  const auto e = m.energy.to_host();
  for (std::size_t v = 0; v < m.n_voxels; ++v) energy_fp[v] += static_cast<std::int64_t>(e[v]);
  const auto b = m.balance.to_host();
  bal.emitted_mev += b[kEmitted];
  bal.rest_mass_mev += b[kRestMass];
  bal.deposited_mev += b[kDeposited];
  bal.below_cut_mev += b[kBelowCut];
  bal.escaped_mev += b[kEscaped];
  bal.stack_overflows += m.overflows.to_host()[0];
  bal.histories += count;
}

}  // namespace sabre::kernels
