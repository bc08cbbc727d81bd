// Without CUDA the device back end reports that it was not built (one clear message).
#include "kernels/transport_cuda.hh"

#ifndef SABRE_HAVE_CUDA
#include "core/errors.hh"

namespace sabre::kernels {

struct CudaTransport::Impl {};

namespace {
[[noreturn]] void not_built() {
  throw DeviceError("this sabre was built without CUDA (rebuild with -DSABRE_CUDA=ON)");
}
}  // namespace

CudaTransport::CudaTransport(int, const phys::TransportParams&, const beams::SourceView&, ChargedModel) {
  not_built();
}
CudaTransport::~CudaTransport() = default;
void CudaTransport::run(std::uint64_t, std::uint64_t, std::uint64_t, std::vector<std::int64_t>&,
                        EnergyBalance&) {}
int CudaTransport::device() const { return -1; }
std::uint64_t CudaTransport::max_threads_in_flight() const { return 0; }

}  // namespace sabre::kernels
#endif
