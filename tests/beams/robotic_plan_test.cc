// The native robotic plan form (beams/robotic_plan.hh): read, written and read back, every
// refusal with the file and the node named; the generator's nodes on the cap.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "beams/machine.hh"
#include "beams/robotic_plan.hh"
#include "core/errors.hh"

using namespace sabre::beams;
namespace fs = std::filesystem;

namespace {

std::string write_tmp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("sabre_robotic_plan_test_" + name + ".toml");
  std::ofstream(p) << text;
  return p.string();
}

const char* kHead = "format = \"sabre-robotic-plan/1\"\n[plan]\nmachine = \"CyberKnife\"\nfractions = 3\n";
const char* kNode = "[[node]]\nsource_mm = [0, -800, 0]\ntarget_mm = [10, 20, 30]\ncollimator = \"cone\"\n"
                    "size_mm = 7.5\nmu = 40\n";

std::string error_of(const std::string& name, const std::string& text) {
  const std::string p = write_tmp(name, text);
  try {
    read_robotic_plan(p);
  } catch (const sabre::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("native robotic plans: nodes become beams with a source, a target and a collimator", "[robotic_plan]") {
  const std::string text = std::string(kHead) + kNode +
                           "[[node]]\nsource_mm = [500, -600, 100]\ntarget_mm = [10, 20, 30]\n"
                           "collimator = \"iris\"\nsize_mm = 10\nmu = 25.5\nroll_deg = 30\n"
                           "[[node]]\nsource_mm = [0, -800, 0]\ntarget_mm = [0, 0, 0]\ncollimator = \"cone\"\n"
                           "size_mm = 5\nmu = 0\n";
  const Plan p = read_robotic_plan(write_tmp("ok", text));
  REQUIRE(p.beams.size() == 2);  // the 0-MU node is skipped, and said so
  REQUIRE(p.skipped.size() == 1);
  CHECK(p.skipped[0] == "node 3: 0 MU");
  CHECK(p.fractions_planned == 3);
  const Beam& a = p.beams[0];
  CHECK(a.node);
  CHECK(a.machine_name == "CyberKnife");
  CHECK(a.fff);
  CHECK(a.mu == 40);
  CHECK(a.source_mm[1] == -800);
  CHECK(a.control_points.size() == 2);
  CHECK(a.control_points[0].iso_mm[2] == 30);
  CHECK(a.control_points[0].energy_mv == 6);
  CHECK(a.has_applicator);
  CHECK(a.applicator.id == "CONE 7.5 MM");
  CHECK(a.applicator.opening_mm == 7.5);
  CHECK(a.sad_mm == Approx(std::sqrt(10.0 * 10 + 820.0 * 820 + 30.0 * 30)));
  const Beam& b = p.beams[1];
  CHECK(b.applicator.id == "IRIS 10 MM");
  CHECK(b.roll_deg == 30);
  CHECK(b.mu == 25.5);
  // Written and read back: the same nodes.
  const std::string back = (fs::temp_directory_path() / "sabre_robotic_plan_test_back.toml").string();
  write_robotic_plan(p, back);
  const Plan q = read_robotic_plan(back);
  REQUIRE(q.beams.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(q.beams[i].source_mm == p.beams[i].source_mm);
    CHECK(q.beams[i].control_points[0].iso_mm == p.beams[i].control_points[0].iso_mm);
    CHECK(q.beams[i].applicator.id == p.beams[i].applicator.id);
    CHECK(q.beams[i].mu == p.beams[i].mu);
    CHECK(q.beams[i].roll_deg == p.beams[i].roll_deg);
  }
  CHECK(q.fractions_planned == 3);
}

TEST_CASE("native robotic plans: one clear error for each bad plan", "[robotic_plan]") {
  const std::string head = kHead;
  CHECK_THAT(error_of("neg", head + "[[node]]\nsource_mm = [0, -800, 0]\ntarget_mm = [0, 0, 0]\n"
                                    "collimator = \"cone\"\nsize_mm = 7.5\nmu = -3\n"),
             Catch::Contains("node 1: negative MU"));
  CHECK_THAT(error_of("coll", head + "[[node]]\nsource_mm = [0, -800, 0]\ntarget_mm = [0, 0, 0]\n"
                                     "collimator = \"jaws\"\nmu = 3\n"),
             Catch::Contains("node 1: collimator 'jaws' is not cone, iris or mlc"));
  CHECK_THAT(error_of("src", head + "[[node]]\nsource_mm = [0, -800]\ntarget_mm = [0, 0, 0]\n"
                                    "collimator = \"cone\"\nsize_mm = 5\nmu = 3\n"),
             Catch::Contains("'source_mm' needs 3 numbers"));
  CHECK_THAT(error_of("same", head + "[[node]]\nsource_mm = [0, 0, 0]\ntarget_mm = [0, 0, 0]\n"
                                     "collimator = \"cone\"\nsize_mm = 5\nmu = 3\n"),
             Catch::Contains("the source coincides with the target"));
  CHECK_THAT(error_of("key", head + std::string(kNode) + "gantry = 3\n"), Catch::Contains("node 1: unknown key 'gantry'"));
  CHECK_THAT(error_of("fmt", "format = \"sabre-robotic-plan/9\"\n"), Catch::Contains("unsupported format"));
  CHECK_THAT(error_of("none", head), Catch::Contains("no [[node]] tables"));
  CHECK_THAT(error_of("leaves", head + "[[node]]\nsource_mm = [0, -800, 0]\ntarget_mm = [0, 0, 0]\n"
                                       "collimator = \"mlc\"\nleaves_a_mm = [1, 2]\nleaves_b_mm = [0, 3]\nmu = 3\n"),
             Catch::Contains("leaf pair 1: bank A"));
  CHECK_THAT(error_of("syntax", "format = \n"), Catch::Contains("TOML syntax error"));
  // The file is named in every message.
  CHECK_THAT(error_of("named", head), Catch::Contains("sabre_robotic_plan_test_named.toml"));
}

TEST_CASE("generated robotic plans: nodes on the cap at the distance, each with the collimator", "[robotic_plan]") {
  const Machine m = load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/cyberknife-m6.toml");
  RoboticPlanSpec s;
  s.target_mm = {65, -5, 0};
  s.nodes = 120;
  s.distance_mm = 750;
  s.max_angle_deg = 60;
  s.size_mm = 12.5;
  const Plan p = make_robotic_plan(m, s);
  REQUIRE(p.beams.size() == 120);
  double min_cos = 1, sum_z = 0;
  for (const auto& b : p.beams) {
    const double dx = b.source_mm[0] - 65, dy = b.source_mm[1] + 5, dz = b.source_mm[2];
    const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
    CHECK(r == Approx(750));
    min_cos = std::min(min_cos, -dy / r);  // toward -y (anterior)
    sum_z += dz / r;
    CHECK(b.applicator.opening_mm == 12.5);
  }
  CHECK(min_cos >= std::cos(60 * M_PI / 180) - 1e-9);
  CHECK(min_cos < std::cos(55 * M_PI / 180));  // the cap is filled out to its edge
  CHECK(std::abs(sum_z / 120) < 0.05);         // and evenly around its centre
  s.size_mm = 8;
  CHECK_THROWS_AS(make_robotic_plan(m, s), sabre::UsageError);  // no 8 mm cone
  s.size_mm = 20;
  s.collimator = "mlc";
  const Plan q = make_robotic_plan(m, s);
  REQUIRE(q.beams[0].devices.size() == 1);
  CHECK(q.beams[0].devices[0].pairs == 41);
}
