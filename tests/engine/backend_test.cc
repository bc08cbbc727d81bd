// engine/backend.hh: make_backend for each --device choice and each source kind.
//   - every kind of beams::SourceView has a name and a back end (the one list);
//   - cpu:N gives N host threads, auto gives the CPU without a GPU;
//   - cuda without a GPU is a DeviceError for every source type (and for a cuda:N list);
//   - the host back end made by make_backend gives the same dose bits as the direct
//     host run (simulate<>), on 1 and 2 threads.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <vector>

#include <set>
#include <string>

#include "beams/source_kinds.hh"
#include "engine/backend.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/device_spec.hh"
#include "engine/simulation.hh"
#include "kernels/charged_policy.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/majorant.hh"
#include "tests/support/skip.hh"
#include "tests/support/transport_fixtures.hh"

using namespace sabre;

namespace {

using sabre::test::shipped_tables;
using sabre::test::WaterBox;

beams::SimpleSource field() {
  beams::SimpleSource s;
  s.position_cm = {0, 0, -100};
  s.u_min_cm = s.v_min_cm = -2;
  s.u_max_cm = s.v_max_cm = 2;
  s.mono_energy_mev = 2;
  return s;
}

}  // namespace

// Every alternative of the variant, default-constructed.
template <std::size_t... I>
std::vector<beams::SourceView> every_kind(std::index_sequence<I...>) {
  return {beams::SourceView(std::in_place_index<I>)...};
}

TEST_CASE("every source kind has its own name and a host back end", "[engine][backend]") {
  const phys::TransportParams tp;
  std::set<std::string> names;
  for (const auto& v : every_kind(std::make_index_sequence<std::variant_size_v<beams::SourceView>>())) {
    names.insert(beams::source_kind_name(v));
    CHECK(make_backend(parse_device_spec("cpu:1"), tp, v, 1)->description() == "cpu:1 thread");
  }
  CHECK(names.size() == std::variant_size_v<beams::SourceView>);
}

TEST_CASE("make_backend: cpu:N threads; auto is the CPU without a GPU", "[engine][backend]") {
  const phys::TransportParams tp;  // not transported here
  const auto src = field();
  const auto one = make_backend(parse_device_spec("cpu:1"), tp, src, 1);
  CHECK(one->description() == "cpu:1 thread");
  const auto two = make_backend(parse_device_spec("cpu:2"), tp, src, 1);
  CHECK(two->description() == "cpu:2 threads");
  if (!sabre::test::no_gpu_reason().empty()) {
    const auto a = make_backend(parse_device_spec("auto"), tp, src, 1);
    CHECK(a->description().rfind("cpu:", 0) == 0);
  }
}

TEST_CASE("make_backend: cuda without a GPU is one DeviceError for every source type",
          "[engine][backend]") {
  if (sabre::test::no_gpu_reason().empty()) {
    sabre::test::skip("a CUDA GPU is present: the no-GPU error path cannot be exercised");
    return;
  }
  const phys::TransportParams tp;
  const beams::LinacSourceView linac;
  const beams::PhspSourceView phsp;
  for (const char* spec : {"cuda", "cuda:0", "cuda:0,1"}) {
    INFO(spec);
    CHECK_THROWS_AS(make_backend(parse_device_spec(spec), tp, field(), 1), DeviceError);
    CHECK_THROWS_AS(make_backend(parse_device_spec(spec), tp, linac, 1), DeviceError);
    CHECK_THROWS_AS(make_backend(parse_device_spec(spec), tp, phsp, 1), DeviceError);
  }
  // make_cuda_backend directly (what a resolved spec calls): also a DeviceError.
  CHECK_THROWS_AS(make_cuda_backend({0}, tp, field(), 1), DeviceError);
  CHECK_THROWS_AS(make_cuda_backend({}, tp, field(), 1), DeviceError);
}

TEST_CASE("make_backend's host back end gives the same dose bits as the direct host run",
          "[engine][backend]") {
  SABRE_REQUIRE_TRANSPORT_PHYSICS();
  const WaterBox box(*shipped_tables(), {-4, -4, 0}, 8, 8, 12);
  const auto src = field();
  SimulationSettings s;
  s.histories = 2000;
  s.batches = 10;
  s.seed = 17;
  s.threads = 1;
  const auto direct = simulate<kernels::ProductionCharged>(box.tp, src, s);
  for (const char* spec : {"cpu:1", "cpu:2"}) {
    // From a temporary view: the back end keeps its own copy of the view.
    const auto be = make_backend(parse_device_spec(spec), box.tp, beams::SourceView(field()), s.seed, s.chunk);
    const auto r = run_batches(box.tp.phantom, s, *be);
    INFO(spec);
    CHECK(r.dose.dose_gy == direct.dose.dose_gy);
    CHECK(r.dose.rel_uncertainty == direct.dose.rel_uncertainty);
    CHECK(r.dose.device == be->description());
  }
}
