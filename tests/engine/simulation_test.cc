// The host batch runner: bit-identical dose on 1 and 2 threads (acceptance 7, photon
// transport with a test double for electrons; the full-physics version is in
// tests/kernels/), batch statistics against a hand calculation, dose units.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "beams/source.hh"
#include "core/build_info.hh"
#include "engine/simulation.hh"
#include "kernels/charged_policy.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/majorant.hh"
#include "tests/support/skip.hh"
#include "tests/physics/photon/hand_tables.hh"

using namespace sabre;
using namespace sabre::phys;

namespace {

struct DepositChargedHere {  // TEST DOUBLE: kerma approximation for e-/e+
  template <class Scorer, class Stack>
  static void transport(const TransportParams& tp, Particle& p, Rng&, Scorer& scorer, Stack&) {
    const std::int64_t v = voxel_clamped(tp.phantom.grid, p.pos_cm);
    if (p.type == ParticleType::positron) {
      scorer.rest_mass(2 * kElectronMassMeV);
      scorer.deposit(v, p.energy_mev + 2 * kElectronMassMeV);
    } else {
      scorer.deposit(v, p.energy_mev);
    }
  }
};

struct Box {
  std::vector<std::int32_t> mat;
  std::vector<float> rho;
  TransportParams tp;
  explicit Box(const MaterialData& md) {
    GridGeometry g;
    g.origin_cm = {-5, -5, 0};
    g.spacing_cm = {1, 1, 1};
    g.nx = g.ny = g.nz = 10;
    mat.assign(g.size(), 0);
    rho.assign(g.size(), 1.0f);
    for (int j = 0; j < 10; ++j)
      for (int i = 0; i < 10; ++i) {
        mat[g.index(i, j, 4)] = 1;
        rho[g.index(i, j, 4)] = 1.85f;
      }
    tp.phantom.grid = g;
    tp.phantom.material = mat.data();
    tp.phantom.density_g_cm3 = rho.data();
    tp.phantom.max_density_g_cm3 = 1.85f;
    tp.materials = md;
  }
};

beams::SimpleSource field_source() {
  beams::SimpleSource s;
  s.shape = beams::SourceShape::point;
  s.position_cm = {0, 0, -100};
  s.field_centre_cm = {0, 0, 0};
  s.u_min_cm = s.v_min_cm = -3;
  s.u_max_cm = s.v_max_cm = 3;
  s.mono_energy_mev = 6;
  return s;
}

}  // namespace

TEST_CASE("Same seed on 1 and 2 threads, twice each: bit-identical dose", "[engine][determinism]") {
  sabre::test::HandTables tables;
  Box box(tables.data);
  const auto src = field_source();
  std::vector<SimulationRun> runs;
  for (int threads : {1, 2, 1, 2}) {
    SimulationSettings s;
    s.histories = 20000;
    s.batches = 10;
    s.seed = 77;
    s.threads = threads;
    s.chunk = 37;  // not a divisor of the batch size: chunks straddle differently
    runs.push_back(simulate<DepositChargedHere>(box.tp, src, s));
  }
  const auto& ref = runs[0];
  REQUIRE(ref.dose.mean_rel_uncertainty_50 > 0);
  for (size_t r = 1; r < runs.size(); ++r) {
    REQUIRE(runs[r].dose.dose_gy.size() == ref.dose.dose_gy.size());
    CHECK(std::memcmp(runs[r].dose.dose_gy.data(), ref.dose.dose_gy.data(),
                      ref.dose.dose_gy.size() * sizeof(double)) == 0);
    CHECK(std::memcmp(runs[r].dose.rel_uncertainty.data(), ref.dose.rel_uncertainty.data(),
                      ref.dose.rel_uncertainty.size() * sizeof(double)) == 0);
    CHECK(runs[r].dose.mean_rel_uncertainty_50 == ref.dose.mean_rel_uncertainty_50);
  }
  // a different seed gives a different dose
  SimulationSettings s;
  s.histories = 20000;
  s.seed = 78;
  const auto other = simulate<DepositChargedHere>(box.tp, src, s);
  CHECK(std::memcmp(other.dose.dose_gy.data(), ref.dose.dose_gy.data(),
                    ref.dose.dose_gy.size() * sizeof(double)) != 0);
}

TEST_CASE("Run energy balance, dose units and batch statistics", "[engine]") {
  sabre::test::HandTables tables;
  Box box(tables.data);
  const auto src = field_source();
  SimulationSettings s;
  s.histories = 10000;
  s.batches = 10;
  s.seed = 3;
  s.threads = 2;
  const auto run = simulate<DepositChargedHere>(box.tp, src, s);
  CHECK(run.balance.histories == 10000);
  CHECK(run.balance.emitted_mev == Approx(6.0 * 10000).epsilon(1e-12));
  CHECK(std::abs(run.balance.relative_imbalance()) < 1e-9);
  // Fixed-point total against the double balance: deposits rounded to 2^-32 MeV each.
  const std::vector<double> energy = run.tally.energy_mev();  // [voxel] MeV
  double total = 0;
  for (double e : energy) total += e;
  CHECK(total == Approx(run.balance.deposited_mev + run.balance.below_cut_mev).epsilon(1e-9));
  // Dose = E / N / (rho V) in Gy, for one voxel by hand.
  const GridGeometry& g = box.tp.phantom.grid;
  const std::int64_t v = g.index(5, 5, 2);
  const double mass_kg = 1.0 * 1.0 * 1e-3;
  CHECK(run.dose.dose_gy[v] == Approx(energy[v] / 10000 * 1.602176634e-13 / mass_kg));
  CHECK(run.dose.histories == 10000);
  CHECK(run.dose.batches == 10);
  CHECK(run.dose.dose_unit == "Gy/history");
  CHECK(run.dose.rel_uncertainty[v] > 0);
}

TEST_CASE("Batch uncertainty follows the documented formula", "[engine]") {
  // A fake transport depositing (h mod 7) MeV in voxel 0 and 1 MeV in voxel 1 for
  // history h: batch sums known exactly, so the batch formula can be done by hand.
  std::vector<std::int32_t> mat(2, 0);
  std::vector<float> rho{1.0f, 2.0f};
  PhantomView ph;
  ph.grid.spacing_cm = {1, 1, 1};
  ph.grid.nx = 2;
  ph.grid.ny = ph.grid.nz = 1;
  ph.material = mat.data();
  ph.density_g_cm3 = rho.data();
  SimulationSettings s;
  s.histories = 1003;  // not a multiple of the batch count
  s.batches = 10;
  s.threads = 2;
  HistoryRangeFn fn = [](std::uint64_t first, std::uint64_t count, kernels::HostScorer& sc,
                         kernels::HostStack&) {
    for (std::uint64_t h = first; h < first + count; ++h) {
      sc.deposit(0, double(h % 7));
      sc.deposit(1, 1.0);
    }
  };
  const auto run = run_batches(ph, s, fn);
  double sx = 0, sx2 = 0, total = 0;
  for (int b = 0; b < 10; ++b) {
    const long a = 1003L * b / 10, e = 1003L * (b + 1) / 10;
    double sum = 0;
    for (long h = a; h < e; ++h) sum += double(h % 7);
    total += sum;
    sx += sum / double(e - a);
    sx2 += (sum / double(e - a)) * (sum / double(e - a));
  }
  const double mean = sx / 10, var = (sx2 - 10 * mean * mean) / 9;
  CHECK(run.dose.rel_uncertainty[0] == Approx(std::sqrt(var / 10) / mean).epsilon(1e-9));
  CHECK(run.dose.dose_gy[0] == Approx(total / 1003 * 1.602176634e-13 / 1e-3).epsilon(1e-12));
  CHECK(run.dose.rel_uncertainty[1] < 1e-12);  // identical batches: no spread
  CHECK(run.dose.dose_gy[1] == Approx(1.0 * 1.602176634e-13 / 2e-3).epsilon(1e-12));
}

TEST_CASE("Progress hook sees each batch and can stop the run", "[engine]") {
  sabre::test::HandTables tables;
  Box box(tables.data);
  const auto src = field_source();
  SimulationSettings s;
  s.histories = 5000;
  s.batches = 10;
  std::vector<int> seen;
  const auto run = simulate<DepositChargedHere>(box.tp, src, s, [&](const BatchProgress& p) {
    seen.push_back(p.batches_done);
    if (p.batches_done >= 2) CHECK(p.mean_rel_uncertainty_50 > 0);
    return p.batches_done < 4;
  });
  CHECK(seen == std::vector<int>{1, 2, 3, 4});
  CHECK(run.dose.batches == 4);
  CHECK(run.dose.histories == 2000);
}

TEST_CASE("mean relative uncertainty over voxels above half the maximum", "[engine]") {
  const std::vector<double> d{1.0, 0.6, 0.5, 0.1};
  const std::vector<double> u{0.01, 0.03, 0.5, 0.9};
  CHECK(mean_rel_uncertainty_above_half_max(d, u) == Approx(0.02));
}

TEST_CASE("Full physics: same seed on 1 and 2 threads, twice each, bit-identical dose",
          "[engine][determinism]") {
  // Acceptance 7 with the shipped tables and the production electron transport: a water
  // phantom with bone and lung slabs, 6 MeV photons in a 4 x 4 cm field.
  const std::string path =
      (std::filesystem::path(build::data_dir()) / "physics" / "data" / "default.h5").string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    sabre::test::skip("no physics table file at " + path);
    return;
  }
  if (!kernels::kChargedTransportAvailable) {
    sabre::test::skip("no charged-particle transport in this build");
    return;
  }
  const MaterialTables t(path);
  GridGeometry g;
  g.origin_cm = {-4, -4, 0};
  g.spacing_cm = {1, 1, 0.5};
  g.nx = g.ny = 8;
  g.nz = 24;
  std::vector<std::int32_t> mat(g.size(), t.index("water"));
  std::vector<float> rho(g.size(), 1.0f);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        if (k >= 4 && k < 8) { mat[g.index(i, j, k)] = t.index("bone_cortical"); rho[g.index(i, j, k)] = 1.85f; }
        if (k >= 10 && k < 18) { mat[g.index(i, j, k)] = t.index("lung"); rho[g.index(i, j, k)] = 0.26f; }
      }
  TransportParams tp;
  tp.phantom.grid = g;
  tp.phantom.material = mat.data();
  tp.phantom.density_g_cm3 = rho.data();
  tp.phantom.max_density_g_cm3 = 1.85f;
  tp.materials = t.data();
  std::vector<double> maj;
  use_phantom_majorant(tp, material_density_range(tp), maj);
  beams::SimpleSource src;
  src.position_cm = {0, 0, -100};
  src.u_min_cm = src.v_min_cm = -2;
  src.u_max_cm = src.v_max_cm = 2;
  src.mono_energy_mev = 6;
  std::vector<SimulationRun> runs;
  for (int threads : {1, 2, 1, 2}) {
    SimulationSettings s;
    s.histories = 4000;
    s.batches = 10;
    s.seed = 123;
    s.threads = threads;
    s.chunk = 13;
    runs.push_back(simulate<kernels::ProductionCharged>(tp, src, s));
  }
  const auto& ref = runs[0];
  double total = 0;
  for (double d : ref.dose.dose_gy) total += d;
  REQUIRE(total > 0);
  CHECK(std::abs(ref.balance.relative_imbalance()) < 1e-9);
  for (size_t r = 1; r < runs.size(); ++r) {
    CHECK(std::memcmp(runs[r].dose.dose_gy.data(), ref.dose.dose_gy.data(),
                      ref.dose.dose_gy.size() * sizeof(double)) == 0);
    CHECK(std::memcmp(runs[r].dose.rel_uncertainty.data(), ref.dose.rel_uncertainty.data(),
                      ref.dose.rel_uncertainty.size() * sizeof(double)) == 0);
  }
}

// ---- region tallies (engine/simulation.hh) ---------------------------------------------

TEST_CASE("Region tallies: per-batch region energies, and the dose bits unchanged", "[engine][region]") {
  sabre::test::HandTables tables;
  Box box(tables.data);
  const auto src = field_source();
  const GridGeometry& g = box.tp.phantom.grid;
  std::vector<std::vector<std::uint8_t>> regions(2, std::vector<std::uint8_t>(g.size(), 0));
  for (int k = 1; k < 4; ++k)
    for (int j = 3; j < 7; ++j)
      for (int i = 3; i < 7; ++i) regions[0][g.index(i, j, k)] = 1;
  for (std::int64_t v = 0; v < g.size(); ++v) regions[1][v] = 1;  // everything
  for (const bool open_ended : {false, true}) {
    SimulationSettings s;
    s.histories = 10000;
    s.batches = 10;
    s.seed = 17;
    s.threads = 2;
    if (open_ended) s.batch_histories = 900;  // 12 batches, the last one short
    const auto plain = simulate<DepositChargedHere>(box.tp, src, s);
    s.regions = &regions;
    int hook_calls = 0;
    const auto tallied = simulate<DepositChargedHere>(box.tp, src, s, [&](const BatchProgress& p) {
      ++hook_calls;
      REQUIRE(p.region_energy_mev);
      CHECK(p.region_energy_mev->size() == 2);
      CHECK(int(p.batch_histories->size()) == p.batches_done);
      CHECK(int((*p.region_energy_mev)[0].size()) == p.batches_done);
      return true;
    });
    // Bit-identical dose and uncertainty with and without the tallies.
    CHECK(std::memcmp(plain.dose.dose_gy.data(), tallied.dose.dose_gy.data(),
                      plain.dose.dose_gy.size() * sizeof(double)) == 0);
    CHECK(std::memcmp(plain.dose.rel_uncertainty.data(), tallied.dose.rel_uncertainty.data(),
                      plain.dose.rel_uncertainty.size() * sizeof(double)) == 0);
    CHECK(plain.region_energy_mev.empty());
    const int nb = tallied.dose.batches;
    CHECK(nb == (open_ended ? 12 : 10));
    CHECK(hook_calls == nb);
    REQUIRE(tallied.region_energy_mev.size() == 2);
    REQUIRE(int(tallied.batch_histories.size()) == nb);
    std::int64_t n = 0;
    for (int b = 0; b < nb; ++b) {
      const auto [first, last] = batch_range(s, b);
      CHECK(tallied.batch_histories[b] == last - first);
      n += tallied.batch_histories[b];
    }
    CHECK(n == 10000);
    // The region sums add up to the per-voxel totals over the region.
    const std::vector<double> energy = tallied.tally.energy_mev();
    for (int r = 0; r < 2; ++r) {
      double voxels = 0, batches = 0;
      for (std::int64_t v = 0; v < g.size(); ++v)
        if (regions[r][v]) voxels += energy[v];
      for (double e : tallied.region_energy_mev[r]) batches += e;
      CHECK(batches == Approx(voxels).epsilon(1e-12));
      CHECK(batches > 0);
    }
  }
}

TEST_CASE("region_batch_mean follows the documented formula", "[engine][region]") {
  const std::vector<double> e{10, 12, 9, 11};
  const std::vector<std::int64_t> n{100, 100, 100, 100};
  const RegionEstimate r = region_batch_mean(e, n);
  // x_b = 0.10, 0.12, 0.09, 0.11: mean 0.105, sum of squares 0.0005
  CHECK(r.batches == 4);
  CHECK(r.mean_per_history == Approx(0.105).epsilon(1e-14));
  CHECK(r.rel_uncertainty == Approx(std::sqrt(0.0005 / 12) / 0.105).epsilon(1e-12));
  CHECK(region_batch_mean({5.0}, {10}).rel_uncertainty == 0);
}

namespace {

// splitmix64: a counter-based stand-in for transport in the estimator test below.
std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

TEST_CASE("The batch estimate of a region mean's uncertainty agrees with independent repeats; "
          "the per-voxel errors in quadrature do not", "[engine][region]") {
  // A fake transport with fully correlated voxels, its variance known exactly: a history
  // deposits 1 MeV in each of the 8 voxels of the region with probability p = 0.1 (one
  // "track" through all of them), else nothing. The region's energy per history X is 8
  // (p) or 0: mean 8p, variance 64 p (1 - p), so the relative 1-sigma of the region mean over
  // N histories is sqrt((1 - p) / (p N)) = 3 / sqrt(N). The voxel errors in quadrature give
  // that divided by sqrt(8) (they assume independent voxels).
  //
  // K = 400 independent repeats (seeds 1..400, fixed), each 10 batches of 1000 histories.
  // Statistics of the checks (normal approximation; batch means of 1000 Bernoulli draws are
  // close to normal): the mean over K of the batch variance estimates (9 degrees of freedom
  // each) has relative 1-sigma sqrt(2 / 9) / sqrt(K) = 2.4 %; the variance of the K region
  // means, sqrt(2 / (K - 1)) = 7.1 %; their ratio about 7.5 %. Bounds of 3.3 sigma (two-sided
  // 99.9 % for a correct estimator): 8 %, 24 % and 25 %.
  constexpr int K = 400, B = 10;
  constexpr std::int64_t n_batch = 1000, N = B * n_batch;
  constexpr double p = 0.1;
  std::vector<std::int32_t> mat(16, 0);
  std::vector<float> rho(16, 1.0f);
  PhantomView ph;
  ph.grid.spacing_cm = {1, 1, 1};
  ph.grid.nx = 16;
  ph.grid.ny = ph.grid.nz = 1;
  ph.material = mat.data();
  ph.density_g_cm3 = rho.data();
  const std::vector<std::vector<std::uint8_t>> regions{{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}};
  const double true_rel = std::sqrt((1 - p) / (p * double(N)));  // 3 %
  double sum_mean = 0, sum_mean2 = 0, sum_var_batch = 0, sum_var_quad = 0;
  for (int k = 1; k <= K; ++k) {
    const std::uint64_t seed = std::uint64_t(k);
    HistoryRangeFn fn = [seed](std::uint64_t first, std::uint64_t count, kernels::HostScorer& sc,
                               kernels::HostStack&) {
      for (std::uint64_t h = first; h < first + count; ++h) {
        const double u = double(mix64(mix64(seed) ^ h) >> 11) * 0x1.0p-53;
        if (u < p)
          for (int v = 0; v < 8; ++v) sc.deposit(v, 1.0);
        sc.deposit(8 + int(h % 8), 0.5);  // outside the region
      }
    };
    SimulationSettings s;
    s.histories = N;
    s.batches = B;
    s.threads = 1;
    s.regions = &regions;
    const auto run = run_batches(ph, s, fn);
    const RegionEstimate e = region_batch_mean(run.region_energy_mev[0], run.batch_histories);
    const double m = e.mean_per_history / (8 * p);  // relative to the true mean
    sum_mean += m;
    sum_mean2 += m * m;
    sum_var_batch += e.rel_uncertainty * e.rel_uncertainty;
    // The old estimate: voxel errors in quadrature (calibration.cc's axis_dose).
    double sum = 0, var = 0;
    for (int v = 0; v < 8; ++v) {
      sum += run.dose.dose_gy[v];
      var += std::pow(run.dose.dose_gy[v] * run.dose.rel_uncertainty[v], 2);
    }
    if (sum > 0) sum_var_quad += var / (sum * sum);
  }
  const double mean_m = sum_mean / K;
  const double var_repeats = (sum_mean2 - K * mean_m * mean_m) / (K - 1);  // relative, of the region mean
  const double var_batch = sum_var_batch / K;
  const double var_quad = sum_var_quad / K;
  const double var_true = true_rel * true_rel;
  INFO("relative 1-sigma: true " << true_rel << ", batch estimate (rms) " << std::sqrt(var_batch)
                                 << ", spread of repeats " << std::sqrt(var_repeats) << ", quadrature (rms) "
                                 << std::sqrt(var_quad));
  CHECK(std::abs(mean_m - 1) < 3.3 * true_rel / std::sqrt(double(K)));  // unbiased mean
  CHECK(std::abs(var_batch / var_true - 1) < 0.08);
  CHECK(std::abs(var_repeats / var_true - 1) < 0.24);
  CHECK(std::abs(var_batch / var_repeats - 1) < 0.25);
  // The quadrature estimate is about 8 times too small in variance: far outside the bounds.
  CHECK(var_quad / var_repeats < 0.25);
  CHECK(var_quad / var_true == Approx(1.0 / 8).epsilon(0.1));
}
