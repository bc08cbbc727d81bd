#include <catch2/catch.hpp>

#include "core/errors.hh"
#include "engine/device_spec.hh"
#include "tests/support/skip.hh"

using sabre::DeviceSpec;
using sabre::parse_device_spec;

TEST_CASE("device strings parse", "[engine]") {
  CHECK(parse_device_spec("auto").kind == DeviceSpec::Kind::automatic);
  CHECK(parse_device_spec("cpu").kind == DeviceSpec::Kind::cpu);
  CHECK(parse_device_spec("cpu:3").cpu_threads == 3);
  CHECK(parse_device_spec("cuda").cuda_devices.empty());
  const auto d = parse_device_spec("cuda:0,2");
  CHECK(d.kind == DeviceSpec::Kind::cuda);
  CHECK(d.cuda_devices == std::vector<int>{0, 2});
  CHECK(sabre::to_string(d) == "cuda:0,2");
}

TEST_CASE("bad device strings are usage errors", "[engine]") {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:0,0", "cpu:0", "cpu:-1", "cuda:1,"})
    CHECK_THROWS_AS(parse_device_spec(bad), sabre::UsageError);
}

TEST_CASE("auto resolves to the CPU without a GPU; cuda is a device error", "[engine]") {
  if (!sabre::test::no_gpu_reason().empty()) {
    const auto r = sabre::resolve_device_spec(parse_device_spec("auto"));
    CHECK(r.kind == DeviceSpec::Kind::cpu);
    CHECK(r.cpu_threads >= 1);
    CHECK_THROWS_AS(sabre::resolve_device_spec(parse_device_spec("cuda")), sabre::DeviceError);
  } else {
    const auto r = sabre::resolve_device_spec(parse_device_spec("auto"));
    CHECK(r.kind == (sabre::kCudaBackendValidated ? DeviceSpec::Kind::cuda : DeviceSpec::Kind::cpu));
    CHECK(!sabre::resolve_device_spec(parse_device_spec("cuda")).cuda_devices.empty());
  }
}

// Issue 23, acceptance 4: a machine with a CUDA device (the device query simulated: one
// H200), the CUDA back end not validated on hardware. `auto` must take the CPU and say why
// and how to opt in; `cuda` still gets the GPU; once validated, `auto` takes the GPU.
TEST_CASE("auto takes the CPU beside a GPU while the CUDA back end is unvalidated", "[engine]") {
  sabre::devices::CudaDevice h200;
  h200.index = 0;
  h200.name = "NVIDIA H200";
  h200.memory_bytes = std::size_t(141) << 30;
  h200.cc_major = 9;
  const std::vector<sabre::devices::CudaDevice> gpus{h200};
  std::string note;
  const auto a = sabre::choose_device(parse_device_spec("auto"), gpus, "", false, &note);
  CHECK(a.kind == DeviceSpec::Kind::cpu);
  CHECK(a.cpu_threads >= 1);
  CHECK(note.find("running on the CPU") != std::string::npos);
  CHECK(note.find("NVIDIA H200") != std::string::npos);
  CHECK(note.find("--device cuda opts into the GPU") != std::string::npos);
  CHECK(note.find("validation/REPORT.md") != std::string::npos);
  // an explicit thread count survives
  CHECK(sabre::choose_device(parse_device_spec("auto"), gpus, "", false).cpu_threads ==
        sabre::choose_device(parse_device_spec("cpu"), gpus, "", false).cpu_threads);
  // --device cuda opts in
  std::string none;
  const auto c = sabre::choose_device(parse_device_spec("cuda"), gpus, "", false, &none);
  CHECK(c.kind == DeviceSpec::Kind::cuda);
  CHECK(c.cuda_devices == std::vector<int>{0});
  CHECK(none.empty());
  // validated: auto takes the GPU, without a note
  std::string quiet;
  const auto v = sabre::choose_device(parse_device_spec("auto"), gpus, "", true, &quiet);
  CHECK(v.kind == DeviceSpec::Kind::cuda);
  CHECK(quiet.empty());
  // no GPU: auto is the CPU without a note; cuda is a device error naming the reason
  std::string no_note;
  CHECK(sabre::choose_device(parse_device_spec("auto"), {}, "no driver", false, &no_note).kind ==
        DeviceSpec::Kind::cpu);
  CHECK(no_note.empty());
  CHECK_THROWS_WITH(sabre::choose_device(parse_device_spec("cuda"), {}, "no driver", false),
                    Catch::Contains("no driver"));
}

TEST_CASE("MPI ranks of a node take one GPU each (local rank mod GPUs)", "[engine][mpi]") {
  using sabre::gpus_of_local_rank;
  CHECK(gpus_of_local_rank(4, 0, 1) == std::vector<int>{0, 1, 2, 3});  // one rank: every GPU
  CHECK(gpus_of_local_rank(4, 0, 4) == std::vector<int>{0});
  CHECK(gpus_of_local_rank(4, 3, 4) == std::vector<int>{3});
  CHECK(gpus_of_local_rank(2, 3, 4) == std::vector<int>{1});  // more ranks than GPUs: shared
  CHECK(gpus_of_local_rank(0, 1, 2).empty());
}
