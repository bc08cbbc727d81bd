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
  double total = 0;
  for (double e : run.energy_mev) total += e;
  CHECK(total == Approx(run.balance.deposited_mev + run.balance.below_cut_mev).epsilon(1e-9));
  // Dose = E / N / (rho V) in Gy, for one voxel by hand.
  const GridGeometry& g = box.tp.phantom.grid;
  const std::int64_t v = g.index(5, 5, 2);
  const double mass_kg = 1.0 * 1.0 * 1e-3;
  CHECK(run.dose.dose_gy[v] == Approx(run.energy_mev[v] / 10000 * 1.602176634e-13 / mass_kg));
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
  use_phantom_majorant(tp, maj);
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
