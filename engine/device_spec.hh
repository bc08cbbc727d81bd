// Which back end runs the transport: --device auto|cpu|cpu:N|cuda|cuda:N[,M...]
//   auto      every CUDA device when there is one, else all CPU threads
//   cpu       all CPU threads; cpu:N uses N threads
//   cuda      every CUDA device (error if none)
//   cuda:N,M  the listed CUDA devices; several devices in one process share the histories
#pragma once

#include <string>
#include <vector>

namespace sabre {

struct DeviceSpec {
  enum class Kind { automatic, cpu, cuda };
  Kind kind = Kind::automatic;
  unsigned cpu_threads = 0;       // 0: all hardware threads
  std::vector<int> cuda_devices;  // empty with kind cuda: all devices
};

// Throws UsageError on a malformed string.
DeviceSpec parse_device_spec(const std::string& text);

// The concrete choice for this machine: kind cpu or cuda (never automatic), the CUDA
// device list filled in. Throws DeviceError when CUDA was asked for and is not usable.
DeviceSpec resolve_device_spec(const DeviceSpec& spec);

std::string to_string(const DeviceSpec& spec);

// The CUDA devices rank `local_rank` of the `local_size` MPI ranks on a node takes when all
// GPUs were asked for: all of them with one rank, else GPU local_rank mod gpus alone.
std::vector<int> gpus_of_local_rank(int gpus, int local_rank, int local_size);

}  // namespace sabre
