// Which back end runs the transport: --device auto|cpu|cpu:N|cuda|cuda:N[,M...]
//   auto      every CUDA device when there is one AND the CUDA back end has passed its
//             equivalence checks on a GPU (kCudaBackendValidated), else all CPU threads
//   cpu       all CPU threads; cpu:N uses N threads
//   cuda      every CUDA device (error if none)
//   cuda:N,M  the listed CUDA devices; several devices in one process share the histories
#pragma once

#include <string>
#include <vector>

#include "core/devices.hh"

namespace sabre {

struct DeviceSpec {
  enum class Kind { automatic, cpu, cuda };
  Kind kind = Kind::automatic;
  unsigned cpu_threads = 0;       // 0: all hardware threads
  std::vector<int> cuda_devices;  // empty with kind cuda: all devices
};

// Throws UsageError on a malformed string.
DeviceSpec parse_device_spec(const std::string& text);

// Whether the CUDA back end has passed its equivalence checks with the host back end on
// real GPU hardware (validation/REPORT.md, the GPU rows). Until it has, `--device auto`
// takes the CPU even where a GPU is present, and says once that `--device cuda` opts in
// (issue 23). Set to true only in the commit that records those checks passing.
inline constexpr bool kCudaBackendValidated = false;

// The choice of `spec` given the CUDA devices found (`why_none`: why there are none) and
// whether the CUDA back end is validated: kind cpu or cuda (never automatic), the CUDA
// device list filled in. `note` (optional) receives the message for `auto` staying on the
// CPU beside a GPU. DeviceError when CUDA was asked for and there is none. Pure: the
// device query is the caller's (tests pass a simulated one).
DeviceSpec choose_device(const DeviceSpec& spec, const std::vector<devices::CudaDevice>& gpus,
                         const std::string& why_none, bool cuda_validated, std::string* note = nullptr);

// The concrete choice for this machine: kind cpu or cuda (never automatic), the CUDA
// device list filled in. Throws DeviceError when CUDA was asked for and is not usable.
// choose_device with this machine's devices and kCudaBackendValidated; its note is
// logged once per process (warning).
DeviceSpec resolve_device_spec(const DeviceSpec& spec);

std::string to_string(const DeviceSpec& spec);

// The CUDA devices rank `local_rank` of the `local_size` MPI ranks on a node takes when all
// GPUs were asked for: all of them with one rank, else GPU local_rank mod gpus alone.
std::vector<int> gpus_of_local_rank(int gpus, int local_rank, int local_size);

}  // namespace sabre
