#include "engine/device_spec.hh"

#include <atomic>

#include "core/log.hh"

#include <algorithm>
#include <charconv>

#include "core/devices.hh"
#include "core/errors.hh"
#include "core/ranks.hh"

namespace sabre {
namespace {

int parse_int(const std::string& s, const std::string& whole) {
  int v = -1;
  const auto* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  if (s.empty() || r.ec != std::errc() || r.ptr != end || v < 0)
    throw UsageError("bad --device '" + whole +
                     "' (expected auto, cpu, cpu:N, cuda or cuda:N[,M...])");
  return v;
}

}  // namespace

DeviceSpec parse_device_spec(const std::string& text) {
  DeviceSpec d;
  if (text == "auto") return d;
  if (text == "cpu") {
    d.kind = DeviceSpec::Kind::cpu;
    return d;
  }
  if (text.rfind("cpu:", 0) == 0) {
    d.kind = DeviceSpec::Kind::cpu;
    d.cpu_threads = unsigned(parse_int(text.substr(4), text));
    if (d.cpu_threads == 0) throw UsageError("bad --device '" + text + "': cpu:0 has no threads");
    return d;
  }
  if (text == "cuda") {
    d.kind = DeviceSpec::Kind::cuda;
    return d;
  }
  if (text.rfind("cuda:", 0) == 0) {
    d.kind = DeviceSpec::Kind::cuda;
    std::string rest = text.substr(5);
    std::size_t start = 0;
    while (true) {
      const auto comma = rest.find(',', start);
      d.cuda_devices.push_back(parse_int(rest.substr(start, comma - start), text));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    auto sorted = d.cuda_devices;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw UsageError("bad --device '" + text + "': a device is listed twice");
    return d;
  }
  throw UsageError("bad --device '" + text +
                   "' (expected auto, cpu, cpu:N, cuda or cuda:N[,M...])");
}

std::vector<int> gpus_of_local_rank(int gpus, int local_rank, int local_size) {
  std::vector<int> out;
  if (gpus <= 0) return out;
  if (local_size <= 1) {
    for (int i = 0; i < gpus; ++i) out.push_back(i);
    return out;
  }
  out.push_back(local_rank % gpus);
  return out;
}

DeviceSpec choose_device(const DeviceSpec& spec, const std::vector<devices::CudaDevice>& gpus,
                         const std::string& why, bool cuda_validated, std::string* note) {
  DeviceSpec out = spec;
  auto cpu = [&] {
    out.kind = DeviceSpec::Kind::cpu;  // a thread count set by the caller is kept
    if (out.cpu_threads == 0) out.cpu_threads = devices::cpu_threads();
    return out;
  };
  if (spec.kind == DeviceSpec::Kind::cpu) return cpu();
  if (spec.kind == DeviceSpec::Kind::automatic) {
    if (gpus.empty()) return cpu();
    if (!cuda_validated) {
      if (note)
        *note = "--device auto: running on the CPU although " + std::to_string(gpus.size()) +
                " CUDA device(s) are present (" + gpus[0].name +
                "): the CUDA back end has not yet passed its equivalence checks with the CPU on a GPU "
                "(validation/REPORT.md); --device cuda opts into the GPU";
      return cpu();
    }
    out.kind = DeviceSpec::Kind::cuda;
  }
  if (gpus.empty()) throw DeviceError("--device cuda: no usable CUDA device (" + why + ")");
  if (out.cuda_devices.empty()) {
    // Every GPU of the node; with several MPI ranks on the node, rank k of them takes GPU
    // k mod (GPUs) alone (issue 22), so the ranks of a node do not share devices.
    for (int i : gpus_of_local_rank(int(gpus.size()), ranks::local_rank(), ranks::local_size()))
      out.cuda_devices.push_back(gpus[std::size_t(i)].index);
  } else {
    for (int i : out.cuda_devices)
      if (i >= int(gpus.size()))
        throw DeviceError("--device cuda:" + std::to_string(i) + ": no such CUDA device (" +
                          std::to_string(gpus.size()) + " present)");
  }
  return out;
}

DeviceSpec resolve_device_spec(const DeviceSpec& spec) {
  if (spec.kind == DeviceSpec::Kind::cpu) return choose_device(spec, {}, "", kCudaBackendValidated);
  std::string why, note;
  const auto gpus = devices::cuda_devices(&why);
  DeviceSpec out = choose_device(spec, gpus, why, kCudaBackendValidated, &note);
  static std::atomic<bool> said{false};
  if (!note.empty() && !said.exchange(true)) spdlog::warn("{}", note);
  return out;
}

std::string to_string(const DeviceSpec& d) {
  switch (d.kind) {
    case DeviceSpec::Kind::automatic:
      return "auto";
    case DeviceSpec::Kind::cpu:
      return d.cpu_threads ? "cpu:" + std::to_string(d.cpu_threads) : "cpu";
    case DeviceSpec::Kind::cuda: {
      if (d.cuda_devices.empty()) return "cuda";
      std::string s = "cuda:";
      for (std::size_t i = 0; i < d.cuda_devices.size(); ++i)
        s += (i ? "," : "") + std::to_string(d.cuda_devices[i]);
      return s;
    }
  }
  return "?";
}

}  // namespace sabre
