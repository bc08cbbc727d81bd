// The CUDA back end of the transport: the same history function as the host twin
// (physics/transport/history.hh via kernels/transport.hh), one GPU thread per history.
//
// Energy is scored exactly as on the host: 64-bit fixed point (kEnergyQuantaPerMeV quanta
// per MeV) with integer atomics, so a batch's per-voxel sums do not depend on thread
// scheduling, and a given (seed, histories) gives the same bits on any number of GPUs —
// and the same bits as the host twin wherever the compilers evaluate the physics
// identically (FMA contraction and libm differ between nvcc and g++, so host vs GPU is a
// statistical, not a bitwise, equivalence).
//
// Sources: the kernel is instantiated for every kind of beams::SourceView
// (beams/source_kinds.hh, the one list); the source's arrays are copied to the device with
// the transport data (kernels/params_relocation.hh).
//
// Without CUDA (SABRE_HAVE_CUDA undefined) the class exists but its constructor throws
// DeviceError("built without CUDA").
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "beams/source_kinds.hh"
#include "kernels/transport.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::kernels {

// The charged-particle policies the device code is instantiated for.
enum class ChargedModel { condensed_history, local_deposit };

class CudaTransport {
 public:
  // Selects `device`, copies the phantom, tables and source to it. Throws DeviceError.
  CudaTransport(int device, const phys::TransportParams& tp, const beams::SourceView& source,
                ChargedModel model = ChargedModel::condensed_history);
  ~CudaTransport();
  CudaTransport(const CudaTransport&) = delete;
  CudaTransport& operator=(const CudaTransport&) = delete;

  // Runs histories [first, first + count) under `seed` and ADDS their fixed-point energy
  // per voxel into `energy_fp` (host array of grid.size() entries) and their energy
  // bookkeeping into `balance`. Launch size shrinks (down to one block of 32 threads) when
  // the device runs out of memory; other device errors throw DeviceError.
  void run(std::uint64_t seed, std::uint64_t first, std::uint64_t count,
           std::vector<std::int64_t>& energy_fp, EnergyBalance& balance);

  int device() const;
  std::uint64_t max_threads_in_flight() const;  // current launch size after any fallback

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sabre::kernels
