#include "core/devices.hh"

#include <thread>

#ifdef SABRE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace sabre::devices {

unsigned cpu_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

std::vector<CudaDevice> cuda_devices(std::string* why_none) {
  std::vector<CudaDevice> out;
#ifdef SABRE_HAVE_CUDA
  int count = 0;
  const cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess) {
    if (why_none) *why_none = cudaGetErrorString(rc);
    cudaGetLastError();  // clear the sticky error
    return out;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    out.push_back({i, prop.name, prop.totalGlobalMem, prop.major, prop.minor});
  }
  if (out.empty() && why_none) *why_none = "no CUDA device found";
#else
  if (why_none) *why_none = "built without CUDA";
#endif
  return out;
}

}  // namespace sabre::devices
