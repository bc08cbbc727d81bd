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
