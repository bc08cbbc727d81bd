// RT Plan writer -> reader round trip (carry-forward), machine selection and its errors.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>

#include "beams/machine.hh"
#include "beams/plan_builder.hh"
#include "beams/rtplan.hh"
#include "core/errors.hh"

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

TEST_CASE("MLC boundaries follow the published leaf layouts", "[rtplan]") {
  const auto hd = mlc_boundaries_mm("HD120");
  REQUIRE(hd.size() == 61);
  CHECK(hd.front() == Approx(-110.0));  // 14*5 + 32*2.5 + 14*5 = 220 mm
  CHECK(hd.back() == Approx(110.0));
  CHECK(hd[15] - hd[14] == Approx(2.5));
  const auto mil = mlc_boundaries_mm("Millennium120");
  REQUIRE(mil.size() == 61);
  CHECK(mil.front() == Approx(-200.0));  // 10*10 + 40*5 + 10*10 = 400 mm
  CHECK(mil[11] - mil[10] == Approx(5.0));
  CHECK_THROWS_AS(mlc_boundaries_mm("Agility"), UsageError);
}

TEST_CASE("written plans read back with every value carried forward", "[rtplan]") {
  FieldSpec f;
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
  write_rtplan(plan, path);
  const Plan r = read_rtplan(path);
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
      CHECK(q.jaw_x_mm == p.jaw_x_mm);
      CHECK(q.jaw_y_mm == p.jaw_y_mm);
      REQUIRE(q.mlc_mm.size() == p.mlc_mm.size());
      for (std::size_t l = 0; l < p.mlc_mm.size(); ++l) CHECK(q.mlc_mm[l] == Approx(p.mlc_mm[l]).margin(1e-9));
    }
  }
  // The arc travels CW from 181 through 0 to 179 degrees.
  CHECK(r.beams[0].control_points[0].gantry_direction == "CW");
  CHECK(r.beams[0].control_points[3].gantry_deg == Approx(0.0).margin(1e-9));
  CHECK(r.beams[0].control_points.back().gantry_deg == Approx(179.0));
}

TEST_CASE("sliding window gives every point the same open meterset fraction", "[rtplan]") {
  // Hand-worked: B(w) = x1 + w (x2 - x1 + g), A = B - g; a point x is open while
  // A < x < B, i.e. for a meterset fraction g / (x2 - x1 + g) = 10 / 110.
  FieldSpec f;
  f.x1_mm = -50; f.x2_mm = 50; f.y1_mm = -5; f.y2_mm = 5;
  const Beam b = make_sliding_window_beam(f, 10, 111, 1, "sw");
  const int n = b.mlc()->pairs;
  const int pair = n / 2;  // a central pair, open
  for (double x : {-45.0, 0.0, 33.0}) {
    int open = 0;
    for (std::size_t k = 0; k + 1 < b.control_points.size(); ++k) {
      const auto& c = b.control_points[k];
      const double a = c.mlc_mm[pair], bb = c.mlc_mm[pair + n];
      if (a < x && x < bb) ++open;
    }
    CHECK(double(open) / 110 == Approx(10.0 / 110).margin(1.0 / 110));
  }
}

TEST_CASE("machine selection by name, energy, FFF and MLC", "[rtplan]") {
  const auto machines = bundled();
  FieldSpec f;
  f.machine_name = "TrueBeam2";
  f.mlc_model = "Millennium120";
  Beam b = make_static_beam(f, 1, "s");
  auto c = select_machine(b, machines, "p.dcm");
  CHECK(c.machine->name == "TrueBeam-Millennium120");
  CHECK(c.beam->name == "6X-FFF");
  f.mlc_model = "HD120";
  f.energy_mv = 10;
  b = make_static_beam(f, 1, "s");
  c = select_machine(b, machines, "p.dcm");
  CHECK(c.machine->name == "TrueBeam-HD120");
  CHECK(c.beam->name == "10X-FFF");
  // Flattened 6 MV: not modelled -> a clear error naming the file, beam and what was tried.
  f.fff = false;
  b = make_static_beam(f, 4, "open");
  try {
    select_machine(b, machines, "p.dcm");
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.rfind("p.dcm: beam 4 'open': no machine model for TreatmentMachineName 'TrueBeam2', 10 MV (flattened)", 0) == 0);
    CHECK(m.find("no 10 MV beam") != std::string::npos);
  }
  f.fff = true;
  f.machine_name = "Halcyon1";
  b = make_static_beam(f, 1, "s");
  CHECK_THROWS_WITH(select_machine(b, machines, "p.dcm"), Catch::Contains("machine name does not match"));
}
