// Collimator geometry: tungsten path lengths for hand-worked rays, and against a brute-
// force point-membership integration written independently here.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "beams/collimator.hh"
#include "physics/core/rng.hh"

using namespace sabre::beams;
using sabre::phys::Vec3;

namespace {

// HD120 / Millennium 120 leaf boundaries at isocentre [cm], laid out here by hand from the
// published leaf widths (docs/machines.md), independently of the machine files.
std::vector<double> boundaries(const std::string& mlc) {
  std::vector<std::pair<int, double>> groups = mlc == "HD120" ? std::vector<std::pair<int, double>>{{14, 0.5}, {32, 0.25}, {14, 0.5}}
                                                              : std::vector<std::pair<int, double>>{{10, 1.0}, {40, 0.5}, {10, 1.0}};
  std::vector<double> b{mlc == "HD120" ? -11.0 : -20.0};
  for (auto [n, w] : groups)
    for (int i = 0; i < n; ++i) b.push_back(b.back() + w);
  return b;
}

// TrueBeam-like numbers (the bundled machine files' values): a stack of Y jaws, X jaws and
// an MLCX, with its positions laid out as the stack says (Y1 Y2 X1 X2, bank A, bank B).
struct Setup {
  std::vector<double> bnd_cm;
  std::vector<double> a, b;
  double jx1 = -5, jx2 = 5, jy1 = -5, jy2 = 5;
  CollimatorStack st;
  std::vector<double> pos;
  ApertureState s;

  explicit Setup(const std::string& mlc = "HD120", double radius = 16.0) {
    bnd_cm = boundaries(mlc);
    const int n = int(bnd_cm.size()) - 1;
    a.assign(n, -5.0);
    b.assign(n, 5.0);
    st.sad_cm = 100;
    st.n = 3;
    CollimatorDevice& y = st.devices[0];
    y.kind = CollimatorKind::jaws; y.axis = 1; y.first = 0; y.n_values = 2;
    y.jaws = {28.0, 35.8, 18};
    CollimatorDevice& x = st.devices[1];
    x.kind = CollimatorKind::jaws; x.axis = 0; x.first = 2; x.n_values = 2;
    x.jaws = {36.7, 44.5, 18};
    CollimatorDevice& m = st.devices[2];
    m.kind = CollimatorKind::mlc; m.axis = 0; m.first = 4; m.n_values = 2 * n;
    MlcGeometry& g = m.mlc;
    g.n_pairs = n;
    g.boundaries_cm = bnd_cm.data();
    g.top_cm = 47.45; g.bottom_cm = 54.35; g.density_g_cm3 = 18;
    g.tongue_groove_cm = 0.125;
    g.interleaf_gap_cm = 0.005;
    g.leaf_end_radius_cm = radius;
    st.n_values = 4 + 2 * n;
    st.jaws_on_axis[0] = 1; st.jaws_on_axis[1] = 0; st.mlc_on_axis[0] = 2;
    point();
  }
  MlcGeometry& g() { return st.devices[2].mlc; }
  const MlcGeometry& g() const { return st.devices[2].mlc; }
  // Rebuilds the position array from the jaws and leaves (call after changing them).
  void point() {
    pos = {jy1, jy2, jx1, jx2};
    pos.insert(pos.end(), a.begin(), a.end());
    pos.insert(pos.end(), b.begin(), b.end());
    s.p0 = s.p1 = pos.data();
    s.frac = 0;
    s.active = 7;
  }
  TungstenPath path(Vec3 p, Vec3 d) {
    point();
    return tungsten_path(st, s, p, d);
  }
};

// The Setup's stack with a focused circular cone of diameter_cm at isocentre from 60 to 68 cm
// below the target as device 3; `pos` and `s` receive the positions and the state (all four
// devices active).
CollimatorStack with_cone(const Setup& su, double diameter_cm, std::vector<double>& pos, ApertureState& s) {
  CollimatorStack st = su.st;
  st.n = 4;
  CollimatorDevice& c = st.devices[3];
  c.kind = CollimatorKind::cone;
  c.first = st.n_values;
  c.n_values = 1;
  c.cone = {60.0, 68.0, 18.0};
  st.cone = 3;
  pos = su.pos;
  pos.push_back(diameter_cm);
  s.p0 = s.p1 = pos.data();
  s.frac = 0;
  s.active = 15;
  return st;
}

// Independent membership test: is (x, y, z) inside tungsten? (0: air, 1: jaw, 2: leaf)
int material_at(const Setup& su, double x, double y, double z) {
  const auto& g = su.g();
  const double f = z / su.st.sad_cm;  // isocentre -> depth z
  if (z >= 36.7 && z <= 44.5 && (x < su.jx1 * f || x > su.jx2 * f)) return 1;
  if (z >= 28.0 && z <= 35.8 && (y < su.jy1 * f || y > su.jy2 * f)) return 1;
  if (z < g.top_cm || z > g.bottom_cm) return 0;
  const double zm = 0.5 * (g.top_cm + g.bottom_cm);
  const double shift = (z < zm ? -0.5 : 0.5) * g.tongue_groove_cm;
  const double v = y / f;  // projected to isocentre
  for (int i = 0; i < g.n_pairs; ++i) {
    const double lo = g.boundaries_cm[i] + shift + 0.5 * g.interleaf_gap_cm;
    const double hi = g.boundaries_cm[i + 1] + shift - 0.5 * g.interleaf_gap_cm;
    if (v < lo || v > hi) continue;
    const double r = g.leaf_end_radius_cm;
    const double bulge = std::sqrt(r * r - (z - zm) * (z - zm)) - r;  // <= 0: arc recedes
    const double xa = su.a[std::size_t(i)] * zm / su.st.sad_cm, xb = su.b[std::size_t(i)] * zm / su.st.sad_cm;
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
  const auto p = su.path({0, 0, 0}, unit({0.02, 0.013, 1}));  // (2, 1.3) cm at iso
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
  auto p = su.path({0, 0, 0}, unit({0.07, 0, 1}));
  CHECK(p.jaws_cm == Approx(7.8 * sec));
  CHECK(p.mlc_cm == Approx(6.9 * sec));
  p = su.path({0, 0, 0}, unit({-0.07, 0, 1}));
  CHECK(p.jaws_cm == Approx(7.8 * sec));
  // Leaf end: a ray from the target at -7 cm (iso) passes behind the rounded tip (at -5 cm)
  // over the whole height when the arc recedes less than 2 cm x z/SAD: R = 16 cm, half
  // height 3.45 cm: recession 16 - sqrt(256 - 11.9) = 0.376 cm < 0.95 cm. Full height.
  CHECK(p.mlc_cm == Approx(6.9 * sec));
  CHECK(p.mass_g_cm2 == Approx((7.8 + 6.9) * sec * 18));
  // Vertical ray at x = -0.8 cm crossing the divergent face of jaw X1 at -2 cm (iso):
  // the face is at x = -2 z / 100, so tungsten for z < 40 cm: 40 - 36.7 = 3.3 cm.
  su.jx1 = -2;
  su.a.assign(su.a.size(), -20.0);  // leaves out of the way
  su.b.assign(su.b.size(), 20.0);
  p = su.path({-0.8, 0, 0}, {0, 0, 1});
  CHECK(p.jaws_cm == Approx(3.3));
  CHECK(p.mlc_cm == 0);
}

TEST_CASE("hand-worked path in a rounded leaf end", "[collimator]") {
  // A ray parallel to the axis, a depth delta inside bank A's tip at mid-height: the chord
  // of the circle |z - zm| <= sqrt(2 R delta - delta^2).
  for (double r : {8.0, 16.0}) {
    Setup su("HD120", r);
    su.jx1 = su.jy1 = -20;
    su.jx2 = su.jy2 = 20;
    const double zm = 0.5 * (47.45 + 54.35);
    const double tip = -5 * zm / 100;  // bank A at -5 cm (iso), physical at zm
    for (double delta : {0.02, 0.1, 0.3}) {
      const double chord = 2 * std::sqrt(2 * r * delta - delta * delta);
      const auto p = su.path({tip - delta, 0.1, 0}, {0, 0, 1});
      INFO("R " << r << " delta " << delta);
      CHECK(p.mlc_cm == Approx(std::min(chord, 6.9)).epsilon(1e-9));
    }
    // Outside the tip by any amount: no leaf.
    CHECK(su.path({tip + 0.01, 0.1, 0}, {0, 0, 1}).mlc_cm == 0);
  }
}

TEST_CASE("tongue and groove: either neighbour alone covers half the height", "[collimator]") {
  Setup su;
  su.jx1 = su.jy1 = -20;
  su.jx2 = su.jy2 = 20;
  const int i = 30;  // boundary between pair 29 (below) and 30 (above), at y = 0 for HD120
  const double bnd = su.bnd_cm[i];
  REQUIRE(bnd == Approx(0.0));
  // Ray from the target through (x = 0, y = bnd) at iso.
  const Vec3 dir = unit({0, bnd / 100, 1});
  auto path = [&] { return su.path({0, 0, 0}, dir).mlc_cm; };
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
  CHECK(su.path({0, 0, 0}, d2).mlc_cm == Approx(3.45));
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
  su.jx1 = -6; su.jx2 = 4; su.jy1 = -7; su.jy2 = 6;
  int with_leaf = 0, with_jaw = 0;
  for (int k = 0; k < 200; ++k) {
    const Vec3 pos{0.3 * (rng.uniform() - 0.5), 0.3 * (rng.uniform() - 0.5), k % 4 == 0 ? 10.0 : 0.0};
    const Vec3 at_iso{-9 + 16 * rng.uniform(), -9 + 17 * rng.uniform(), 100};
    const Vec3 dir = unit(at_iso - pos);
    const auto p = su.path(pos, dir);
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
  su.jx1 = su.jy1 = -20;
  su.jx2 = su.jy2 = 20;
  for (std::size_t i = 0; i < su.a.size(); ++i) su.a[i] = su.b[i] = -10;  // closed at -10 cm
  // A central ray (through the middle of a leaf, not a boundary) meets bank B over 6.9 cm.
  const auto p = su.path({0, 0, 0}, unit({0, 0.0012, 1}));
  CHECK(p.mlc_cm == Approx(6.9 * std::sqrt(1 + 0.0012 * 0.0012)));
  for (double e : {0.5, 1.0, 2.0, 6.0}) {
    const double t = tungsten_transmission(e, p);
    CHECK(t == Approx(std::exp(-tungsten_mu_rho_cm2_g(e) * 18 * p.mlc_cm)));
  }
  // Order of magnitude at 2 MeV: mu/rho ~ 0.044 cm2/g -> exp(-0.044 * 18 * 6.9) ~ 0.4 %.
  CHECK(tungsten_transmission(2.0, p) > 0.002);
  CHECK(tungsten_transmission(2.0, p) < 0.008);
}

TEST_CASE("an MLC moving along y is the mirror image of one moving along x", "[collimator]") {
  // The same bank as an MLCY: every ray (x, y) through it meets the same tungsten as the
  // ray (y, x) through the MLCX (lengths do not change under the reflection x <-> y).
  Setup sx("Millennium120", 8.0);
  sabre::phys::Rng rng(11, 0, sabre::phys::kStreamTest);
  for (std::size_t i = 0; i < sx.a.size(); ++i) {
    sx.a[i] = -6 + 8 * rng.uniform();
    sx.b[i] = sx.a[i] + 6 * rng.uniform();
  }
  sx.jx1 = sx.jy1 = -20;
  sx.jx2 = sx.jy2 = 20;
  sx.point();
  CollimatorStack sy = sx.st;  // the same devices, the MLC turned to move along y
  sy.devices[2].axis = 1;
  sy.mlc_on_axis[0] = -1;
  sy.mlc_on_axis[1] = 2;
  int crossed = 0;
  for (int k = 0; k < 300; ++k) {
    const Vec3 pos{0.2 * (rng.uniform() - 0.5), 0.2 * (rng.uniform() - 0.5), k % 3 == 0 ? 10.0 : 0.0};
    const Vec3 at_iso{-9 + 16 * rng.uniform(), -9 + 17 * rng.uniform(), 100};
    const Vec3 dir = unit(at_iso - pos);
    const auto px = tungsten_path(sx.st, sx.s, pos, dir);
    const auto py = tungsten_path(sy, sx.s, {pos.y, pos.x, pos.z}, {dir.y, dir.x, dir.z});
    INFO("ray " << k);
    CHECK(py.mlc_cm == px.mlc_cm);
    crossed += px.mlc_cm > 0;
  }
  CHECK(crossed > 50);
}

TEST_CASE("tilted leaf sides agree with brute-force integration; no ray runs along a gap", "[collimator]") {
  // Leaf sides tilted by t about the leaf's mid-height (an Agility-like bank, no
  // tongue-and-groove): the band of pair i at depth z is [b_i + g/2, b_(i+1) - g/2] z/SAD
  // + t (z - zm). Brute force: point membership as in material_at, with that band.
  Setup su("Millennium120", 17.0);
  auto& g = su.g();
  g.tongue_groove_cm = 0;
  g.interleaf_gap_cm = 0.03;
  g.side_tilt = 0.009;
  g.top_cm = 30.44; g.bottom_cm = 39.44;  // 9 cm leaves
  su.jx1 = su.jy1 = -20;
  su.jx2 = su.jy2 = 20;
  for (std::size_t i = 0; i < su.a.size(); ++i) { su.a[i] = 4; su.b[i] = 4; }  // all closed at x = 4
  su.point();
  const double zm = 0.5 * (g.top_cm + g.bottom_cm);
  auto inside = [&](double x, double y, double z) {
    if (z < g.top_cm || z > g.bottom_cm) return false;
    const double f = z / 100;
    const double v = (y - g.side_tilt * (z - zm)) / f;  // the band's frame, projected to iso
    for (int i = 0; i < g.n_pairs; ++i) {
      if (v < g.boundaries_cm[i] + 0.015 || v > g.boundaries_cm[i + 1] - 0.015) continue;
      const double r = g.leaf_end_radius_cm;
      const double bulge = std::sqrt(r * r - (z - zm) * (z - zm)) - r;
      return x <= su.a[std::size_t(i)] * zm / 100 + bulge || x >= su.b[std::size_t(i)] * zm / 100 - bulge;
    }
    return false;
  };
  sabre::phys::Rng rng(5, 0, sabre::phys::kStreamTest);
  double min_path = 1e9;
  for (int k = 0; k < 150; ++k) {
    // Rays from the focus through random points, and through the focused boundary lines
    // themselves (where an untilted gap would let them pass without tungsten).
    const int pair = 5 + int(50 * rng.uniform());
    const double y_iso = k % 2 ? g.boundaries_cm[pair] : -9 + 18 * rng.uniform();
    // x within 1 cm of the axis for the boundary rays: 3 cm inside the tips at 4 cm, beyond
    // the rounded ends' recession (R - sqrt(R^2 - 4.5^2) = 0.61 cm, 1.7 cm at iso).
    const double x_iso = k % 2 ? -1 + 2 * rng.uniform() : -3 + 6 * rng.uniform();
    const Vec3 dir = unit({x_iso / 100, y_iso / 100, 1});
    const auto p = su.path({0, 0, 0}, dir);
    double lm = 0;
    const double dz = 2e-4;
    for (double z = g.top_cm + 0.5 * dz; z < g.bottom_cm; z += dz) {
      const double t = z / dir.z;
      if (inside(t * dir.x, t * dir.y, z)) lm += dz / dir.z;
    }
    INFO("ray " << k);
    CHECK(p.mlc_cm == Approx(lm).margin(2e-3));
    if (k % 2) min_path = std::min(min_path, p.mlc_cm);
  }
  // Along a boundary line the ray crosses the gap only near mid-height: g z / (t SAD) =
  // 0.03 x 0.35 / 0.009 ~ 1.2 cm of the 9 cm height is air.
  CHECK(min_path > 7.5);
}

TEST_CASE("sampling windows: the mixture's weights are 1/pdf (unbiased), uniform windows as before",
          "[collimator]") {
  // Uniform: the aim is lo + (hi - lo) u with weight hi - lo, exactly.
  AxisWindow u;
  u.lo = -3; u.hi = 4;
  double w = 0;
  CHECK(u.sample(0.25, w) == -3 + 7 * 0.25);
  CHECK(w == 7);
  // Mixture: E[w f(x)] = integral of f over [lo, hi] for any f. With f = 1 and f = the
  // indicator of [1, 2.5] (straddling the inner window's edge): 7 and 1.5. Fixed seed;
  // 2e5 draws, the weights' spread gives a relative sigma ~0.3 %: tolerance 1.5 %.
  AxisWindow m = u;
  m.in_lo = -1; m.in_hi = 2; m.p_inner = 0.9;
  sabre::phys::Rng rng(21, 0, sabre::phys::kStreamTest);
  double s1 = 0, s2 = 0;
  const int n = 200000;
  int inner = 0;
  for (int i = 0; i < n; ++i) {
    const double x = m.sample(rng.uniform(), w);
    REQUIRE(x >= m.lo);
    REQUIRE(x <= m.hi);
    s1 += w;
    if (x >= 1 && x <= 2.5) s2 += w;
    inner += x >= m.in_lo && x <= m.in_hi;
  }
  CHECK(s1 / n == Approx(7.0).epsilon(0.015));
  CHECK(s2 / n == Approx(1.5).epsilon(0.015));
  CHECK(double(inner) / n > 0.9);  // most aims land in the inner window
}

TEST_CASE("sampling windows with a margin density: the opening gets the aims, the margin keeps its fluence",
          "[collimator][efficiency]") {
  // margin_aim_share against the defining relation, by hand: an opening of 1 cm in a
  // window of 2 cm with the margin at 1/4 of the opening's density: p = 3 x 1 / (2 + 3) = 0.6;
  // then the density is (1 - p) / 2 = 0.2 in the margin and 0.2 + 0.6 = 0.8 in the opening.
  CHECK(margin_aim_share(1, 2, 0.25) == Approx(0.6));
  CHECK(margin_aim_share(1, 2, 1.0) == 0);    // uniform: the sampling before the technique
  CHECK(margin_aim_share(1, 1, 0.25) == 0);   // no margin
  CHECK(margin_aim_share(0, 2, 0.25) == 0);   // no opening
  CHECK(margin_aim_share(1, 2, 0.0) == 0);    // refused density: uniform
  // A 1 x 1 cm2 jaw field (the Setup's jaws, X from 36.7 to 44.5 cm), from the focus: the
  // opening projects to exactly +-0.5 cm, the window to +-1.0 cm with a 0.5 cm margin.
  Setup su;
  su.jx1 = su.jy1 = -0.5;
  su.jx2 = su.jy2 = 0.5;
  su.point();
  const AxisWindow uni = sampling_window(su.st, su.s, {0, 0, 0}, 0, 0.5);
  CHECK(uni.p_inner == 0);
  CHECK(uni.lo == Approx(-1.0));
  const AxisWindow w = sampling_window(su.st, su.s, {0, 0, 0}, 0, 0.5, 0.25);
  CHECK(w.lo == Approx(-1.0));
  CHECK(w.hi == Approx(1.0));
  CHECK(w.in_lo == Approx(-0.5));
  CHECK(w.in_hi == Approx(0.5));
  CHECK(w.p_inner == Approx(0.6));
  // From an off-axis source point the opening's projection is the larger of the top's and
  // the bottom's: the inner interval is the uniform window's, less the margin.
  const Vec3 o{0.1, -0.05, 0};
  const AxisWindow uo = sampling_window(su.st, su.s, o, 0, 0.5), wo = sampling_window(su.st, su.s, o, 0, 0.5, 0.25);
  CHECK(wo.lo == uo.lo);
  CHECK(wo.hi == uo.hi);
  CHECK(wo.in_lo == Approx(uo.lo + 0.5));
  CHECK(wo.in_hi == Approx(uo.hi - 0.5));
  // The weights are 1 / pdf: E[w 1_A(x)] = |A| for every interval A. Checked on the two
  // margin bands, the opening and a band straddling its edge, against the same sums with
  // the uniform window. 4e5 draws at a fixed seed; the margin's weights are 5 cm against the
  // opening's 1.25 cm, so the relative sigma of a band's estimate is at most ~0.4 %
  // (band of 0.5 cm hit with probability 0.1): tolerance 2 % (5 sigma).
  sabre::phys::Rng rng(22, 0, sabre::phys::kStreamTest);
  const int n = 400000;
  const double bands[4][2] = {{-1.0, -0.5}, {0.5, 1.0}, {-0.5, 0.5}, {0.3, 0.8}};
  double sum[4] = {0, 0, 0, 0};
  int in_opening = 0;
  for (int i = 0; i < n; ++i) {
    double wt = 0;
    const double x = w.sample(rng.uniform(), wt);
    REQUIRE(x >= w.lo);
    REQUIRE(x <= w.hi);
    for (int b = 0; b < 4; ++b)
      if (x >= bands[b][0] && x < bands[b][1]) sum[b] += wt;
    in_opening += x >= -0.5 && x <= 0.5;
  }
  for (int b = 0; b < 4; ++b) {
    INFO("band " << bands[b][0] << " .. " << bands[b][1]);
    CHECK(sum[b] / n == Approx(bands[b][1] - bands[b][0]).epsilon(0.02));
  }
  // 80 % of the aims in the opening (the uniform window: 50 %); expected 0.8, sigma 6e-4.
  CHECK(double(in_opening) / n == Approx(0.8).margin(0.003));
  // Cones and the Iris take the same density over their bore's square (from the focus: the
  // cone of 1 cm at 60-68 cm projects to +-0.5 cm).
  std::vector<double> pos;
  ApertureState s;
  const CollimatorStack st = with_cone(su, 1.0, pos, s);
  const AxisWindow wc = sampling_window(st, s, {0, 0, 0}, 1, 0.5, 0.25);
  CHECK(wc.in_lo == Approx(-0.5));
  CHECK(wc.in_hi == Approx(0.5));
  CHECK(wc.p_inner == Approx(0.6));
}

TEST_CASE("sampling window without jaws: the largest field, most aims on the open leaves", "[collimator]") {
  // The stack of Setup without its X jaws: along x only the MLC (leaves open -1 .. 2 cm on
  // two pairs, the rest closed at 0). From the focus the largest field projects to +-20 cm
  // (+ the margin); the inner window covers the open leaves widened by the leaf-end reach
  // R - sqrt(R^2 - h^2/4) projected to isocentre (R 16, h 6.9: 0.376 cm at 50.9 cm -> 0.739
  // cm), projected through the leaf slab from the focus (exactly the iso values) + margin.
  Setup su;
  su.st.jaws_on_axis[0] = -1;
  for (std::size_t i = 0; i < su.a.size(); ++i) { su.a[i] = 0; su.b[i] = 0; }
  su.a[30] = -1; su.b[30] = 2;
  su.a[31] = -0.5; su.b[31] = 1;
  su.point();
  const AxisWindow w = sampling_window(su.st, su.s, {0, 0, 0}, 0, 0.5);
  CHECK(w.lo == Approx(-20.5));
  CHECK(w.hi == Approx(20.5));
  const double zm = 0.5 * (47.45 + 54.35);
  const double reach = (16 - std::sqrt(256 - 3.45 * 3.45)) * 100 / zm;
  CHECK(w.in_lo == Approx(-1 - reach - 0.5));
  CHECK(w.in_hi == Approx(2 + reach + 0.5));
  CHECK(w.p_inner == kMlcWindowShare);
  // Every pair closed: the largest field, uniformly.
  su.a[30] = su.b[30] = su.a[31] = su.b[31] = 0;
  su.point();
  CHECK(sampling_window(su.st, su.s, {0, 0, 0}, 0, 0.5).p_inner == 0);
  // Along y the Y jaws decide, as with every C-arm: their projection + margin.
  const AxisWindow wy = sampling_window(su.st, su.s, {0, 0, 0}, 1, 0.5);
  CHECK(wy.lo == Approx(-5.5));
  CHECK(wy.p_inner == 0);
}

TEST_CASE("a circular cone: hand-worked paths and brute-force integration", "[collimator][cone]") {
  // A stack of the Setup's jaws (opened wide) and a cone of 1 cm at isocentre from 60 to
  // 68 cm below the target.
  Setup su;
  su.jx1 = su.jy1 = -3;
  su.jx2 = su.jy2 = 3;
  for (std::size_t i = 0; i < su.a.size(); ++i) { su.a[i] = -10; su.b[i] = 10; }
  su.point();
  std::vector<double> pos;
  ApertureState s;
  CollimatorStack st = with_cone(su, 1.0, pos, s);  // 1 cm at isocentre
  const double rc = 0.5 / 100;  // bore radius per unit depth
  // From the focus inside the bore (0.4 cm at iso < 0.5): no tungsten; outside (0.6 cm):
  // the full cone length along the ray.
  CHECK(tungsten_path(st, s, {0, 0, 0}, unit({0.004, 0, 1})).cone_cm == 0);
  const Vec3 d6 = unit({0.0042, 0.0042, 1});  // 0.594 cm at iso
  CHECK(tungsten_path(st, s, {0, 0, 0}, d6).cone_cm == Approx(8.0 / d6.z));
  // A vertical ray at x = 0.32 cm: inside the bore where 0.005 z >= 0.32, z >= 64 cm:
  // tungsten over 60 .. 64 cm.
  CHECK(tungsten_path(st, s, {0.32, 0, 0}, {0, 0, 1}).cone_cm == Approx(4.0));
  // Brute force: point membership x^2 + y^2 >= (rc z)^2 in the slab, random rays from the
  // focal spot and the extra-focal plane.
  sabre::phys::Rng rng(9, 0, sabre::phys::kStreamTest);
  int partial = 0;
  for (int k = 0; k < 200; ++k) {
    // Origins up to 2 cm off axis (an extra-focal plane), so that many rays cross the
    // focused bore's surface.
    const Vec3 o{4 * (rng.uniform() - 0.5), 4 * (rng.uniform() - 0.5), k % 3 == 0 ? 0.0 : 10.0};
    const Vec3 at_iso{-1.2 + 2.4 * rng.uniform(), -1.2 + 2.4 * rng.uniform(), 100};
    const Vec3 d = unit(at_iso - o);
    double lc = 0;
    const double dz = 2e-4;
    for (double z = 60 + 0.5 * dz; z < 68; z += dz) {
      const double t = (z - o.z) / d.z;
      const double x = o.x + t * d.x, y = o.y + t * d.y;
      if (x * x + y * y >= rc * rc * z * z) lc += dz / d.z;
    }
    const auto p = tungsten_path(st, s, o, d);
    INFO("ray " << k);
    CHECK(p.cone_cm == Approx(lc).margin(2e-3));
    partial += p.cone_cm > 0 && p.cone_cm < 7.99 / d.z;
  }
  CHECK(partial > 10);  // rays crossing the bore's surface, not only empty or full paths
  // The cone out of the beam (its bit clear): no cone tungsten.
  s.active = 7;
  CHECK(tungsten_path(st, s, {0, 0, 0}, d6).cone_cm == 0);
  // The sampling window with the cone in the beam: its bore projected through the cone
  // (from the focus exactly +-0.5 cm) plus the margin, whatever the jaws say.
  s.active = 15;
  const AxisWindow w = sampling_window(st, s, {0, 0, 0}, 0, 0.5);
  CHECK(w.lo == Approx(-1.0));
  CHECK(w.hi == Approx(1.0));
  CHECK(w.p_inner == 0);
}

TEST_CASE("the Iris: a 12-sided aperture from two hexagonal banks, against brute force", "[collimator][iris]") {
  // An Iris alone (a robotic machine's stack): banks 30-36 and 36-42 cm below the target,
  // nominal size 2 cm at SAD 80, inscribed radius 0.5 x size (flats at every 30 degrees).
  CollimatorStack st;
  st.sad_cm = 80;
  st.field_half_cm = 6;
  st.n = 1;
  CollimatorDevice& dev = st.devices[0];
  dev.kind = CollimatorKind::iris;
  dev.first = 0;
  dev.n_values = 1;
  dev.iris = {30.0, 42.0, 18.0, 0.5};
  st.iris = 0;
  st.n_values = 1;
  const double size = 2.0;
  ApertureState s;
  s.p0 = s.p1 = &size;
  s.active = 1;
  const double a = 1.0;  // inscribed radius at the SAD [cm]
  // From the focus: along a flat normal (0 deg) the aperture ends at a; toward a vertex
  // (15 deg) at a / cos 15. Just inside: no tungsten; just outside: the bank whose flat it
  // crosses (0 deg: the upper bank, 6 cm; 15 deg: both banks' vertices meet there: 12 cm).
  auto from_focus = [&](double r_at_sad, double deg) {
    const double t = deg * M_PI / 180;
    return unit({r_at_sad * std::cos(t) / 80, r_at_sad * std::sin(t) / 80, 1});
  };
  CHECK(tungsten_path(st, s, {0, 0, 0}, from_focus(0.999 * a, 0)).iris_cm == 0);
  CHECK(tungsten_path(st, s, {0, 0, 0}, from_focus(1.001 * a, 0)).iris_cm * from_focus(1.001 * a, 0).z ==
        Approx(6.0));
  CHECK(tungsten_path(st, s, {0, 0, 0}, from_focus(1.001 * a, 30)).iris_cm * from_focus(1.001 * a, 30).z ==
        Approx(6.0));  // 30 deg: a flat of the lower bank
  const double rv = a / std::cos(15 * M_PI / 180);
  CHECK(tungsten_path(st, s, {0, 0, 0}, from_focus(0.999 * rv, 15)).iris_cm == 0);
  CHECK(tungsten_path(st, s, {0, 0, 0}, from_focus(1.001 * rv, 15)).iris_cm * from_focus(1.001 * rv, 15).z ==
        Approx(12.0));
  // Brute force, written independently: a point at (r, phi) is open in a bank when
  // r cos(phi - nearest flat normal) <= a z / SAD, the nearest normal found by rounding phi
  // to the bank's 60-degree grid (upper bank at 0 deg, lower at 30 deg).
  auto open_in_bank = [&](double x, double y, double z, double offset_deg) {
    const double phi = std::atan2(y, x) * 180 / M_PI;
    const double k = std::round((phi - offset_deg) / 60.0);
    const double n = (offset_deg + 60 * k) * M_PI / 180;
    return std::hypot(x, y) * std::cos(phi * M_PI / 180 - n) <= a * z / 80;
  };
  sabre::phys::Rng rng(21, 0, sabre::phys::kStreamTest);
  int partial = 0;
  for (int k = 0; k < 300; ++k) {
    const Vec3 o{3 * (rng.uniform() - 0.5), 3 * (rng.uniform() - 0.5), k % 3 == 0 ? 0.0 : 10.0};
    const Vec3 at_sad{-1.6 + 3.2 * rng.uniform(), -1.6 + 3.2 * rng.uniform(), 80};
    const Vec3 d = unit(at_sad - o);
    double li = 0;
    const double dz = 2e-4;
    for (double z = 30 + 0.5 * dz; z < 42; z += dz) {
      const double t = (z - o.z) / d.z;
      const double x = o.x + t * d.x, y = o.y + t * d.y;
      if (!open_in_bank(x, y, z, z < 36 ? 0.0 : 30.0)) li += dz / d.z;
    }
    const auto p = tungsten_path(st, s, o, d);
    INFO("ray " << k);
    CHECK(p.iris_cm == Approx(li).margin(2e-3));
    CHECK(p.mass_g_cm2 == Approx(18.0 * li).margin(4e-2));
    partial += p.iris_cm > 0 && p.iris_cm < 11.99 / d.z;
  }
  CHECK(partial > 10);
  // Out of the beam (bit clear): no Iris tungsten.
  s.active = 0;
  CHECK(tungsten_path(st, s, {0, 0, 0}, from_focus(1.5 * a, 0)).iris_cm == 0);
  // The sampling window: the circle around the aperture (a / cos 15), projected from the
  // focus through the banks, plus the margin.
  s.active = 1;
  const AxisWindow w = sampling_window(st, s, {0, 0, 0}, 0, 0.1);
  CHECK(w.hi == Approx(rv + 0.1));
  CHECK(w.lo == Approx(-rv - 0.1));
}
