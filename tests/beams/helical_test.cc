// Tomotherapy delivery (beams/helical.hh, beams/helical_build.hh, beams/tomo_plan.hh): leaf
// timing, the latency model, the couch and gantry motion (hand-worked), the leaf-open
// fraction seen in sampled particles, the native plan form and its refusals.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "beams/helical_build.hh"
#include "beams/machine.hh"
#include "beams/plan_builder.hh"
#include "beams/plan_source.hh"
#include "beams/tomo_plan.hh"
#include "core/errors.hh"
#include "physics/core/rng.hh"

using namespace sabre::beams;
using sabre::phys::Vec3;

namespace {

Machine tomo() { return load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/tomotherapy.toml"); }

// A fixed-angle (gantry 0) plan of `n` projections with leaf `leaf` (0-based) open for `f`.
Plan one_leaf(int n, int leaf, double f, double couch_mm = 0) {
  Plan p;
  p.path = "(test)";
  Beam b;
  b.number = 1;
  b.name = "tomo";
  b.machine_name = "Tomo";
  b.fff = true;
  b.helical = true;
  Sinogram& s = b.sinogram;
  s.n_leaves = 64;
  s.geometry = "FIXED_ANGLE";
  s.projection_time_s = 0.3;
  s.jaw_width_mm = 25;
  s.couch_mm_per_projection = couch_mm;
  for (int k = 0; k < n; ++k) {
    s.fixed_gantry_deg.push_back(0);
    for (int i = 0; i < 64; ++i) s.open_fraction.push_back(i == leaf ? f : 0.0);
  }
  b.mu = n * s.projection_time_s;
  ControlPoint c;
  c.energy_mv = 6;
  ControlPoint c1 = c;
  c1.index = 1;
  c1.cumulative_weight = 1;
  b.control_points = {c, c1};
  p.beams.push_back(b);
  return p;
}

}  // namespace

TEST_CASE("a leaf is open for its fraction of the projection, centred in it", "[helical]") {
  for (double f : {0.0, 0.1, 0.37, 0.5, 0.99, 1.0}) {
    int open = 0, first = -1, last = -1;
    const int n = 100000;
    for (int k = 0; k < n; ++k) {
      const double t = (k + 0.5) / n;
      if (leaf_open_at(f, t)) {
        ++open;
        if (first < 0) first = k;
        last = k;
      }
    }
    CHECK(double(open) / n == Approx(f).margin(2.0 / n));
    if (open > 0) CHECK((first + last + 1) / 2.0 / n == Approx(0.5).margin(2.0 / n));  // centred
  }
  // Latency: a leaf open all through loses nothing; one that opens and closes loses
  // latency / projection time, never below zero.
  CHECK(latency_open_fraction(1.0, 0.3, 0.01) == 1.0);
  CHECK(latency_open_fraction(0.5, 0.3, 0.03) == Approx(0.4));
  CHECK(latency_open_fraction(0.05, 0.3, 0.03) == 0.0);
  CHECK(latency_open_fraction(0.5, 0.3, 0.0) == 0.5);
}

TEST_CASE("helical motion: gantry and beam plane as the plan says (hand-worked)", "[helical]") {
  const Machine m = tomo();
  const CollimatorStack st = make_collimator_stack(m, {});
  Plan p = one_leaf(3, 31, 1.0, 2.0);
  p.beams[0].sinogram.geometry = "HELICAL";
  p.beams[0].sinogram.fixed_gantry_deg.clear();
  p.beams[0].sinogram.gantry_start_deg = 10;
  p.beams[0].control_points[0].iso_mm = {5, 6, 70};
  {
    HelicalDelivery d(m, p, st);
    const auto& v = d.view();
    CHECK(v.n_proj == 3);
    CHECK(v.deg_per_projection == Approx(360.0 / 51));
    CHECK(v.gantry_start_deg == 10);
    // HFS: the couch carries the patient into the bore, the beam plane moves toward the feet
    // (-z) by 2 mm per projection.
    CHECK(v.iso_step_cm.x == Approx(0).margin(1e-12));
    CHECK(v.iso_step_cm.y == Approx(0).margin(1e-12));
    CHECK(v.iso_step_cm.z == Approx(-0.2));
    CHECK(v.iso_start_cm.z == Approx(7.0));
    CHECK(v.total_time_s == Approx(0.9));
    CHECK(v.jaw1_cm == Approx(-1.25));
    CHECK(v.jaw2_cm == Approx(1.25));
  }
  p.beams[0].patient_position = "FFS";  // feet first: toward the head (+z)
  CHECK(HelicalDelivery(m, p, st).view().iso_step_cm.z == Approx(0.2));
  // FIXED_ANGLE: the couch restarts its pass at each new angle.
  Plan f = one_leaf(4, 31, 1.0, 2.0);
  f.beams[0].sinogram.fixed_gantry_deg = {0, 0, 90, 90};
  HelicalDelivery fd(m, f, st);
  REQUIRE(fd.view().couch_index);
  CHECK(fd.view().couch_index[1] == 1);
  CHECK(fd.view().couch_index[2] == 0);
  CHECK(fd.view().couch_index[3] == 1);
  // Refusals.
  Plan bad = one_leaf(2, 31, 1.0);
  bad.beams[0].sinogram.open_fraction[5] = 1.5;
  CHECK_THROWS_WITH(HelicalDelivery(m, bad, st), Catch::Contains("outside [0, 1]"));
  bad = one_leaf(2, 31, 1.0);
  bad.beams[0].sinogram.jaw_width_mm = 60;
  CHECK_THROWS_WITH(HelicalDelivery(m, bad, st), Catch::Contains("not one the jaws can open"));
  bad = one_leaf(2, 31, 1.0);
  bad.beams[0].sinogram.n_leaves = 32;
  CHECK_THROWS_WITH(HelicalDelivery(m, bad, st), Catch::Contains("leaves, machine TomoTherapy's MLC 64"));
  bad = one_leaf(2, 31, 1.0);
  bad.beams[0].sinogram.fixed_gantry_deg = {0};
  CHECK_THROWS_WITH(HelicalDelivery(m, bad, st), Catch::Contains("one gantry angle per projection"));
}

TEST_CASE("sampled particles: a leaf open for f passes f of the open leaf's photons", "[helical]") {
  // Leaf 33 (index 32: slot 0 .. 0.625 cm at the axis) open for f against open all through,
  // same seed; photons crossing the axis plane (gantry 0: the plane y = 0 of the patient for
  // HFS) inside the slot, weighted. The ratio is f within 4 sigma (binomial, the runs share
  // their random numbers so the sigma is an upper bound).
  const Machine m = tomo();
  const BeamModel& bm = m.beams.front();
  auto slot_weight = [&](double f) {
    const PlanSource src(m, bm, one_leaf(1, 32, f), {}, SourceOptions{});
    const auto& v = std::get<HelicalSourceView>(src.view());
    sabre::phys::Rng rng(3, 0, sabre::phys::kStreamTest);
    double w = 0;
    int n_in = 0;
    for (int k = 0; k < 400000; ++k) {
      const auto p = v.sample(rng);
      if (!(p.weight > 0) || p.type != sabre::phys::ParticleType::photon || !(p.dir.y > 0)) continue;
      const double t = -p.pos_cm.y / p.dir.y;
      const double x = p.pos_cm.x + t * p.dir.x, z = p.pos_cm.z + t * p.dir.z;
      if (x > 0.1 && x < 0.525 && std::abs(z) < 1.0) {
        w += p.weight;
        ++n_in;
      }
    }
    return std::make_pair(w, n_in);
  };
  const auto full = slot_weight(1.0);
  REQUIRE(full.second > 2000);
  for (double f : {0.2, 0.5}) {
    const auto part = slot_weight(f);
    const double ratio = part.first / full.first;
    const double sigma = std::sqrt(f * (1 - f) / full.second);
    INFO("f " << f << " ratio " << ratio << " sigma " << sigma);
    CHECK(std::abs(ratio - f) < 4 * sigma + 1e-3);
  }
}

TEST_CASE("native tomotherapy plans: read, written back, refused with the file named", "[helical][tomo_plan]") {
  namespace fs = std::filesystem;
  const Machine m = tomo();
  TomoPlanSpec s;
  s.radius_mm = 15;
  s.target_mm = {10, 0, 0};
  s.jaw_width_mm = 25;
  const Plan p = make_tomo_plan(m, s);
  REQUIRE(p.beams.size() == 1);
  const Sinogram& g = p.beams[0].sinogram;
  CHECK(g.n_leaves == 64);
  CHECK(g.couch_mm_per_projection == Approx(0.287 * 25 / 51));
  // Every projection opens the leaves over the 3 cm target, never the far edge of the fan.
  int open_edge = 0, open_any = 0;
  for (int k = 0; k < g.n_projections(); ++k) {
    open_edge += g.open_fraction[std::size_t(k * 64)] > 0;
    for (int i = 0; i < 64; ++i) open_any += g.open_fraction[std::size_t(k * 64 + i)] > 0;
  }
  CHECK(open_edge == 0);
  CHECK(open_any > g.n_projections());
  const std::string path = (fs::temp_directory_path() / "sabre_tomo_plan_test.toml").string();
  write_tomo_plan(p, path);
  CHECK(is_tomo_plan_file(path));
  const Plan q = read_tomo_plan(path);
  REQUIRE(q.beams.size() == 1);
  CHECK(q.beams[0].sinogram.open_fraction == g.open_fraction);
  CHECK(q.beams[0].sinogram.couch_mm_per_projection == Approx(g.couch_mm_per_projection));
  CHECK(q.beams[0].control_points[0].iso_mm[2] == Approx(p.beams[0].control_points[0].iso_mm[2]));
  CHECK(q.beams[0].mu == Approx(g.n_projections() * 0.3));
  auto error_of = [&](const std::string& text) {
    const std::string f = (fs::temp_directory_path() / "sabre_tomo_plan_bad.toml").string();
    std::ofstream(f) << text;
    try {
      read_tomo_plan(f);
    } catch (const sabre::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string head = "format = \"sabre-tomo-plan/1\"\n[plan]\nmachine = \"Tomo\"\ngeometry = \"HELICAL\"\n"
                           "projection_time_s = 0.3\njaw_width_mm = 25\niso_start_mm = [0, 0, 0]\npitch = 0.3\n";
  CHECK_THAT(error_of(head + "sinogram = [[1, 0.5], [1]]\n"), Catch::Contains("projection 2 has 1 leaves"));
  CHECK_THAT(error_of(head + "sinogram = [[1, 1.5]]\n"), Catch::Contains("leaf 2: open fraction"));
  CHECK_THAT(error_of(head + "couch_mm_per_projection = 1\nsinogram = [[1]]\n"), Catch::Contains("not both"));
  CHECK_THAT(error_of(head + "sinogram = [[1]]\nwobble = 2\n"), Catch::Contains("unknown key 'wobble'"));
  CHECK_THAT(error_of(head), Catch::Contains("missing 'sinogram'"));
  CHECK(error_of(head + "sinogram = [[1]]\n").empty());  // the minimal plan is read
}
