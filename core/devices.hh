// What this machine offers for transport: CPU threads and CUDA devices.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sabre::devices {

struct CudaDevice {
  int index = 0;
  std::string name;
  std::size_t memory_bytes = 0;
  int cc_major = 0;  // compute capability
  int cc_minor = 0;
};

unsigned cpu_threads();

// CUDA devices visible to this process; empty without CUDA support, without a driver or
// without a device. `why_none` (optional) receives the reason when the list is empty.
std::vector<CudaDevice> cuda_devices(std::string* why_none = nullptr);

}  // namespace sabre::devices
