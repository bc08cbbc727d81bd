#include "kernels/cuda_support.hh"

#ifdef SABRE_HAVE_CUDA
namespace sabre::cuda {

void check(cudaError_t rc, const std::string& what) {
  if (rc == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the device stays usable
  if (rc == cudaErrorMemoryAllocation)
    throw DeviceError("CUDA out of memory: " + what);
  throw DeviceError("CUDA error in " + what + ": " + cudaGetErrorString(rc));
}

bool is_out_of_memory(const DeviceError& e) {
  return std::string(e.what()).rfind("CUDA out of memory", 0) == 0;
}

void set_device(int device) {
  check(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
}

}  // namespace sabre::cuda
#endif
