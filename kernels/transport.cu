// CUDA twin of kernels/transport.cc: one GPU thread per history (grid-stride loop), each
// running phys::run_history with a device scorer and a per-thread secondary stack.
// Host-side set-up (device copies of the params, launches, out-of-memory fallback) is
// in this file too; the physics is all in the shared headers.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/charged_policy.hh"
#include "kernels/cuda_support.hh"
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
constexpr int kThreadsPerBlock = 128;

enum BalanceSlot { kEmitted = 0, kRestMass, kDeposited, kBelowCut, kEscaped, kNumSlots };

struct DeviceScorer {
  unsigned long long* energy_fp;
  double deposited = 0, below = 0, escaped = 0, rest = 0;

  __device__ void add(std::int64_t voxel, double e_mev) {
    const long long q = llround(e_mev * kEnergyQuantaPerMeV);
    // Two's-complement addition: the unsigned atomic adds signed quanta exactly.
    atomicAdd(energy_fp + voxel, static_cast<unsigned long long>(q));
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
  double emitted = 0;
  const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
  for (std::uint64_t i = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride)
    emitted += phys::run_history<Charged>(tp, source, seed, first + i, scorer, stack);
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
  beams::SimpleSource source;
  std::size_t n_voxels = 0;
  cuda::DeviceBuffer<unsigned long long> energy;
  cuda::DeviceBuffer<double> balance;
  cuda::DeviceBuffer<unsigned long long> overflows;
  std::uint64_t max_blocks = 0;

  template <class Charged>
  void launch(std::uint64_t blocks, std::uint64_t seed, std::uint64_t first,
              std::uint64_t count) {
    transport_kernel<Charged, beams::SimpleSource><<<unsigned(blocks), kThreadsPerBlock>>>(
        tp, source, seed, first, count, energy.get(), balance.get(), overflows.get());
  }
};

CudaTransport::CudaTransport(int device, const phys::TransportParams& tp,
                             const beams::SimpleSource& source, ChargedModel model)
    : impl_(std::make_unique<Impl>()) {
  if (!kChargedTransportAvailable && model == ChargedModel::condensed_history)
    throw DeviceError("the CUDA back end was built without the condensed-history electron "
                      "transport");
  cuda::set_device(device);
  impl_->device = device;
  impl_->model = model;
  impl_->tp = relocate(tp, impl_->copier);
  impl_->source = relocate(source, impl_->copier);
  impl_->n_voxels = std::size_t(tp.phantom.grid.size());
  impl_->energy.allocate(impl_->n_voxels);
  impl_->balance.allocate(kNumSlots);
  impl_->overflows.allocate(1);
  cudaDeviceProp prop{};
  cuda::check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  // Enough resident blocks to fill the device several times over.
  impl_->max_blocks = std::uint64_t(prop.multiProcessorCount) * 16;
}

CudaTransport::~CudaTransport() = default;

int CudaTransport::device() const { return impl_->device; }
std::uint64_t CudaTransport::max_threads_in_flight() const {
  return impl_->max_blocks * kThreadsPerBlock;
}

void CudaTransport::run(std::uint64_t seed, std::uint64_t first, std::uint64_t count,
                        std::vector<std::int64_t>& energy_fp, EnergyBalance& bal) {
  Impl& m = *impl_;
  cuda::set_device(m.device);
  if (energy_fp.size() != m.n_voxels) energy_fp.assign(m.n_voxels, 0);
  m.energy.zero();
  m.balance.zero();
  m.overflows.zero();
  while (true) {
    const std::uint64_t needed = (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
    const std::uint64_t blocks = std::max<std::uint64_t>(1, std::min(needed, m.max_blocks));
    if (m.model == ChargedModel::local_deposit) {
      m.launch<phys::LocalDepositCharged>(blocks, seed, first, count);
    } else {
      m.launch<ProductionCharged>(blocks, seed, first, count);
    }
    cudaError_t rc = cudaGetLastError();
    if (rc == cudaSuccess) rc = cudaDeviceSynchronize();
    if ((rc == cudaErrorMemoryAllocation || rc == cudaErrorLaunchOutOfResources) &&
        m.max_blocks > 1) {
      // Local memory for the per-thread stacks scales with the launch: retry smaller.
      // Nothing was scored by a launch that failed to start.
      cudaGetLastError();
      m.max_blocks /= 2;
      continue;
    }
    cuda::check(rc, "transport kernel (histories " + std::to_string(first) + " to " +
                        std::to_string(first + count) + ")");
    break;
  }
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
