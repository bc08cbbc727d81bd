// Host-side CUDA helpers: error checks that become sabre::DeviceError with one clear
// message, and an owning device buffer. Only meaningful when SABRE_HAVE_CUDA is defined;
// without CUDA this header declares nothing.
#pragma once

#ifdef SABRE_HAVE_CUDA
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hh"

namespace sabre::cuda {

// Throws DeviceError "<what>: <CUDA error string>"; out-of-memory says so plainly so that
// callers can catch it (is_out_of_memory) and retry with smaller batches.
void check(cudaError_t rc, const std::string& what);
bool is_out_of_memory(const DeviceError& e);

// Makes `device` current for this host thread.
void set_device(int device);

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) { allocate(n); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }

  void allocate(std::size_t n) {
    release();
    if (n == 0) return;
    check(cudaMalloc(reinterpret_cast<void**>(&ptr_), n * sizeof(T)),
          "cudaMalloc of " + std::to_string(n * sizeof(T)) + " bytes");
    n_ = n;
  }
  void upload(const T* host, std::size_t n) {
    if (n != n_) allocate(n);
    if (n) check(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  void upload(const std::vector<T>& v) { upload(v.data(), v.size()); }
  void download(T* host, std::size_t n) const {
    if (n) check(cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  }
  std::vector<T> to_host() const {
    std::vector<T> v(n_);
    download(v.data(), n_);
    return v;
  }
  void zero() {
    if (n_) check(cudaMemset(ptr_, 0, n_ * sizeof(T)), "cudaMemset");
  }
  T* get() const { return ptr_; }
  std::size_t size() const { return n_; }

 private:
  void release() {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
    n_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace sabre::cuda
#endif  // SABRE_HAVE_CUDA
