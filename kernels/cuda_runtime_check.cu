// A trivial kernel that proves the CUDA toolchain builds device code for every configured
// architecture; `sabre info` and the GPU tests use it to check that a launch works.
#include <cuda_runtime.h>

namespace sabre::kernels {

__global__ void add_one_kernel(int* value) { *value += 1; }

// Launches add_one on device memory; returns the cudaError_t of the sequence.
int cuda_launch_smoke_test(int* host_value) {
  int* d = nullptr;
  cudaError_t rc = cudaMalloc(&d, sizeof(int));
  if (rc != cudaSuccess) return rc;
  rc = cudaMemcpy(d, host_value, sizeof(int), cudaMemcpyHostToDevice);
  if (rc == cudaSuccess) {
    add_one_kernel<<<1, 1>>>(d);
    rc = cudaGetLastError();
  }
  if (rc == cudaSuccess) rc = cudaMemcpy(host_value, d, sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(d);
  return rc;
}

}  // namespace sabre::kernels
