#include "engine/backend.hh"

namespace sabre {

std::unique_ptr<BatchBackend> make_host_backend(const phys::TransportParams& tp, const beams::SourceView& source,
                                                std::uint64_t seed, int threads, std::int64_t chunk) {
  const phys::TransportParams* tpp = &tp;
  HistoryRangeFn fn = std::visit(
      [tpp, seed](const auto& view) -> HistoryRangeFn {
        // The view is copied into the function: it owns nothing and is a few hundred bytes.
        return [tpp, view, seed](std::uint64_t first, std::uint64_t count, kernels::HostScorer& sc,
                                 kernels::HostStack& st) {
          kernels::transport_range_host<kernels::ProductionCharged>(*tpp, view, seed, first, count, sc, st);
        };
      },
      source);
  return std::make_unique<HostBackend>(std::move(fn), threads, chunk);
}

std::unique_ptr<BatchBackend> make_backend(const DeviceSpec& requested, const phys::TransportParams& tp,
                                           const beams::SourceView& source, std::uint64_t seed,
                                           std::int64_t chunk) {
  DeviceSpec spec = resolve_device_spec(requested);
  if (spec.kind == DeviceSpec::Kind::cuda) {
    if (requested.kind != DeviceSpec::Kind::automatic) return make_cuda_backend(spec.cuda_devices, tp, source, seed);
    // auto: a GPU that cannot take this run (out of memory for the phantom and tables, a
    // driver error) gives way to the CPU, with a warning; an explicit cuda does not.
    try {
      return make_cuda_backend(spec.cuda_devices, tp, source, seed);
    } catch (const DeviceError& e) {
      spdlog::warn("--device auto: the GPU could not be set up ({}); running on the CPU", e.what());
      DeviceSpec cpu;
      cpu.kind = DeviceSpec::Kind::cpu;
      cpu.cpu_threads = requested.cpu_threads;
      spec = resolve_device_spec(cpu);
    }
  }
  return make_host_backend(tp, source, seed, int(spec.cpu_threads), chunk);
}

}  // namespace sabre
