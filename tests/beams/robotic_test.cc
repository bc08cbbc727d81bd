// Robotic (CyberKnife) delivery: node frames (hand-worked), the DICOM and native encodings
// of the same node, sampled particles aimed through the target, a collimator per node.
#include <catch2/catch.hpp>

#include <cmath>

#include "beams/delivery_build.hh"
#include "beams/machine.hh"
#include "beams/plan_source.hh"
#include "beams/robotic.hh"
#include "core/errors.hh"
#include "physics/core/rng.hh"

using namespace sabre::beams;
using sabre::phys::Vec3;

namespace {

Machine ck() { return load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/cyberknife-m6.toml"); }

Beam node(Vec3 s_mm, Vec3 t_mm, double cone_mm, double mu = 10) {
  Beam b;
  b.number = 1;
  b.name = "node";
  b.machine_name = "CyberKnife";
  b.fff = true;
  b.mu = mu;
  b.node = true;
  b.source_mm = {s_mm.x, s_mm.y, s_mm.z};
  ControlPoint c;
  c.energy_mv = 6;
  c.iso_mm = {t_mm.x, t_mm.y, t_mm.z};
  ControlPoint c1 = c;
  c1.index = 1;
  c1.cumulative_weight = 1;
  b.control_points = {c, c1};
  if (cone_mm > 0) {
    b.has_applicator = true;
    b.applicator = {"CONE", "STEREOTACTIC", "", "SYM_CIRCULAR", cone_mm};
  }
  return b;
}

double norm(Vec3 v) { return std::sqrt(sabre::phys::dot(v, v)); }

}  // namespace

TEST_CASE("node rotation: a proper rotation whose z axis points from the target to the source", "[robotic]") {
  sabre::phys::Rng rng(5, 0, sabre::phys::kStreamTest);
  for (int k = 0; k < 50; ++k) {
    const Vec3 s{200 * (rng.uniform() - 0.5), 200 * (rng.uniform() - 0.5), 200 * (rng.uniform() - 0.5)};
    const Vec3 t{10 * rng.uniform(), 10 * rng.uniform(), 10 * rng.uniform()};
    const Mat3 r = node_rotation(s, t, 360 * rng.uniform());
    CHECK(r.det() == Approx(1.0).margin(1e-12));
    const Mat3 rtr = r.transposed() * r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) CHECK(rtr.m[i][j] == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
    const Vec3 a = r * Vec3{0, 0, 1};
    const Vec3 d = s - t;
    CHECK(a.x == Approx(d.x / norm(d)).margin(1e-12));
    CHECK(a.y == Approx(d.y / norm(d)).margin(1e-12));
    CHECK(a.z == Approx(d.z / norm(d)).margin(1e-12));
  }
  // Hand-worked: source anterior (-y) of the target, roll 0: x_b is the patient's left (+x),
  // y_b = a x x_b = (0,-1,0) x (1,0,0) = (0,0,1), superior. Roll 90: x_b = y_b of roll 0.
  const Mat3 r0 = node_rotation({0, -80, 0}, {0, 0, 0}, 0);
  CHECK((r0 * Vec3{1, 0, 0}).x == Approx(1.0));
  CHECK((r0 * Vec3{0, 1, 0}).z == Approx(1.0));
  const Mat3 r90 = node_rotation({0, -80, 0}, {0, 0, 0}, 90);
  CHECK((r90 * Vec3{1, 0, 0}).z == Approx(1.0));
  // An axis along the patient's x: the reference becomes superior (+z).
  const Mat3 rx = node_rotation({80, 0, 0}, {0, 0, 0}, 0);
  CHECK((rx * Vec3{1, 0, 0}).z == Approx(1.0));
}

TEST_CASE("node frames: native and DICOM encodings place the source and the collimator", "[robotic]") {
  const Machine m = ck();
  // Native: source 65 cm anterior-left of a target at (10, 20, 30) mm.
  const Vec3 t{10, 20, 30};
  const Vec3 dir = Vec3{0.6, -0.8, 0};
  const Beam b = node(t + 650.0 * dir, t, 10);
  const NodeFrame f = node_frame(m, b, "test");
  CHECK(f.distance_cm == Approx(65.0));
  // The map b -> patient takes the source (0, 0, SAD) to S and the axis point SAD - 65 cm
  // below... i.e. (0, 0, SAD - 65) to the target.
  const BeamToPatient map{f.rot, f.virtual_iso_cm};
  const Vec3 s = map.point({0, 0, 80});
  const Vec3 tt = map.point({0, 0, 80 - 65});
  CHECK(s.x == Approx(1 + 65 * 0.6));
  CHECK(s.y == Approx(2 - 65 * 0.8));
  CHECK(s.z == Approx(3.0));
  CHECK(tt.x == Approx(1.0));
  CHECK(tt.y == Approx(2.0));
  CHECK(tt.z == Approx(3.0));
  // DICOM: gantry 90, couch 0, HFS, SourceAxisDistance 900 mm: the source is 90 cm on the
  // patient's left (+x) of the isocentre (beams/iec61217.hh's hand-worked case).
  Beam d = node({0, 0, 0}, t, 10);
  d.node = false;
  d.sad_mm = 900;
  for (auto& c : d.control_points) c.gantry_deg = 90;
  const NodeFrame fd = node_frame(m, d, "test");
  CHECK(fd.source_cm.x == Approx(1 + 90.0));
  CHECK(fd.source_cm.y == Approx(2.0));
  CHECK(fd.source_cm.z == Approx(3.0));
  CHECK(fd.virtual_iso_cm.x == Approx(1 + 10.0));  // 80 cm below the source on the axis
  // A node whose target sits inside the collimator (30 cm from the source) is refused; so
  // is a beam that moves.
  CHECK_THROWS_AS(node_frame(m, node(t + 300.0 * dir, t, 10), "test"), sabre::InputError);
  Beam moving = d;
  moving.control_points[1].gantry_deg = 95;
  CHECK_THROWS_AS(node_frame(m, moving, "test"), sabre::InputError);
}

TEST_CASE("a robotic plan's particles leave the node's source and pass the cone toward the target", "[robotic]") {
  const Machine m = ck();
  const BeamModel& bm = m.beams.front();
  Plan plan;
  plan.path = "(test)";
  const Vec3 t{-20, 15, 40};
  const Vec3 dirs[2] = {Vec3{0.6, -0.8, 0}, Vec3{0, -0.6, 0.8}};
  const double dist[2] = {700, 900};
  for (int i = 0; i < 2; ++i) {
    Beam b = node(t + dist[i] * dirs[i], t, 10, i == 0 ? 10 : 30);
    b.number = i + 1;
    plan.beams.push_back(b);
  }
  SourceOptions so;
  so.margin_cm = 0.1;
  const PlanSource src(m, bm, plan, {}, so);
  const auto& view = std::get<LinacSourceView>(src.view());
  sabre::phys::Rng rng(11, 0, sabre::phys::kStreamTest);
  int alive = 0, near_source[2] = {0, 0}, inside = 0, narrow = 0, n_node[2] = {0, 0};
  const int n = 20000;
  for (int k = 0; k < n; ++k) {
    const auto p = view.sample(rng);
    if (!(p.weight > 0) || p.type != sabre::phys::ParticleType::photon) continue;
    ++alive;
    // Which node: the one whose axis the direction is closest to (their axes are 53 deg apart).
    const int i = sabre::phys::dot(p.dir, dirs[0]) < sabre::phys::dot(p.dir, dirs[1]) ? 0 : 1;
    ++n_node[i];
    const Vec3 s_cm = 0.1 * (t + dist[i] * dirs[i]);
    // Primary photons start within a few sigma of the source; extra-focal ones 10 cm below.
    if (norm(p.pos_cm - s_cm) > 0.6) continue;
    ++near_source[i];
    // At the target's distance from the source, a primary photon lies within the cone's
    // projected radius (0.5 cm at 80 cm, scaled to the node's distance) plus the focal-spot
    // penumbra (a source point 0.4 cm off axis, ~4 sigma, projected through the bore's top
    // 32 cm below: x (d - 32) / 32 < 0.5 cm).
    const Vec3 t_cm = 0.1 * t;
    const double along = sabre::phys::dot(t_cm - p.pos_cm, p.dir);
    const Vec3 at = p.pos_cm + along * p.dir;
    if (norm(at - t_cm) < 0.5 * dist[i] / 800 + 0.5) ++inside;
    if (norm(at - t_cm) < 0.5 * dist[i] / 800 + 0.1) ++narrow;
  }
  REQUIRE(alive > n / 4);  // the square window around the bore: about half the aims pass it
  // MU shares 10 : 30 (4 sigma of a binomial at p = 0.25).
  CHECK(std::abs(double(n_node[0]) / alive - 0.25) < 4 * std::sqrt(0.25 * 0.75 / alive));
  CHECK(near_source[0] + near_source[1] > 0.9 * alive);
  CHECK(inside > 0.999 * (near_source[0] + near_source[1]));
  // And not everything passes trivially: the field is narrow at the target (most primary
  // photons within the geometric radius plus 1 mm).
  CHECK(narrow > 0.8 * (near_source[0] + near_source[1]));
}

TEST_CASE("a robotic node needs exactly one collimator; Iris and cone chosen by the applicator", "[robotic]") {
  const Machine m = ck();
  Plan plan;
  plan.path = "(test)";
  Beam none = node({0, -800, 0}, {0, 0, 0}, 0);
  plan.beams = {none};
  CHECK_THROWS_WITH(Delivery(m, plan), Catch::Contains("needs exactly one collimator"));
  Beam both = node({0, -800, 0}, {0, 0, 0}, 10);
  both.devices.push_back({"MLCX", 41, {}});
  for (auto& c : both.control_points) c.positions_mm["MLCX"] = std::vector<double>(82, 0.0);
  plan.beams = {both};
  CHECK_THROWS_WITH(Delivery(m, plan), Catch::Contains("needs exactly one collimator"));
  Beam iris = node({0, -800, 0}, {0, 0, 0}, 0);
  iris.has_applicator = true;
  iris.applicator = {"IRIS 7.5 MM", "STEREOTACTIC", "", "SYM_CIRCULAR", 7.5};
  const ApplicatorChoice ci = choose_applicator(m, iris);
  CHECK(ci.why.empty());
  REQUIRE(ci.collimator);
  CHECK(ci.collimator->kind == CollimatorKind::iris);
  CHECK(ci.size_cm == Approx(0.75));
  Beam cone = node({0, -800, 0}, {0, 0, 0}, 7.5);
  CHECK(choose_applicator(m, cone).collimator->kind == CollimatorKind::cone);
  Beam odd = node({0, -800, 0}, {0, 0, 0}, 8.0);
  CHECK(choose_applicator(m, odd).why == "no 8 mm cone");
  plan.beams = {iris};
  Delivery d(m, plan);
  const CollimatorStack st = make_collimator_stack(m, d.boundaries_cm());
  REQUIRE(st.iris >= 0);
  const DeliveryState s = delivery_state(d.view(), 0.5);
  CHECK(s.aperture.is_active(st.iris));
  CHECK(!s.aperture.is_active(st.cone));
  CHECK(s.aperture.value(st.devices[st.iris].first) == Approx(0.75));
  CHECK(s.fixed_frame);
}

TEST_CASE("an MLCY encoding is the robotic MLC turned by 90 degrees", "[robotic]") {
  // 5 pairs, boundaries along x_b at -12.5 .. 12.5 mm; random openings along y_b.
  Beam b = node({0, -800, 0}, {0, 0, 0}, 0);
  b.node = false;
  b.sad_mm = 800;
  LimitingDevice d{"MLCY", 5, {-12.5, -7.5, -2.5, 2.5, 7.5, 12.5}};
  b.devices = {d};
  sabre::phys::Rng rng(17, 0, sabre::phys::kStreamTest);
  std::vector<double> v(10);
  for (int i = 0; i < 5; ++i) {
    v[std::size_t(i)] = -20 * rng.uniform();
    v[std::size_t(i + 5)] = 20 * rng.uniform();
  }
  for (auto& c : b.control_points) {
    c.collimator_deg = 10;
    c.positions_mm["MLCY"] = v;
  }
  const Beam m = mlcy_as_mlcx(b);
  REQUIRE(m.devices.size() == 1);
  CHECK(m.devices[0].type == "MLCX");
  CHECK(m.control_points[0].collimator_deg == 100);
  const auto& w = m.control_points[0].positions_mm.at("MLCX");
  const auto& bd = m.devices[0].boundaries_mm;
  // Open in the original frame b: pair i spans x in [c_i, c_i+1], y in [a_i, b_i]. In the
  // mapped frame b' (b turned by +90 degrees: x' = y, y' = -x) the same point must be open.
  auto open_y = [&](double x, double y) {
    for (int i = 0; i < 5; ++i)
      if (x >= d.boundaries_mm[std::size_t(i)] && x < d.boundaries_mm[std::size_t(i + 1)])
        return y >= v[std::size_t(i)] && y <= v[std::size_t(i + 5)];
    return false;
  };
  auto open_x = [&](double xp, double yp) {
    for (int i = 0; i < 5; ++i)
      if (yp >= bd[std::size_t(i)] && yp < bd[std::size_t(i + 1)])
        return xp >= w[std::size_t(i)] && xp <= w[std::size_t(i + 5)];
    return false;
  };
  int agree = 0, open = 0;
  for (int k = 0; k < 5000; ++k) {
    const double x = 30 * (rng.uniform() - 0.5), y = 50 * (rng.uniform() - 0.5);
    const bool o = open_y(x, y);
    open += o;
    agree += o == open_x(y, -x);
  }
  CHECK(agree == 5000);
  CHECK(open > 500);
  // The frames: the mapped beam's b' axes are b's turned by +90 degrees about the axis.
  const Machine mk = ck();
  const NodeFrame f0 = node_frame(mk, b, "t"), f1 = node_frame(mk, m, "t");
  const Vec3 xb = f0.rot * Vec3{1, 0, 0}, yb = f0.rot * Vec3{0, 1, 0};
  const Vec3 xp = f1.rot * Vec3{1, 0, 0}, yp = f1.rot * Vec3{0, 1, 0};
  CHECK(sabre::phys::dot(xp, yb) == Approx(1.0));
  CHECK(sabre::phys::dot(yp, xb) == Approx(-1.0));
}
