// Simple sources: spectrum readers (EGSnrc .spectrum, CSV), spectrum sampling, field
// geometry of point and parallel sources.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "beams/source.hh"
#include "beams/spectrum.hh"
#include "core/errors.hh"
#include "tests/support/skip.hh"

using namespace sabre;
using namespace sabre::beams;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "sabre_source_test";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST_CASE("EGSnrc .spectrum: counts per MeV and per bin", "[beams][spectrum]") {
  const auto f1 = write_tmp("a.spectrum", "title\n 3, 0.5, 1\n 1.0, 2.0\n 2.0, 1.0\n 4.0, 0.5\n");
  const Spectrum s = load_spectrum(f1);
  REQUIRE(s.probability.size() == 3);
  // counts/MeV x width: 1.0, 1.0, 1.0 -> 1/3 each
  for (double p : s.probability) CHECK(p == Approx(1.0 / 3));
  CHECK(s.edges_lo_mev[0] == 0.5);
  CHECK(s.mean_energy_mev() == Approx((0.75 + 1.5 + 3.0) / 3));
  const auto f0 = write_tmp("b.spectrum", "title\n 2, 0, 0\n 1.0, 3\n 2.0, 1\n");
  const Spectrum s0 = load_spectrum(f0);
  CHECK(s0.probability[0] == Approx(0.75));
}

TEST_CASE("Spectrum errors name the file and the problem", "[beams][spectrum]") {
  const auto bad_mode = write_tmp("c.spectrum", "t\n 1, 0, 3\n 1.0, 1\n");
  CHECK_THROWS_AS(load_spectrum(bad_mode), InputError);
  const auto short_f = write_tmp("d.spectrum", "t\n 3, 0, 1\n 1.0, 1\n");
  try {
    load_spectrum(short_f);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("d.spectrum") != std::string::npos);
    CHECK(std::string(e.what()).find("expected 3 bins") != std::string::npos);
  }
  // Numbers too large for an int are refused before any conversion (found by the text fuzz
  // harness: MODE 2.2e16 was converted to int, undefined behaviour).
  for (const char* head : {" 4, 1, 22100022100022210", " 1e30, 0, 1", " -3, 0, 1", " 2.5, 0, 1", " 1, 0, nan"}) {
    const auto f = write_tmp("g.spectrum", std::string("t\n") + head + "\n 1.0, 1\n");
    try {
      load_spectrum(f);
      FAIL("no error for " << head);
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("line 2") != std::string::npos);
    }
  }
  // An unsupported MODE is named as read (the CLI test matches this message).
  try {
    load_spectrum(write_tmp("m.spectrum", "t\n 1, 0, 7\n 1.0, 1\n"));
    FAIL("no error for MODE 7");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("line 2: MODE 7 is not supported") != std::string::npos);
  }
  CHECK_THROWS_AS(load_spectrum(write_tmp("e.txt", "x")), InputError);
  CHECK_THROWS_AS(load_spectrum("/nonexistent/x.csv"), InputError);
  CHECK_THROWS_AS(load_spectrum(write_tmp("f.csv", "e_lo_MeV,e_hi_MeV,w\n1,0.5,1\n")), InputError);
}

TEST_CASE("CSV spectrum with a named column and a gap", "[beams][spectrum]") {
  const auto f = write_tmp("g.csv", "# comment\ne_lo_MeV,e_hi_MeV,p_a,p_b\n0,1,1,0\n2,3,1,1\n");
  const Spectrum a = load_spectrum(f);
  CHECK(a.probability[0] == Approx(0.5));
  const Spectrum b = load_spectrum(f, "p_b");
  CHECK(b.probability[0] == 0);
  CHECK(b.probability[1] == 1);
  // the gap 1..2 MeV is never sampled
  const SpectrumView v = a.view();
  REQUIRE(v.n_bins == 3);
  phys::Rng rng(1, 0, phys::kStreamTest);
  int low = 0;
  for (int i = 0; i < 100000; ++i) {
    const double e = v.sample(rng);
    REQUIRE(((e >= 0 && e <= 1) || (e >= 2 && e <= 3)));
    low += e < 1.5;
  }
  CHECK(std::abs(low - 50000) < 5 * 158);  // binomial sigma = 158
}

TEST_CASE("The Mohan 6 MV spectrum samples its mean energy", "[beams][spectrum]") {
  const std::string shared = sabre::test::shared_dir();
  if (shared.empty()) {
    sabre::test::skip("../shared absent");
    return;
  }
  const std::string dir = shared + "/data/reference/egsnrc/R1-water-6MV-10x10/";
  const Spectrum s = load_spectrum(dir + "mohan6.spectrum");
  CHECK(s.probability.size() == 24);
  CHECK(s.mean_energy_mev() == Approx(1.8985).margin(5e-4));  // README: nominal mean 1.8985
  const Spectrum t = load_spectrum(dir + "mohan6_spectrum_as_sampled.csv", "p_sampled");
  CHECK(t.mean_energy_mev() == Approx(1.9007).margin(5e-4));  // README: as sampled 1.9007
  // sampling: mean of 10^6 draws within 4 standard errors (sigma_E ~ 1.2 MeV)
  const SpectrumView v = s.view();
  phys::Rng rng(2, 0, phys::kStreamTest);
  double sum = 0;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) sum += v.sample(rng);
  CHECK(std::abs(sum / n - s.mean_energy_mev()) < 4 * 1.3 / std::sqrt(double(n)));
}

TEST_CASE("Point source: uniform fluence over the field rectangle", "[beams][source]") {
  SimpleSource s;
  s.shape = SourceShape::point;
  s.position_cm = {0, 0, -100};
  s.field_centre_cm = {0, 0, 0};
  s.u_min_cm = -5;
  s.u_max_cm = 5;
  s.v_min_cm = -2;
  s.v_max_cm = 2;
  phys::Rng rng(3, 0, phys::kStreamTest);
  int left = 0;
  for (int i = 0; i < 100000; ++i) {
    const phys::Particle p = s.sample(rng);
    REQUIRE(p.pos_cm.z == -100);
    const double t = 100 / p.dir.z;  // reach z = 0
    const double x = p.dir.x * t, y = p.dir.y * t;
    REQUIRE(std::abs(x) <= 5 + 1e-9);
    REQUIRE(std::abs(y) <= 2 + 1e-9);
    REQUIRE(std::sqrt(phys::dot(p.dir, p.dir)) == Approx(1.0));
    left += x < -2.5;  // a quarter of the width
  }
  CHECK(std::abs(left - 25000) < 5 * 137);
}

TEST_CASE("Parallel source starts on the field plane along the axis", "[beams][source]") {
  SimpleSource s;
  s.shape = SourceShape::parallel;
  s.axis = {0, 0, 1};
  s.field_centre_cm = {1, 2, -3};
  s.u_min_cm = s.v_min_cm = -0.5;
  s.u_max_cm = s.v_max_cm = 0.5;
  s.mono_energy_mev = 1.25;
  phys::Rng rng(4, 0, phys::kStreamTest);
  for (int i = 0; i < 1000; ++i) {
    const phys::Particle p = s.sample(rng);
    CHECK(p.energy_mev == 1.25);
    CHECK(p.dir.z == 1);
    CHECK(p.pos_cm.z == -3);
    CHECK(std::abs(p.pos_cm.x - 1) <= 0.5);
    CHECK(std::abs(p.pos_cm.y - 2) <= 0.5);
  }
}

// Issue 26: the two point-source conventions against the analytic solid angle of a rectangle
// seen from a point on its axis, Omega(a, b, d) = 4 atan(a b / (d sqrt(d^2 + a^2 + b^2))) for
// half-sides a, b at distance d (an independent, exact reference).
//   area         uniform per unit area: the share of histories aimed into the central square
//                [-s, s]^2 is its share of the area, and the planar fluence on the axis is
//                1/A per history;
//   solid_angle  uniform per solid angle (DOSXYZnrc source 3): that share is
//                Omega(s, s, d) / Omega(a, b, d), and the on-axis planar fluence is
//                1 / (d^2 Omega), i.e. A / (d^2 Omega) = 1.0025 times the area source's for
//                10 x 10 cm^2 at SSD 100 (the 0.25 % of the issue).
// Two estimates per convention: the central-square share by counting (assumes nothing about
// the shape; binomial sigma), and a weighted mean with a far smaller sigma: for solid_angle
// the mean of 1/cos^3(theta), which is the on-axis fluence ratio f(0) A when the density is
// proportional to cos^3; for area the mean of cos^3(theta), which is d^2 Omega / A = 1/1.0025
// when the density is flat per area (and 1 would show directions uniform per solid angle).
// Tolerance: 4 sigma each.
TEST_CASE("Point source conventions: area and solid angle against the analytic solid angle",
          "[beams][source]") {
  const double d = 100, a = 5, b = 5, s = 3.5;
  auto omega = [d](double x, double y) { return 4 * std::atan(x * y / (d * std::sqrt(d * d + x * x + y * y))); };
  const double ratio_exact = (4 * a * b) / (d * d * omega(a, b));
  CHECK(ratio_exact == Approx(1.0025).epsilon(2e-4));  // the 0.25 %
  for (const PointSampling conv : {PointSampling::area, PointSampling::solid_angle}) {
    SimpleSource src;
    src.shape = SourceShape::point;
    src.point_sampling = conv;
    src.position_cm = {0, 0, -d};
    src.field_centre_cm = {0, 0, 0};
    src.u_min_cm = src.v_min_cm = -a;
    src.u_max_cm = src.v_max_cm = a;
    phys::Rng rng(11, 0, phys::kStreamTest);
    const int n = 20000000;
    std::int64_t inside = 0;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
      const phys::Particle p = src.sample(rng);
      const double t = d / p.dir.z;
      inside += std::abs(p.dir.x * t) < s && std::abs(p.dir.y * t) < s;
      const double c3 = p.dir.z * p.dir.z * p.dir.z;
      const double w = conv == PointSampling::solid_angle ? 1 / c3 : c3;
      sum += w;
      sum2 += w * w;
    }
    const bool sa = conv == PointSampling::solid_angle;
    const double share_expect = sa ? omega(s, s) / omega(a, b) : (s * s) / (a * b);
    const double share = double(inside) / n;
    const double share_sigma = std::sqrt(share_expect * (1 - share_expect) / n);
    const double ratio = sum / n;
    const double ratio_sigma = std::sqrt(std::max(0.0, sum2 / n - ratio * ratio) / n);
    const double ratio_expect = sa ? ratio_exact : 1 / ratio_exact;
    INFO((sa ? "solid_angle" : "area") << ": central-square share " << share << " (expected " << share_expect
                                        << ", sigma " << share_sigma << "), " << (sa ? "<1/cos^3> " : "<cos^3> ") << ratio
                                        << " (expected " << ratio_expect << ", sigma " << ratio_sigma << ")");
    CHECK(std::abs(share - share_expect) < 4 * share_sigma);
    CHECK(std::abs(ratio - ratio_expect) < 4 * ratio_sigma);
    // the two conventions differ by more than the counting test resolves
    const double other = sa ? (s * s) / (a * b) : omega(s, s) / omega(a, b);
    CHECK(std::abs(share - other) > 4 * share_sigma);
  }
}
