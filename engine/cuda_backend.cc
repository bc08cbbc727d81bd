// CudaBackend: a batch's histories shared by one or more CUDA devices (engine/backend.hh).
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/backend.hh"
#include "kernels/launch_plan.hh"
#include "kernels/transport_cuda.hh"

namespace sabre {
namespace {

class CudaBackend final : public BatchBackend {
 public:
  CudaBackend(const std::vector<int>& devices, const phys::TransportParams& tp,
              const beams::SourceView& source, std::uint64_t seed)
      : seed_(seed), n_voxels_(std::size_t(tp.phantom.grid.size())) {
    if (devices.empty()) throw DeviceError("no CUDA device to run on");
    for (int d : devices) {
      units_.push_back(std::make_unique<kernels::CudaTransport>(d, tp, source));
      if (!desc_.empty()) desc_ += ",";
      desc_ += std::to_string(d);
    }
    desc_ = "cuda:" + desc_;
  }

  void run_range(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                 kernels::EnergyBalance& balance) override {
    const std::size_t n = units_.size();
    if (n == 1) {
      units_[0]->run(seed_, first, count, energy_fp, balance);
      return;
    }
    // Contiguous parts, one host thread per device; integer sums on the host.
    std::vector<std::vector<std::int64_t>> parts(n, std::vector<std::int64_t>(n_voxels_, 0));
    std::vector<kernels::EnergyBalance> bal(n);
    std::vector<std::exception_ptr> errors(n);
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < n; ++i) {
      const auto part = kernels::share_of_range(first, count, n, i);
      const std::uint64_t a = part.first, b = part.second;
      pool.emplace_back([&, i, a, b] {
        try {
          if (b > a) units_[i]->run(seed_, a, b - a, parts[i], bal[i]);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    for (auto& t : pool) t.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t v = 0; v < n_voxels_; ++v) energy_fp[v] += parts[i][v];
      balance.add(bal[i]);
    }
  }

  std::string description() const override { return desc_; }

 private:
  std::uint64_t seed_;
  std::size_t n_voxels_;
  std::vector<std::unique_ptr<kernels::CudaTransport>> units_;
  std::string desc_;
};

}  // namespace

std::unique_ptr<BatchBackend> make_cuda_backend(const std::vector<int>& devices,
                                                const phys::TransportParams& tp,
                                                const beams::SourceView& source, std::uint64_t seed) {
  return std::make_unique<CudaBackend>(devices, tp, source, seed);
}

}  // namespace sabre
