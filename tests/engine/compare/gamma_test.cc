// Analytic gamma cases (Low et al. 1998): closed-form 1-D ramps and steps shifted by a
// known distance, uniform doses scaled by a known factor, a 3-D block pair worked by hand,
// each to 0.01 in gamma, globally and locally; plus the interpolator and determinism.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "engine/compare/gamma.hh"

using sabre::DoseResult;
using sabre::compare::compute_gamma;
using sabre::compare::GammaCriteria;
using sabre::compare::GammaResult;
using sabre::phys::Vec3;

namespace {

// A dose on a grid of n voxels of `spacing_mm`, corner at `origin_mm`, filled from f(centre
// [mm]) in Gy.
DoseResult make_dose(int nx, int ny, int nz, Vec3 spacing_mm, Vec3 origin_mm,
                     const std::function<double(Vec3)>& f) {
  DoseResult d;
  d.dose_unit = "Gy";
  d.grid.nx = nx;
  d.grid.ny = ny;
  d.grid.nz = nz;
  d.grid.spacing_cm = {spacing_mm.x / 10, spacing_mm.y / 10, spacing_mm.z / 10};
  d.grid.origin_cm = {origin_mm.x / 10, origin_mm.y / 10, origin_mm.z / 10};
  d.dose_gy.resize(d.grid.size());
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const Vec3 c = d.grid.voxel_centre(i, j, k);
        d.dose_gy[d.grid.index(i, j, k)] = f({c.x * 10, c.y * 10, c.z * 10});
      }
  return d;
}

// Gamma of a linear ramp of slope g [Gy/mm] against the same ramp shifted by s [mm]:
// min over u of u^2/DTA^2 + g^2 (u - s)^2 / dD^2 = s^2 g^2 / (dD^2 + g^2 DTA^2).
double ramp_gamma(double s_mm, double g_gy_mm, double dd_gy, double dta_mm) {
  return std::fabs(s_mm) * g_gy_mm / std::sqrt(dd_gy * dd_gy + g_gy_mm * g_gy_mm * dta_mm * dta_mm);
}

double x_mm(const GammaResult& r, std::int64_t v) {
  const int i = int(v % r.grid.nx);
  return (r.grid.origin_cm.x + (i + 0.5) * r.grid.spacing_cm.x) * 10;
}

}  // namespace

TEST_CASE("trilinear interpolation reproduces a linear dose and refuses outside points",
          "[compare][gamma]") {
  const auto d = make_dose(6, 5, 4, {2, 3, 4}, {-10, 5, 0},
                           [](Vec3 p) { return 1 + 0.1 * p.x - 0.05 * p.y + 0.02 * p.z; });
  const sabre::compare::TrilinearDose t(d.grid, d.dose_gy);
  double v = 0;
  // Between centres: exact.
  REQUIRE(t.sample({-0.53, 1.21, 0.77}, v));
  CHECK(v == Approx(1 + 0.1 * -5.3 - 0.05 * 12.1 + 0.02 * 7.7).margin(1e-12));
  // Within half a voxel of the outer face: the edge value (x centre of voxel 0 is -9 mm).
  REQUIRE(t.sample({-0.95, 1.1, 0.2}, v));
  CHECK(v == Approx(1 + 0.1 * -9 - 0.05 * 11 + 0.02 * 2).margin(1e-12));
  // Outside the grid.
  CHECK_FALSE(t.sample({-1.01, 1.1, 0.2}, v));
  CHECK_FALSE(t.sample({0.0, 0.0, 0.2}, v));
}

TEST_CASE("a linear ramp shifted by a known distance: closed-form gamma, global and local",
          "[compare][gamma]") {
  const double g = 0.2;  // slope [Gy/mm]
  const auto ramp = [g](double x) { return 2 + g * x; };
  for (double s : {1.0, 2.5, 4.0}) {
    // Reference on 1 mm voxels from x = 0 to 40 mm; evaluated on a different grid
    // (0.7 mm voxels, offset origin), the same ramp shifted by +s along x.
    const auto ref = make_dose(40, 1, 1, {1, 1, 1}, {0, 0, 0}, [&](Vec3 p) { return ramp(p.x); });
    const auto ev = make_dose(80, 1, 1, {0.7, 1, 1}, {-8.13, 0, 0},
                              [&](Vec3 p) { return ramp(p.x - s); });
    for (bool local : {false, true}) {
      GammaCriteria c;
      c.dose_fraction = 0.03;
      c.distance_mm = 3;
      c.local = local;
      c.norm_dose_gy = 10;  // global dD = 0.3 Gy
      c.threshold_fraction = 0;
      const auto r = compute_gamma(ref, ev, c);
      int checked = 0;
      for (std::int64_t v = 0; v < r.grid.size(); ++v) {
        const double x = x_mm(r, v);
        if (x < 10 || x > 30) continue;  // keep the search away from the ends
        const double dd = local ? 0.03 * ramp(x) : 0.3;
        INFO("s = " << s << " mm, local = " << local << ", x = " << x << " mm");
        CHECK(r.gamma[v] == Approx(ramp_gamma(s, g, dd, 3)).margin(0.01));
        ++checked;
      }
      CHECK(checked == 20);
    }
  }
}

TEST_CASE("a sharp dose step shifted by two voxels: gamma from the distance to the plateau",
          "[compare][gamma]") {
  // 1 Gy below x = 20 mm, 3 Gy above (voxel centres at 0.5, 1.5, ... mm); the evaluated
  // step sits 2 mm further along x. On the grid the step is a ramp of 2 Gy/mm between
  // the centres 19.5 and 20.5 mm (evaluated: 21.5 and 22.5 mm).
  const auto step = [](double edge_mm) {
    return [edge_mm](Vec3 p) { return p.x < edge_mm ? 1.0 : 3.0; };
  };
  const auto ref = make_dose(40, 3, 3, {1, 1, 1}, {0, 0, 0}, step(20));
  const auto ev = make_dose(40, 3, 3, {1, 1, 1}, {0, 0, 0}, step(22));
  for (bool local : {false, true}) {
    GammaCriteria c;
    c.local = local;
    c.threshold_fraction = 0;
    const auto r = compute_gamma(ref, ev, c);
    // Reference voxels at x = 20.5 and 21.5 mm hold 3 Gy, the evaluated dose reaches 3 Gy
    // only from x = 22.5 mm: gamma is the 1-D ramp result with s = 2 and 1 mm, slope 2 Gy/mm
    // (dD = 0.09 Gy, global: 3 % of the 3 Gy maximum; local: 3 % of 3 Gy).
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) {
        CHECK(r.gamma[r.grid.index(20, j, k)] == Approx(ramp_gamma(2, 2, 0.09, 3)).margin(0.01));
        CHECK(r.gamma[r.grid.index(21, j, k)] == Approx(ramp_gamma(1, 2, 0.09, 3)).margin(0.01));
        CHECK(r.gamma[r.grid.index(22, j, k)] == Approx(0).margin(0.01));
        // Below the step both are 1 Gy.
        CHECK(r.gamma[r.grid.index(10, j, k)] == Approx(0).margin(0.01));
      }
    // The same by hand: 2 mm / 3 mm and 1 mm / 3 mm, to 0.01.
    CHECK(r.gamma[r.grid.index(20, 1, 1)] == Approx(2.0 / 3.0).margin(0.01));
    CHECK(r.gamma[r.grid.index(21, 1, 1)] == Approx(1.0 / 3.0).margin(0.01));
  }
}

TEST_CASE("a uniform dose scaled by a known factor: gamma = |ratio - 1| / dD",
          "[compare][gamma]") {
  const auto ref = make_dose(12, 10, 8, {2, 2, 2.5}, {-12, -10, -10}, [](Vec3) { return 2.0; });
  for (double f : {1.02, 0.985, 1.05, 0.9}) {
    const auto ev = make_dose(12, 10, 8, {2, 2, 2.5}, {-12, -10, -10}, [f](Vec3) { return 2.0 * f; });
    for (bool local : {false, true}) {
      GammaCriteria c;
      c.local = local;
      const auto r = compute_gamma(ref, ev, c);
      const double expected = std::fabs(f - 1) / 0.03;
      INFO("factor " << f << ", local = " << local);
      REQUIRE(r.evaluated == ref.grid.size());
      CHECK(r.max_gamma == Approx(expected).margin(0.01));
      CHECK(r.mean_gamma == Approx(expected).margin(0.01));
      CHECK(r.pass_rate_percent == (expected <= 1 ? 100.0 : 0.0));
      CHECK(r.difference.mean_gy == Approx(2 * (f - 1)).margin(1e-12));
      CHECK(r.difference.sd_gy == Approx(0).margin(1e-12));
    }
  }
}

TEST_CASE("a 3-D block pair worked by hand", "[compare][gamma]") {
  // Reference: 2 Gy in the 10x10x10 voxels i, j, k = 10..19 (2 mm voxels), 0 elsewhere.
  // Evaluated: the same block moved by +2 voxels in x and +1 in y (4 mm, 2 mm).
  auto block = [](int di, int dj) {
    return [di, dj](Vec3 p) {
      const int i = int(std::floor(p.x / 2)), j = int(std::floor(p.y / 2)),
                k = int(std::floor(p.z / 2));
      return (i >= 10 + di && i <= 19 + di && j >= 10 + dj && j <= 19 + dj && k >= 10 &&
              k <= 19)
                 ? 2.0
                 : 0.0;
    };
  };
  const auto ref = make_dose(32, 32, 30, {2, 2, 2}, {0, 0, 0}, block(0, 0));
  const auto ev = make_dose(32, 32, 30, {2, 2, 2}, {0, 0, 0}, block(2, 1));
  // Evaluated dose is 2 Gy exactly on the box spanned by the moved block's voxel centres and
  // falls steeply (1 Gy/mm) outside it, so gamma = (distance to that box) / 3 mm: a
  // reference voxel i = 10 is 4 mm short in x, i = 11 2 mm; j = 10 is 2 mm short in y.
  const auto hand = [](int i, int j) {
    const double dx = i >= 12 ? 0 : (12 - i) * 2.0, dy = j >= 11 ? 0 : (11 - j) * 2.0;
    return std::sqrt(dx * dx + dy * dy) / 3.0;
  };
  for (bool local : {false, true}) {
    GammaCriteria c;
    c.local = local;
    const auto r = compute_gamma(ref, ev, c);
    REQUIRE(r.evaluated == 1000);
    for (int k : {10, 14, 19})
      for (int i : {10, 11, 12, 15, 19})
        for (int j : {10, 11, 16, 19}) {
          INFO("voxel " << i << "," << j << "," << k << ", local = " << local);
          CHECK(r.gamma[r.grid.index(i, j, k)] == Approx(hand(i, j)).margin(0.01));
        }
    // i = 10 fails (gamma >= 4/3); i = 11, j = 10 passes (sqrt(8)/3 = 0.943): 90 % pass.
    CHECK(r.passed == 900);
    CHECK(r.pass_rate_percent == Approx(90.0).margin(1e-9));
    CHECK(r.max_gamma == Approx(std::sqrt(20.0) / 3).margin(0.01));
    // Voxels outside the reference block are not evaluated.
    CHECK(std::isnan(r.gamma[r.grid.index(5, 5, 5)]));
    CHECK(r.pass[r.grid.index(5, 5, 5)] == 255);
  }
}

TEST_CASE("the threshold, the search radius and the result do not depend on thread count",
          "[compare][gamma]") {
  const auto ref = make_dose(30, 24, 20, {2.5, 2.5, 2.5}, {-37.5, -30, -25}, [](Vec3 p) {
    return 10 * std::exp(-(p.x * p.x + p.y * p.y + p.z * p.z) / 400);
  });
  const auto ev = make_dose(26, 26, 22, {2.7, 2.3, 2.4}, {-35, -30, -26}, [](Vec3 p) {
    return 10.3 * std::exp(-((p.x - 1) * (p.x - 1) + p.y * p.y + p.z * p.z) / 380);
  });
  GammaCriteria c;
  c.dose_fraction = 0.02;
  c.distance_mm = 2;
  c.threads = 1;
  const auto r1 = compute_gamma(ref, ev, c);
  c.threads = 2;
  const auto r2 = compute_gamma(ref, ev, c);
  REQUIRE(r1.evaluated == r2.evaluated);
  CHECK(r1.passed == r2.passed);
  bool same = true;
  for (std::size_t v = 0; v < r1.gamma.size(); ++v)
    same = same && (std::isnan(r1.gamma[v]) ? std::isnan(r2.gamma[v]) : r1.gamma[v] == r2.gamma[v]);
  CHECK(same);
  // Threshold 10 % of the 10 Gy maximum: exactly the voxels with >= 1 Gy.
  std::int64_t above = 0;
  for (double d : ref.dose_gy) above += d >= 0.1 * r1.reference_max_gy;
  CHECK(r1.evaluated == above);
  CHECK(r1.max_search_mm == Approx(6.0));
  CHECK(r1.threshold_gy == Approx(0.1 * r1.reference_max_gy));
}

// Speed on a clinical-size grid (200 x 200 x 150 voxels of 2.5 mm): hidden from the default
// run; `sabre_engine_tests "[.gamma-speed]" -s` prints the figures.
TEST_CASE("gamma speed on a 200x200x150 grid at 2.5 mm", "[.gamma-speed]") {
  // An SBRT-like dose: a 10 Gy spherical target region with penumbra, plus a low-dose bath;
  // the evaluated dose is shifted by 1 mm, scaled by 1.01 and carries a 1.5 % ripple.
  const auto dose = [](Vec3 p, double shift_mm, double scale, double ripple) {
    const double r = std::sqrt((p.x - shift_mm) * (p.x - shift_mm) + p.y * p.y + p.z * p.z);
    const double core = 10.0 / (1 + std::exp((r - 25) / 3.0));
    const double bath = 1.5 * std::exp(-(p.x * p.x + p.y * p.y) / (2 * 60.0 * 60.0));
    return scale * (core + bath) * (1 + ripple * std::sin(p.x * 1.3) * std::cos(p.y * 0.7 + p.z));
  };
  const auto ref = make_dose(200, 200, 150, {2.5, 2.5, 2.5}, {-250, -250, -187.5},
                             [&](Vec3 p) { return dose(p, 0, 1, 0); });
  for (double worse : {1.0, 3.0})
  for (bool local : {false, true}) {
    // worse = 3: shifted by 3 mm, scaled by 1.03, 4.5 % ripple (many failing points).
    const auto ev = make_dose(200, 200, 150, {2.5, 2.5, 2.5}, {-250, -250, -187.5},
                              [&](Vec3 p) { return dose(p, worse, 1 + 0.01 * worse, 0.015 * worse); });
    GammaCriteria c;
    c.local = local;
    const auto r = compute_gamma(ref, ev, c);
    WARN("x" << worse << (local ? " local" : " global") << " 3%/3mm: " << r.evaluated << " points, pass "
                                      << r.pass_rate_percent << " %, " << r.seconds << " s on "
                                      << r.threads << " threads, cells minimised "
                                      << r.cells_minimised);
    CHECK(r.seconds < 10);
  }
}

TEST_CASE("a zero threshold evaluates every voxel globally, and only dosed voxels locally",
          "[compare][gamma]") {
  const auto ref = make_dose(10, 4, 3, {2, 2, 2}, {0, 0, 0}, [](Vec3 p) { return p.x < 10 ? 0.0 : 2.0; });
  GammaCriteria c;
  c.threshold_fraction = 0;
  const auto g = compute_gamma(ref, ref, c);
  CHECK(g.evaluated == 120);
  CHECK(g.pass_rate_percent == 100.0);
  c.local = true;
  const auto l = compute_gamma(ref, ref, c);
  CHECK(l.evaluated == 60);
  CHECK(l.max_gamma == 0.0);
}

TEST_CASE("the maximum search distance limits the positions searched", "[compare][gamma]") {
  // The 2-mm-shifted step again: the reference voxel at x = 20.5 mm (3 Gy) needs a position
  // 2 mm away. Within 1 mm the evaluated dose is 1 Gy at most: gamma = 2 Gy / 0.09 Gy at
  // the point itself. Within 1.5 mm the best is the sphere's edge on the ramp, x = 22 mm
  // (2 Gy): gamma = sqrt((1.5/3)^2 + (1/0.09)^2).
  const auto ref = make_dose(40, 3, 3, {1, 1, 1}, {0, 0, 0}, [](Vec3 p) { return p.x < 20 ? 1.0 : 3.0; });
  const auto ev = make_dose(40, 3, 3, {1, 1, 1}, {0, 0, 0}, [](Vec3 p) { return p.x < 22 ? 1.0 : 3.0; });
  GammaCriteria c;
  c.threshold_fraction = 0;
  c.max_search_mm = 1.0;
  auto r = compute_gamma(ref, ev, c);
  CHECK(r.gamma[r.grid.index(20, 1, 1)] == Approx(2 / 0.09).margin(0.01));
  c.max_search_mm = 1.5;
  r = compute_gamma(ref, ev, c);
  CHECK(r.gamma[r.grid.index(20, 1, 1)] == Approx(std::sqrt(0.25 + 1 / (0.09 * 0.09))).margin(0.01));
  c.max_search_mm = 2.5;
  r = compute_gamma(ref, ev, c);
  CHECK(r.gamma[r.grid.index(20, 1, 1)] == Approx(ramp_gamma(2, 2, 0.09, 3)).margin(0.01));
}
