// Choosing the back end that runs a simulation's batches for a --device choice
// (engine/device_spec.hh): CPU threads (HostBackend) or CUDA devices (CudaBackend).
//
// A source type runs on CUDA when kernels/ instantiate the transport kernel for it; for
// such types `make_cuda_backend` has an overload below. For any other source type a CUDA
// request is a DeviceError, and `auto` resolves to the CPU with a log line saying why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "beams/linac_source.hh"
#include "beams/phsp_source.hh"
#include "beams/source.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "engine/device_spec.hh"
#include "engine/simulation.hh"
#include "kernels/charged_policy.hh"
#include "kernels/transport.hh"
#include "physics/transport/transport_params.hh"

namespace sabre {

// CUDA devices sharing each batch's histories (split into contiguous parts, one host
// thread per device; each part's fixed-point energy is added on the host, so the result
// does not depend on the number of devices). Throws DeviceError (also without CUDA).
std::unique_ptr<BatchBackend> make_cuda_backend(const std::vector<int>& devices,
                                                const phys::TransportParams& tp,
                                                const beams::SimpleSource& source,
                                                std::uint64_t seed);
std::unique_ptr<BatchBackend> make_cuda_backend(const std::vector<int>& devices,
                                                const phys::TransportParams& tp,
                                                const beams::LinacSourceView& source,
                                                std::uint64_t seed);
std::unique_ptr<BatchBackend> make_cuda_backend(const std::vector<int>& devices,
                                                const phys::TransportParams& tp,
                                                const beams::PhspSourceView& source,
                                                std::uint64_t seed);

// Whether `Source` has a CUDA path (an overload of make_cuda_backend).
template <class Source>
inline constexpr bool kSourceRunsOnCuda = std::is_same_v<Source, beams::SimpleSource> ||
                                          std::is_same_v<Source, beams::LinacSourceView> ||
                                          std::is_same_v<Source, beams::PhspSourceView>;

// The back end for `requested` (parsed, not yet resolved): resolves it, and for a source
// type without a CUDA path turns `auto` into the CPU. `threads` from the spec (0: all).
// With `auto`, a GPU whose set-up fails (DeviceError: e.g. the phantom does not fit in its
// memory) is replaced by the CPU with a warning; `cuda`/`cuda:N` report the error.
template <class Source>
std::unique_ptr<BatchBackend> make_backend(const DeviceSpec& requested,
                                           const phys::TransportParams& tp,
                                           const Source& source, std::uint64_t seed,
                                           std::int64_t chunk = 64) {
  DeviceSpec spec = requested;
  if constexpr (!kSourceRunsOnCuda<Source>) {
    if (spec.kind == DeviceSpec::Kind::cuda)
      throw DeviceError("this source has no CUDA path yet: use --device cpu");
    if (spec.kind == DeviceSpec::Kind::automatic) spec.kind = DeviceSpec::Kind::cpu;
  }
  spec = resolve_device_spec(spec);
  if constexpr (kSourceRunsOnCuda<Source>) {
    if (spec.kind == DeviceSpec::Kind::cuda) {
      if (requested.kind != DeviceSpec::Kind::automatic)
        return make_cuda_backend(spec.cuda_devices, tp, source, seed);
      // auto: a GPU that cannot take this run (out of memory for the phantom and tables,
      // a driver error) gives way to the CPU, with a warning; an explicit cuda does not.
      try {
        return make_cuda_backend(spec.cuda_devices, tp, source, seed);
      } catch (const DeviceError& e) {
        spdlog::warn("--device auto: the GPU could not be set up ({}); running on the CPU",
                     e.what());
        DeviceSpec cpu;
        cpu.kind = DeviceSpec::Kind::cpu;
        cpu.cpu_threads = requested.cpu_threads;
        spec = resolve_device_spec(cpu);
      }
    }
  }
  const phys::TransportParams* tpp = &tp;
  const Source* src = &source;
  HistoryRangeFn fn = [tpp, src, seed](std::uint64_t first, std::uint64_t count,
                                       kernels::HostScorer& sc, kernels::HostStack& st) {
    kernels::transport_range_host<kernels::ProductionCharged>(*tpp, *src, seed, first, count,
                                                              sc, st);
  };
  return std::make_unique<HostBackend>(std::move(fn), int(spec.cpu_threads), chunk);
}

}  // namespace sabre
