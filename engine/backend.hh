// Choosing the back end that runs a simulation's batches for a --device choice
// (engine/device_spec.hh): CPU threads (HostBackend) or CUDA devices (CudaBackend).
//
// Every source kind of beams::SourceView (beams/source_kinds.hh, the one list) runs on both:
// the host path visits the variant once to bind the concrete view, the CUDA back end
// instantiates its kernel for each alternative.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "beams/source_kinds.hh"
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
                                                const beams::SourceView& source, std::uint64_t seed);

// CPU threads running the host twin for `source` (the view is copied; the arrays it points
// at, and `tp`, must outlive the back end).
std::unique_ptr<BatchBackend> make_host_backend(const phys::TransportParams& tp, const beams::SourceView& source,
                                                std::uint64_t seed, int threads, std::int64_t chunk = 64);

// The back end for `requested` (parsed, not yet resolved). `threads` from the spec (0: all).
// With `auto`, a GPU whose set-up fails (DeviceError: e.g. the phantom does not fit in its
// memory) is replaced by the CPU with a warning; `cuda`/`cuda:N` report the error.
std::unique_ptr<BatchBackend> make_backend(const DeviceSpec& requested, const phys::TransportParams& tp,
                                           const beams::SourceView& source, std::uint64_t seed,
                                           std::int64_t chunk = 64);

}  // namespace sabre
