// Collimator geometry: tungsten path lengths for hand-worked rays, and against a brute-
// force point-membership integration written independently here.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "beams/collimator.hh"
#include "beams/plan_builder.hh"
#include "physics/core/rng.hh"

using namespace sabre::beams;
using sabre::phys::Vec3;

namespace {

// TrueBeam-like numbers (the bundled machine files' values).
struct Setup {
  std::vector<double> bnd_cm;
  std::vector<double> a, b;
  CollimatorGeometry g;
  ApertureState s;

  explicit Setup(const std::string& mlc = "HD120", double radius = 16.0) {
    for (double v : mlc_boundaries_mm(mlc)) bnd_cm.push_back(v / 10);
    const int n = int(bnd_cm.size()) - 1;
    a.assign(n, -5.0);
    b.assign(n, 5.0);
    g.sad_cm = 100;
    g.jy_top_cm = 28.0; g.jy_bottom_cm = 35.8; g.jy_density_g_cm3 = 18;
    g.jx_top_cm = 36.7; g.jx_bottom_cm = 44.5; g.jx_density_g_cm3 = 18;
    g.n_pairs = n;
    g.boundaries_cm = bnd_cm.data();
    g.mlc_top_cm = 47.45; g.mlc_bottom_cm = 54.35; g.mlc_density_g_cm3 = 18;
    g.tongue_groove_cm = 0.125;
    g.interleaf_gap_cm = 0.005;
    g.leaf_end_radius_cm = radius;
    s.jaw_x1_cm = -5; s.jaw_x2_cm = 5; s.jaw_y1_cm = -5; s.jaw_y2_cm = 5;
    point();
  }
  void point() { s.a0 = s.a1 = a.data(); s.b0 = s.b1 = b.data(); s.frac = 0; }
};

// Independent membership test: is (x, y, z) inside tungsten? (0: air, 1: jaw, 2: leaf)
int material_at(const Setup& su, double x, double y, double z) {
  const auto& g = su.g;
  const auto& s = su.s;
  const double f = z / g.sad_cm;  // isocentre -> depth z
  if (z >= g.jx_top_cm && z <= g.jx_bottom_cm && (x < s.jaw_x1_cm * f || x > s.jaw_x2_cm * f)) return 1;
  if (z >= g.jy_top_cm && z <= g.jy_bottom_cm && (y < s.jaw_y1_cm * f || y > s.jaw_y2_cm * f)) return 1;
  if (z < g.mlc_top_cm || z > g.mlc_bottom_cm) return 0;
  const double zm = 0.5 * (g.mlc_top_cm + g.mlc_bottom_cm);
  const double shift = (z < zm ? -0.5 : 0.5) * g.tongue_groove_cm;
  const double v = y / f;  // projected to isocentre
  for (int i = 0; i < g.n_pairs; ++i) {
    const double lo = g.boundaries_cm[i] + shift + 0.5 * g.interleaf_gap_cm;
    const double hi = g.boundaries_cm[i + 1] + shift - 0.5 * g.interleaf_gap_cm;
    if (v < lo || v > hi) continue;
    const double r = g.leaf_end_radius_cm;
    const double bulge = std::sqrt(r * r - (z - zm) * (z - zm)) - r;  // <= 0: arc recedes
    const double xa = s.leaf_a(i) * zm / g.sad_cm, xb = s.leaf_b(i) * zm / g.sad_cm;
    if (x <= xa + bulge || x >= xb - bulge) return 2;
  }
  return 0;
}

// Midpoint-rule path lengths in the jaws and leaves along pos + t dir, from pos.z to z_end.
std::pair<double, double> brute_path(const Setup& su, Vec3 pos, Vec3 dir, double z_end, double dz) {
  double lj = 0, lm = 0;
  const double ds = 1 / dir.z * dz;
  for (double z = pos.z + 0.5 * dz; z < z_end; z += dz) {
    const double t = (z - pos.z) / dir.z;
    const int m = material_at(su, pos.x + t * dir.x, pos.y + t * dir.y, z);
    if (m == 1) lj += ds;
    if (m == 2) lm += ds;
  }
  return {lj, lm};
}

Vec3 unit(Vec3 v) {
  const double n = std::sqrt(dot(v, v));
  return {v.x / n, v.y / n, v.z / n};
}

}  // namespace

TEST_CASE("open field: a ray from the target through the aperture crosses no tungsten", "[collimator]") {
  Setup su;
  const auto p = tungsten_path(su.g, su.s, {0, 0, 0}, unit({0.02, 0.013, 1}));  // (2, 1.3) cm at iso
  CHECK(p.jaws_cm == 0);
  CHECK(p.mlc_cm == 0);
}

TEST_CASE("hand-worked jaw paths", "[collimator]") {
  Setup su;
  // Ray from the target to (-7, 0) cm at iso: fully inside jaw X1 (at -5) over its
  // thickness 7.8 cm, and inside leaf A (tip at -5 cm) over the full leaf height 6.9 cm,
  // both times 1/cos(theta) = sqrt(1 + 0.07^2).
  const double sec = std::sqrt(1 + 0.07 * 0.07);
  // The mirror ray to (+7, 0) meets jaw X2 (at +5 cm) the same way.
  auto p = tungsten_path(su.g, su.s, {0, 0, 0}, unit({0.07, 0, 1}));
  CHECK(p.jaws_cm == Approx(7.8 * sec));
  CHECK(p.mlc_cm == Approx(6.9 * sec));
  p = tungsten_path(su.g, su.s, {0, 0, 0}, unit({-0.07, 0, 1}));
  CHECK(p.jaws_cm == Approx(7.8 * sec));
  // Leaf end: a ray from the target at -7 cm (iso) passes behind the rounded tip (at -5 cm)
  // over the whole height when the arc recedes less than 2 cm x z/SAD: R = 16 cm, half
  // height 3.45 cm: recession 16 - sqrt(256 - 11.9) = 0.376 cm < 0.95 cm. Full height.
  CHECK(p.mlc_cm == Approx(6.9 * sec));
  CHECK(p.mass_g_cm2 == Approx((7.8 + 6.9) * sec * 18));
  // Vertical ray at x = -0.8 cm crossing the divergent face of jaw X1 at -2 cm (iso):
  // the face is at x = -2 z / 100, so tungsten for z < 40 cm: 40 - 36.7 = 3.3 cm.
  su.s.jaw_x1_cm = -2;
  su.a.assign(su.a.size(), -20.0);  // leaves out of the way
  su.b.assign(su.b.size(), 20.0);
  p = tungsten_path(su.g, su.s, {-0.8, 0, 0}, {0, 0, 1});
  CHECK(p.jaws_cm == Approx(3.3));
  CHECK(p.mlc_cm == 0);
}

TEST_CASE("hand-worked path in a rounded leaf end", "[collimator]") {
  // A ray parallel to the axis, a depth delta inside bank A's tip at mid-height: the chord
  // of the circle |z - zm| <= sqrt(2 R delta - delta^2).
  for (double r : {8.0, 16.0}) {
    Setup su("HD120", r);
    su.s.jaw_x1_cm = su.s.jaw_y1_cm = -20;
    su.s.jaw_x2_cm = su.s.jaw_y2_cm = 20;
    const double zm = 0.5 * (47.45 + 54.35);
    const double tip = -5 * zm / 100;  // bank A at -5 cm (iso), physical at zm
    for (double delta : {0.02, 0.1, 0.3}) {
      const double chord = 2 * std::sqrt(2 * r * delta - delta * delta);
      const auto p = tungsten_path(su.g, su.s, {tip - delta, 0.1, 0}, {0, 0, 1});
      INFO("R " << r << " delta " << delta);
      CHECK(p.mlc_cm == Approx(std::min(chord, 6.9)).epsilon(1e-9));
    }
    // Outside the tip by any amount: no leaf.
    CHECK(tungsten_path(su.g, su.s, {tip + 0.01, 0.1, 0}, {0, 0, 1}).mlc_cm == 0);
  }
}

TEST_CASE("tongue and groove: either neighbour alone covers half the height", "[collimator]") {
  Setup su;
  su.s.jaw_x1_cm = su.s.jaw_y1_cm = -20;
  su.s.jaw_x2_cm = su.s.jaw_y2_cm = 20;
  const int i = 30;  // boundary between pair 29 (below) and 30 (above), at y = 0 for HD120
  const double bnd = su.bnd_cm[i];
  REQUIRE(bnd == Approx(0.0));
  // Ray from the target through (x = 0, y = bnd) at iso.
  const Vec3 dir = unit({0, bnd / 100, 1});
  auto path = [&] { return tungsten_path(su.g, su.s, {0, 0, 0}, dir).mlc_cm; };
  // Bank A tips at +5 cm cover x = 0 (bank A occupies x <= its tip): both pairs cover the ray.
  su.a[29] = su.b[29] = 5; su.a[30] = su.b[30] = 5;
  CHECK(path() == Approx(6.9));
  su.a[30] = -5; su.b[30] = 5;  // pair 30 open at x = 0: only pair 29's lower half (tongue)
  CHECK(path() == Approx(3.45));
  su.a[29] = -5; su.b[29] = 5; su.a[30] = su.b[30] = 5;  // only pair 30's upper half
  CHECK(path() == Approx(3.45));
  su.a[30] = -5;  // both open
  CHECK(path() == 0);
  // Inside the interleaf gap of the upper half (y = bnd - tg/2 at iso), pair 29 closed:
  // only its lower half shields (the upper-half gap is open).
  su.a[29] = su.b[29] = 5; su.a[30] = su.b[30] = 5;
  const Vec3 d2 = unit({0, (bnd - 0.0625) / 100, 1});
  CHECK(tungsten_path(su.g, su.s, {0, 0, 0}, d2).mlc_cm == Approx(3.45));
}

TEST_CASE("analytic paths agree with brute-force integration for random rays", "[collimator]") {
  // Random leaf pattern, random source points (focal spot and extra-focal plane), random
  // directions toward the field. Brute force: midpoint rule with dz = 2e-4 cm, so the
  // error is below ~(number of boundary crossings) x dz.
  Setup su("Millennium120", 8.0);
  sabre::phys::Rng rng(7, 0, sabre::phys::kStreamTest);
  for (std::size_t i = 0; i < su.a.size(); ++i) {
    su.a[i] = -6 + 8 * rng.uniform();
    su.b[i] = su.a[i] + 6 * rng.uniform();
  }
  su.s.jaw_x1_cm = -6; su.s.jaw_x2_cm = 4; su.s.jaw_y1_cm = -7; su.s.jaw_y2_cm = 6;
  int with_leaf = 0, with_jaw = 0;
  for (int k = 0; k < 200; ++k) {
    const Vec3 pos{0.3 * (rng.uniform() - 0.5), 0.3 * (rng.uniform() - 0.5), k % 4 == 0 ? 10.0 : 0.0};
    const Vec3 at_iso{-9 + 16 * rng.uniform(), -9 + 17 * rng.uniform(), 100};
    const Vec3 dir = unit(at_iso - pos);
    const auto p = tungsten_path(su.g, su.s, pos, dir);
    const auto ref = brute_path(su, pos, dir, 56.0, 2e-4);
    INFO("ray " << k);
    CHECK(p.jaws_cm == Approx(ref.first).margin(2e-3));
    CHECK(p.mlc_cm == Approx(ref.second).margin(2e-3));
    with_leaf += p.mlc_cm > 0 && p.mlc_cm < 6.9;
    with_jaw += p.jaws_cm > 0;
  }
  // The sample must exercise partial leaf paths and jaws, not only empty rays.
  CHECK(with_leaf > 10);
  CHECK(with_jaw > 20);
}

TEST_CASE("closed-leaf transmission is exp(-mu rho h) through a full leaf", "[collimator]") {
  Setup su;
  su.s.jaw_x1_cm = su.s.jaw_y1_cm = -20;
  su.s.jaw_x2_cm = su.s.jaw_y2_cm = 20;
  for (std::size_t i = 0; i < su.a.size(); ++i) su.a[i] = su.b[i] = -10;  // closed at -10 cm
  // A central ray (through the middle of a leaf, not a boundary) meets bank B over 6.9 cm.
  const auto p = tungsten_path(su.g, su.s, {0, 0, 0}, unit({0, 0.0012, 1}));
  CHECK(p.mlc_cm == Approx(6.9 * std::sqrt(1 + 0.0012 * 0.0012)));
  for (double e : {0.5, 1.0, 2.0, 6.0}) {
    const double t = tungsten_transmission(e, p);
    CHECK(t == Approx(std::exp(-tungsten_mu_rho_cm2_g(e) * 18 * p.mlc_cm)));
  }
  // Order of magnitude at 2 MeV: mu/rho ~ 0.044 cm2/g -> exp(-0.044 * 18 * 6.9) ~ 0.4 %.
  CHECK(tungsten_transmission(2.0, p) > 0.002);
  CHECK(tungsten_transmission(2.0, p) < 0.008);
}
