// Delivery sampling: meterset shares, gantry unwrapping, interpolation (hand-worked).
#include <catch2/catch.hpp>

#include <cmath>

#include "beams/delivery_build.hh"
#include "beams/machine.hh"
#include "beams/plan_builder.hh"
#include "physics/core/rng.hh"

using namespace sabre::beams;

namespace {
Machine hd120() { return load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml"); }
}  // namespace

TEST_CASE("gantry angles unwrap along the rotation direction", "[delivery]") {
  CHECK(unwrap_gantry({181, 270, 0, 90, 179}, {"CW", "CW", "CW", "CW", "NONE"}) ==
        std::vector<double>{181, 270, 360, 450, 539});
  CHECK(unwrap_gantry({10, 350}, {"CC", "NONE"}) == std::vector<double>{10, -10});
  CHECK(unwrap_gantry({10, 350}, {"CW", "NONE"}) == std::vector<double>{10, 350});
  CHECK(unwrap_gantry({10, 350}, {"NONE", "NONE"}) == std::vector<double>{10, -10});  // shorter way
}

TEST_CASE("interpolation between control points at a sampled meterset", "[delivery]") {
  // Hand-worked arc: CW 350 -> 10 over one segment; jaws from (-5, 5) to (-3, 7) cm.
  const Machine m = hd120();
  FieldSpec f = field_for(m, m.beams[0]);
  Plan plan;
  Beam b = make_arc_beam(f, 350, 10, "CW", 2, 0, 1, "arc");
  b.control_points[1].positions_mm["ASYMX"] = {-30, 70};
  plan.beams.push_back(b);
  Delivery d(m, plan);
  const DeliveryState s = delivery_state(d.view(), 0.25);
  CHECK(s.angles.gantry_deg == Approx(355.0));
  // The stack's order is the machine file's: Y jaws, X jaws, MLC.
  const CollimatorStack st = make_collimator_stack(m, d.boundaries_cm());
  const int x = st.devices[st.jaws_on_axis[0]].first;
  CHECK(s.aperture.value(x) == Approx(-4.5));
  CHECK(s.aperture.value(x + 1) == Approx(5.5));
  CHECK(s.aperture.value(st.devices[st.jaws_on_axis[1]].first) == Approx(-5.0));  // Y1 fixed
  CHECK(delivery_state(d.view(), 0.75).angles.gantry_deg == Approx(365.0));  // = 5 deg
  CHECK(s.frac == Approx(0.25));
}

TEST_CASE("the meterset is sampled continuously: segment shares follow the weights", "[delivery]") {
  // Step-and-shoot, 3 equal segments (control points 0,1 | 2,3 | 4,5; zero-width jumps
  // between 1-2 and 3-4 are never chosen), plus a second beam with 3x the MU.
  const Machine m = hd120();
  FieldSpec f = field_for(m, m.beams[0]);
  f.mu = 100;
  Plan plan;
  plan.beams.push_back(make_step_and_shoot_beam(f, 3, 1, "sas"));
  f.mu = 300;
  f.iso_mm = {50, 0, 0};
  plan.beams.push_back(make_static_beam(f, 2, "static"));
  Delivery d(m, plan);
  CHECK(d.total_mu() == Approx(400));
  sabre::phys::Rng rng(3, 0, sabre::phys::kStreamTest);
  const int n = 200000;
  int beam2 = 0, seg[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < n; ++i) {
    const auto s = delivery_state(d.view(), rng.uniform());
    if (s.beam == 1) {
      ++beam2;
      CHECK(s.iso_cm.x == Approx(5.0));
    } else {
      ++seg[s.segment];
    }
  }
  // Binomial 1 sigma: sqrt(p(1-p)/n) ~ 0.001; tolerance 5 sigma.
  CHECK(double(beam2) / n == Approx(0.75).margin(0.005));
  CHECK(seg[1] == 0);
  CHECK(seg[3] == 0);
  for (int k : {0, 2, 4}) CHECK(double(seg[k]) / n == Approx(0.25 / 3).margin(0.004));
}

TEST_CASE("a delivery lays out every device of the machine; plan devices the machine lacks are refused",
          "[delivery]") {
  Machine m = hd120();
  const CollimatorStack st0 = make_collimator_stack(m, m.mlc()->boundaries_cm);
  const int ix = st0.jaws_on_axis[0], iy = st0.jaws_on_axis[1], im = st0.mlc_on_axis[0];
  FieldSpec f = field_for(m, m.beams[0]);
  f.x1_mm = -30; f.x2_mm = 20; f.y1_mm = -10; f.y2_mm = 40;
  Plan plan;
  plan.path = "p.dcm";
  plan.beams.push_back(make_static_beam(f, 1, "full"));
  {
    Delivery d(m, plan);
    const auto s = delivery_state(d.view(), 0.5);
    CHECK(s.aperture.active == 7u);
    CHECK(s.aperture.value(st0.devices[ix].first) == Approx(-3.0));
    CHECK(s.aperture.value(st0.devices[iy].first + 1) == Approx(4.0));
    // bank B of the central pair (open) at x2
    CHECK(s.aperture.value(st0.devices[im].first + 60 + 30) == Approx(2.0));
  }
  // Without X jaws and MLC in the plan: the X jaws fully open (the machine's max_open_cm),
  // the MLC out of the beam.
  Beam b = plan.beams[0];
  b.devices = {*b.device("ASYMY")};
  for (auto& cp : b.control_points) {
    cp.positions_mm.erase("ASYMX");
    cp.positions_mm.erase("MLCX");
  }
  Plan jaws_only;
  jaws_only.beams.push_back(b);
  {
    Delivery d(m, jaws_only);
    const auto s = delivery_state(d.view(), 0.5);
    CHECK(s.aperture.active == ((1u << ix) | (1u << iy)));
    CHECK(s.aperture.value(st0.devices[ix].first) == -20.0);
    CHECK(s.aperture.value(st0.devices[ix].first + 1) == 20.0);
  }
  // A device the machine does not have: refused, naming the plan, beam and device.
  Plan mlcy = plan;
  mlcy.beams[0].devices[2].type = "MLCY";
  for (auto& cp : mlcy.beams[0].control_points) {
    cp.positions_mm["MLCY"] = cp.positions_mm["MLCX"];
    cp.positions_mm.erase("MLCX");
  }
  CHECK_THROWS_WITH(Delivery(m, mlcy), Catch::StartsWith("p.dcm: beam 1 'full': device MLCY is not on machine"));
  // ... unless the machine declares it ignored: then it plays no part.
  m.ignored_dicom_types = {"MLCY"};
  {
    Delivery d(m, mlcy);
    CHECK(delivery_state(d.view(), 0.5).aperture.active == ((1u << ix) | (1u << iy)));
  }
  // Leaf boundaries other than the machine's: refused.
  Plan shifted = plan;
  for (double& v : shifted.beams[0].devices[2].boundaries_mm) v += 1.0;
  CHECK_THROWS_WITH(Delivery(hd120(), shifted), Catch::Contains("leaf boundary 0"));
}

TEST_CASE("a beam's applicator selects the machine's cone", "[delivery][cone]") {
  Machine m = hd120();
  CollimatorSpec cone;
  cone.kind = CollimatorKind::cone;
  cone.applicator_types = {"STEREOTACTIC"};
  cone.diameters_cm = {0.5, 1.0};
  cone.top_cm = 60;
  cone.thickness_cm = 8;
  cone.density_g_cm3 = 18;
  m.collimators.push_back(cone);
  FieldSpec f = field_for(m, m.beams[0]);
  CHECK(f.cone_applicator_type == "STEREOTACTIC");
  f.x1_mm = f.y1_mm = -15;
  f.x2_mm = f.y2_mm = 15;
  f.cone_mm = 10;
  Plan plan;
  plan.path = "p.dcm";
  plan.beams.push_back(make_static_beam(f, 1, "cone"));
  REQUIRE(plan.beams[0].has_applicator);
  const CollimatorStack st = make_collimator_stack(m, m.mlc()->boundaries_cm);
  REQUIRE(st.cone == 3);
  {
    Delivery d(m, plan);
    const auto s = delivery_state(d.view(), 0.5);
    CHECK(s.aperture.is_active(3));
    CHECK(s.aperture.value(st.devices[3].first) == 1.0);
  }
  Plan other = plan;
  other.beams[0].applicator.opening_mm = 7.5;  // not one of the machine's cones
  CHECK_THROWS_WITH(Delivery(m, other), Catch::Contains("not one of machine TrueBeam-HD120's cones"));
  other.beams[0].applicator.aperture_shape = "";  // no geometry: the size is unknown
  CHECK_THROWS_WITH(Delivery(m, other), Catch::Contains("the cone size is unknown"));
  other = plan;
  other.beams[0].applicator.type = "ELECTRON_SQUARE";
  CHECK_THROWS_WITH(Delivery(m, other), Catch::Contains("is not a cone of machine"));
  // Without the applicator the cone is out of the beam.
  Plan none = plan;
  none.beams[0].has_applicator = false;
  Delivery d(m, none);
  CHECK_FALSE(delivery_state(d.view(), 0.5).aperture.is_active(3));
}
