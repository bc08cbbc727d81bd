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
    CHECK(r.kind == DeviceSpec::Kind::cuda);
    CHECK(!r.cuda_devices.empty());
  }
}

TEST_CASE("MPI ranks of a node take one GPU each (local rank mod GPUs)", "[engine][mpi]") {
  using sabre::gpus_of_local_rank;
  CHECK(gpus_of_local_rank(4, 0, 1) == std::vector<int>{0, 1, 2, 3});  // one rank: every GPU
  CHECK(gpus_of_local_rank(4, 0, 4) == std::vector<int>{0});
  CHECK(gpus_of_local_rank(4, 3, 4) == std::vector<int>{3});
  CHECK(gpus_of_local_rank(2, 3, 4) == std::vector<int>{1});  // more ranks than GPUs: shared
  CHECK(gpus_of_local_rank(0, 1, 2).empty());
}
