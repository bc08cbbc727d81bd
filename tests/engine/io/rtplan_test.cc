// RT Plan writer -> reader round trip (carry-forward of every value, device positions by
// type) and the reader's one-line errors.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "beams/machine.hh"
#include "beams/plan_builder.hh"
#include "core/errors.hh"
#include "engine/io/rtplan.hh"

using namespace sabre;
using namespace sabre::beams;

namespace {
std::string tmp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sabre_rtplan_test_" + name)).string();
}
std::vector<Machine> bundled() {
  std::vector<Machine> v;
  for (const auto& f : machine_files(std::string(SABRE_SOURCE_DIR) + "/beams/machines")) v.push_back(load_machine(f));
  return v;
}
}  // namespace

TEST_CASE("written plans read back with every value carried forward", "[rtplan]") {
  const auto machines = bundled();
  FieldSpec f = field_for(machines.at(0), machines.at(0).beams.at(0));
  f.x1_mm = -30; f.x2_mm = 20; f.y1_mm = -15; f.y2_mm = 25;
  f.iso_mm = {12.5, -3, 40};
  f.collimator_deg = 30;
  f.couch_deg = 10;
  Plan plan;
  plan.label = "rt";
  plan.beams.push_back(make_arc_beam(f, 181, 179, "CW", 7, 0.5, 1, "arc"));
  f.iso_mm = {-60, 0, 0};
  plan.beams.push_back(make_sliding_window_beam(f, 10, 5, 2, "sw"));
  plan.beams.push_back(make_step_and_shoot_beam(f, 2, 3, "sas"));
  const std::string path = tmp_file("roundtrip.dcm");
  io::write_rtplan(plan, path);
  const Plan r = io::read_rtplan(path);
  std::remove(path.c_str());
  REQUIRE(r.beams.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const Beam& a = plan.beams[i];
    const Beam& b = r.beams[i];
    CHECK(b.mu == Approx(a.mu));
    CHECK(b.fff);
    CHECK(b.type == a.type);
    REQUIRE(b.control_points.size() == a.control_points.size());
    for (std::size_t k = 0; k < a.control_points.size(); ++k) {
      const auto& p = a.control_points[k];
      const auto& q = b.control_points[k];
      CHECK(q.gantry_deg == Approx(p.gantry_deg));
      CHECK(q.collimator_deg == Approx(30));
      CHECK(q.couch_deg == Approx(10));
      CHECK(q.cumulative_weight == Approx(p.cumulative_weight));
      CHECK(q.iso_mm == p.iso_mm);
      REQUIRE(q.positions_mm.size() == p.positions_mm.size());
      for (const auto& [type, v] : p.positions_mm) {
        const auto* w = q.positions(type);
        REQUIRE(w);
        REQUIRE(w->size() == v.size());
        for (std::size_t l = 0; l < v.size(); ++l) CHECK((*w)[l] == Approx(v[l]).margin(1e-9));
      }
    }
  }
  // The arc travels CW from 181 through 0 to 179 degrees.
  CHECK(r.beams[0].control_points[0].gantry_direction == "CW");
  CHECK(r.beams[0].control_points[3].gantry_deg == Approx(0.0).margin(1e-9));
  CHECK(r.beams[0].control_points.back().gantry_deg == Approx(179.0));
}

TEST_CASE("a device listed twice or a jaw with two pairs is refused with the file named", "[rtplan]") {
  const auto machines = bundled();
  FieldSpec f = field_for(machines.at(0), machines.at(0).beams.at(0));
  Plan plan;
  Beam b = make_static_beam(f, 1, "s");
  b.devices.push_back(b.devices.front());  // the first jaw pair again
  plan.beams.push_back(b);
  const std::string path = tmp_file("twice.dcm");
  // The writer writes what it is given; the reader refuses it.
  io::write_rtplan(plan, path);
  CHECK_THROWS_WITH(io::read_rtplan(path), Catch::StartsWith(path) && Catch::Contains("listed twice"));
  std::remove(path.c_str());
  CHECK_THROWS_WITH(io::read_rtplan(tmp_file("missing.dcm")), Catch::Contains("no such file"));
}

TEST_CASE("an applicator (cone) reads back with its circular opening", "[rtplan]") {
  const auto machines = bundled();
  FieldSpec f = field_for(machines.at(0), machines.at(0).beams.at(0));
  f.cone_applicator_type = "STEREOTACTIC";
  f.cone_mm = 12.5;
  Plan plan;
  plan.beams.push_back(make_static_beam(f, 1, "cone"));
  f.cone_mm = 0;
  plan.beams.push_back(make_static_beam(f, 2, "open"));
  const std::string path = tmp_file("cone.dcm");
  io::write_rtplan(plan, path);
  const Plan r = io::read_rtplan(path);
  std::remove(path.c_str());
  REQUIRE(r.beams.size() == 2);
  REQUIRE(r.beams[0].has_applicator);
  CHECK(r.beams[0].applicator.type == "STEREOTACTIC");
  CHECK(r.beams[0].applicator.id == "CONE 12.5 MM");
  CHECK(r.beams[0].applicator.aperture_shape == "SYM_CIRCULAR");
  CHECK(r.beams[0].applicator.opening_mm == Approx(12.5));
  CHECK_FALSE(r.beams[1].has_applicator);
}
