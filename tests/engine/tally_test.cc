// engine/tally: exact, order-free batch tallies (issue 22). Parts of a run merged, and a run
// resumed from a checkpoint, give the dose and uncertainty of one run bit for bit; the
// statistics follow the documented batch formula; overflow is an error, not a wrong dose.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

#include "core/errors.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/tally_hdf5.hh"
#include "engine/simulation.hh"

using namespace sabre;
using namespace sabre::phys;

namespace {

struct Line {  // a 1 x 1 x 3 phantom
  std::vector<std::int32_t> mat{0, 0, 0};
  std::vector<float> rho{1.0f, 0.25f, 1.85f};
  PhantomView view() const {
    PhantomView ph;
    ph.grid.spacing_cm = {1, 1, 1};
    ph.grid.nx = 3;
    ph.grid.ny = ph.grid.nz = 1;
    ph.material = mat.data();
    ph.density_g_cm3 = rho.data();
    ph.max_density_g_cm3 = 1.85f;
    return ph;
  }
};

// A fake transport: history h deposits a pseudo-random energy (a fixed function of h) in
// each voxel, and a negative correction now and then (as range rejection's roulette does).
const HistoryRangeFn kFake = [](std::uint64_t first, std::uint64_t count, kernels::HostScorer& sc,
                                kernels::HostStack&) {
  for (std::uint64_t h = first; h < first + count; ++h) {
    std::mt19937_64 g(h * 2654435761u + 17);
    std::uniform_real_distribution<double> u(0, 1);
    sc.deposit(0, 6 * u(g));
    sc.deposit(1, u(g) < 0.1 ? 3 * u(g) : 0.0);
    sc.deposit(2, u(g) < 0.05 ? -0.5 * u(g) : 0.2 * u(g));
  }
};

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
  return true;
}

}  // namespace

TEST_CASE("Parts of a run merged in any order equal the whole run bit for bit", "[engine][tally]") {
  const Line line;
  SimulationSettings s;
  s.histories = 10007;  // not a multiple of the batch count: two batch sizes
  s.batches = 12;
  s.threads = 2;
  const SimulationRun whole = run_batches(line.view(), s, kFake);
  REQUIRE(whole.tally.sizes().size() == 2);
  for (int parts : {2, 3, 4, 12}) {
    std::vector<SimulationRun> runs;
    for (int k = 0; k < parts; ++k) {
      SimulationSettings p = s;
      p.first_batch = s.batches * k / parts;
      p.end_batch = s.batches * (k + 1) / parts;
      p.threads = 1 + k % 2;
      runs.push_back(run_batches(line.view(), p, kFake));
    }
    for (bool reversed : {false, true}) {
      BatchTally t(3);
      for (int k = 0; k < parts; ++k) t.merge(runs[std::size_t(reversed ? parts - 1 - k : k)].tally);
      DoseResult d;
      fill_dose_from_tally(line.view(), t, nullptr, d);
      INFO(parts << " parts" << (reversed ? ", merged in reverse" : ""));
      CHECK(same(d.dose_gy, whole.dose.dose_gy));
      CHECK(same(d.rel_uncertainty, whole.dose.rel_uncertainty));
      CHECK(d.histories == 10007);
      CHECK(d.batches == 12);
    }
  }
}

TEST_CASE("A run resumed from the tally of its first batches equals the uninterrupted run", "[engine][tally]") {
  const Line line;
  SimulationSettings s;
  s.histories = 5003;
  s.batches = 10;
  const SimulationRun whole = run_batches(line.view(), s, kFake);
  // Interrupt after batch 3: the checkpoint callback gets the tally when the hook throws.
  BatchTally saved;
  int next = -1;
  CheckpointHooks ck;
  ck.due = [] { return false; };
  ck.write = [&](const CheckpointState& cs) {
    saved = *cs.tally;
    next = cs.next_batch;
    CHECK(cs.interrupted);
  };
  CHECK_THROWS_AS(run_batches(line.view(), s, kFake,
                              [](const BatchProgress& p) {
                                if (p.batches_done == 4) throw Interrupted("test");
                                return true;
                              },
                              ck),
                  Interrupted);
  REQUIRE(next == 4);
  REQUIRE(saved.batches() == 4);
  SimulationSettings r = s;
  r.resume = &saved;
  r.first_batch = next;
  int first_seen = 0;
  const SimulationRun resumed = run_batches(line.view(), r, kFake, [&](const BatchProgress& p) {
    if (!first_seen) first_seen = p.batches_done;  // counts include the resumed batches
    return true;
  });
  CHECK(first_seen == 5);
  CHECK(same(resumed.dose.dose_gy, whole.dose.dose_gy));
  CHECK(same(resumed.dose.rel_uncertainty, whole.dose.rel_uncertainty));
  CHECK(resumed.dose.histories == whole.dose.histories);
}

TEST_CASE("The headline figure without the arrays equals the arrays' figure bit for bit", "[engine][tally]") {
  const Line line;
  SimulationSettings s;
  s.histories = 3001;
  s.batches = 7;
  const SimulationRun run = run_batches(line.view(), s, kFake);
  std::vector<double> d, u;
  run.tally.finish(line.view(), d, u);
  const double a = run.tally.headline_uncertainty(line.view(), nullptr);
  CHECK(std::memcmp(&a, &run.dose.mean_rel_uncertainty_50, sizeof a) == 0);
  CHECK(a == mean_rel_uncertainty_above_half_max(d, u));
  const std::vector<std::uint8_t> mask{0, 1, 1};
  CHECK(run.tally.headline_uncertainty(line.view(), &mask) == mean_rel_uncertainty_above_half_max(d, u, mask));
  CHECK(a > 0);
}

TEST_CASE("Tally statistics follow the batch formula of engine/simulation.hh", "[engine][tally]") {
  // Hand-made batches in one voxel: energies (MeV) and sizes known exactly.
  const Line line;
  const double e[5] = {1.5, 2.25, 0.75, 3.0, 1.0};
  const std::int64_t n[5] = {10, 10, 11, 11, 10};
  BatchTally t(3);
  double total = 0, sx = 0, sx2 = 0;
  for (int b = 0; b < 5; ++b) {
    std::vector<std::int64_t> fp{kernels::quantize_energy(e[b]), 0, 0};
    t.add_batch(n[b], fp);
    CHECK(fp[0] == 0);  // cleared
    total += e[b];
    sx += e[b] / n[b];
    sx2 += (e[b] / n[b]) * (e[b] / n[b]);
  }
  DoseResult d;
  fill_dose_from_tally(line.view(), t, nullptr, d);
  const double mean = sx / 5, var = (sx2 - 5 * mean * mean) / 4;
  CHECK(d.dose_gy[0] == Approx(total / 52 * 1.602176634e-13 / 1e-3).epsilon(1e-14));
  CHECK(d.rel_uncertainty[0] == Approx(std::sqrt(var / 5) / mean).epsilon(1e-12));
  CHECK(d.dose_gy[1] == 0.0);
  CHECK(d.rel_uncertainty[1] == 0.0);
  CHECK(t.histories() == 52);
  CHECK(t.batches() == 5);
}

TEST_CASE("Tally overflow is an error naming the cure, not a wrapped sum", "[engine][tally]") {
  BatchTally t(1);
  std::vector<std::int64_t> fp{std::numeric_limits<std::int64_t>::max() - 5};
  t.add_batch(1, fp);
  fp[0] = 10;
  CHECK_THROWS_AS(t.add_batch(1, fp), RuntimeError);
  try {
    fp[0] = 10;
    t.add_batch(1, fp);
  } catch (const RuntimeError& e) {
    CHECK(std::string(e.what()).find("--part") != std::string::npos);
  }
}

TEST_CASE("Tally files round-trip exactly; a dose file without a tally is refused", "[engine][tally][io]") {
  const Line line;
  SimulationSettings s;
  s.histories = 2001;
  s.batches = 4;
  const SimulationRun run = run_batches(line.view(), s, kFake);
  const auto dir = std::filesystem::temp_directory_path();
  const std::string path = (dir / "sabre_tally_test.h5").string();
  DoseResult d = run.dose;
  d.material = line.mat;
  d.density_g_cm3 = line.rho;
  d.material_names = {"water"};
  io::TallyInfo info;
  info.job_digest = "abc";
  info.sabre_commit = "test";
  info.first_batch = 0;
  info.next_batch = 4;
  info.batches_total = 4;
  info.histories_total = 2001;
  io::write_dose_hdf5(path, d, [&](hid_t f) { io::write_tally_group(f, path, run.tally, info); });
  const io::TallyFile back = io::read_tally_file(path);
  CHECK(back.info.job_digest == "abc");
  CHECK(back.info.next_batch == 4);
  REQUIRE(back.tally.sizes().size() == run.tally.sizes().size());
  for (std::size_t i = 0; i < back.tally.sizes().size(); ++i) {
    CHECK(back.tally.sizes()[i].sum_q == run.tally.sizes()[i].sum_q);
    CHECK(back.tally.sizes()[i].sum_q2 == run.tally.sizes()[i].sum_q2);
    CHECK(back.tally.sizes()[i].batches == run.tally.sizes()[i].batches);
  }
  DoseResult again;
  fill_dose_from_tally(line.view(), back.tally, nullptr, again);
  CHECK(same(again.dose_gy, run.dose.dose_gy));
  CHECK(same(again.rel_uncertainty, run.dose.rel_uncertainty));
  // inconsistent counts are refused
  info.next_batch = 3;
  io::write_dose_hdf5(path, d, [&](hid_t f) { io::write_tally_group(f, path, run.tally, info); });
  CHECK_THROWS_AS(io::read_tally_file(path), InputError);
  io::write_dose_hdf5(path, d);
  try {
    io::read_tally_file(path);
    FAIL("a dose file without /tally was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("no /tally") != std::string::npos);
  }
  std::filesystem::remove(path);
}

// Issue 26: the fold visits only the voxels the batch touched (the host back end lists them),
// and the stopping figure only the voxels that ever had energy. Both must give exactly what
// the full-grid loops give: the same sums, the same headline bits, on a grid where most
// voxels get nothing and some return to 0 within a batch or over batches (negative roulette
// corrections).
namespace {
struct Sparse {  // a 40 x 30 x 20 phantom; history h touches a few voxels
  std::vector<std::int32_t> mat = std::vector<std::int32_t>(24000, 0);
  std::vector<float> rho = std::vector<float>(24000, 1.0f);
  PhantomView view() const {
    PhantomView ph;
    ph.grid.spacing_cm = {0.5, 0.5, 0.5};
    ph.grid.nx = 40;
    ph.grid.ny = 30;
    ph.grid.nz = 20;
    ph.material = mat.data();
    ph.density_g_cm3 = rho.data();
    ph.max_density_g_cm3 = 1.0f;
    return ph;
  }
};
const HistoryRangeFn kSparse = [](std::uint64_t first, std::uint64_t count, kernels::HostScorer& sc,
                                  kernels::HostStack&) {
  for (std::uint64_t h = first; h < first + count; ++h) {
    std::mt19937_64 g(h * 0x9E3779B97F4A7C15ull + 5);
    std::uniform_int_distribution<std::int64_t> vox(0, 599);  // the first 600 voxels only
    std::uniform_real_distribution<double> u(0, 1);
    const std::int64_t v = vox(g);
    const double e = 2 * u(g);
    sc.deposit(v, e);
    if (u(g) < 0.3) sc.deposit(v, -e);  // back to exactly 0 (the same quantum count)
    if (u(g) < 0.2) sc.deposit(vox(g), 0.5 * u(g));
  }
};
// The host back end, without the touched list: run_batches falls back to the full-grid fold.
class Untracked final : public BatchBackend {
 public:
  explicit Untracked(int threads) : host_(kSparse, threads, 16) {}
  void run_range(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& e,
                 kernels::EnergyBalance& b) override {
    host_.run_range(first, count, e, b);
  }
  std::string description() const override { return "untracked"; }

 private:
  HostBackend host_;
};
}  // namespace

TEST_CASE("The touched-voxel fold equals the full-grid fold bit for bit", "[engine][tally]") {
  const Sparse ph;
  SimulationSettings s;
  s.histories = 20011;
  s.batches = 10;
  for (int threads : {1, 2}) {
    s.threads = threads;
    s.chunk = 16;
    HostBackend tracked(kSparse, threads, 16);
    Untracked dense(threads);
    const SimulationRun a = run_batches(ph.view(), s, tracked);
    const SimulationRun b = run_batches(ph.view(), s, dense);
    REQUIRE(a.tally.sizes().size() == b.tally.sizes().size());
    for (std::size_t k = 0; k < a.tally.sizes().size(); ++k) {
      CHECK(a.tally.sizes()[k].sum_q == b.tally.sizes()[k].sum_q);
      CHECK(a.tally.sizes()[k].sum_q2 == b.tally.sizes()[k].sum_q2);
    }
    std::vector<std::int64_t> na, nb;
    a.tally.for_each_nonzero([&](std::int64_t v) { na.push_back(v); });
    b.tally.for_each_nonzero([&](std::int64_t v) { nb.push_back(v); });
    CHECK(!na.empty());
    CHECK(na == nb);
    CHECK(same(a.dose.dose_gy, b.dose.dose_gy));
    CHECK(same(a.dose.rel_uncertainty, b.dose.rel_uncertainty));
    const double ha = a.tally.headline_uncertainty(ph.view(), nullptr);
    std::vector<double> d, u;
    b.tally.finish(ph.view(), d, u);
    const double full = mean_rel_uncertainty_above_half_max(d, u);  // the full-grid loop
    CHECK(std::memcmp(&ha, &full, sizeof ha) == 0);
    // the nonzero bitmap: increasing, no repeats, exactly the voxels with a nonzero sum of squares
    const std::vector<std::int64_t>& nz = na;
    CHECK(std::is_sorted(nz.begin(), nz.end()));
    CHECK(std::adjacent_find(nz.begin(), nz.end()) == nz.end());
    std::size_t expect = 0;
    for (std::int64_t v = 0; v < a.tally.voxels(); ++v) {
      bool any = false;
      for (const auto& sz : a.tally.sizes()) any = any || sz.sum_q2[std::size_t(v)] != 0;
      expect += any;
    }
    CHECK(nz.size() == expect);
    CHECK(nz.size() < 601);  // only the first 600 voxels are ever touched (plus none else)
    CHECK(nz.size() > 500);
  }
}

TEST_CASE("A batch that touches more voxels than the list holds is folded by a grid scan, same bits",
          "[engine][tally]") {
  // Each history deposits in 40 voxels anywhere in the 24 000-voxel grid: a batch of 2 000
  // histories touches most of it, past the lists' cap (4096 per thread at least), so the host
  // back end says it did not track the batch and run_batches scans the grid.
  const HistoryRangeFn dense = [](std::uint64_t first, std::uint64_t count, kernels::HostScorer& sc,
                                  kernels::HostStack&) {
    for (std::uint64_t h = first; h < first + count; ++h) {
      std::mt19937_64 g(h * 0x9E3779B97F4A7C15ull + 11);
      std::uniform_int_distribution<std::int64_t> vox(0, 23999);
      for (int i = 0; i < 40; ++i) sc.deposit(vox(g), 0.25);
    }
  };
  const Sparse ph;
  HostBackend host(dense, 2, 16);
  std::vector<std::int64_t> e(24000, 0), touched;
  kernels::EnergyBalance b;
  CHECK_FALSE(host.run_range_tracked(0, 2000, e, b, touched));  // past the cap
  std::vector<std::int64_t> e2(24000, 0);
  CHECK(host.run_range_tracked(0, 10, e2, b, touched));  // a small batch is listed
  CHECK(!touched.empty());

  SimulationSettings s;
  s.histories = 20000;
  s.batches = 10;
  s.threads = 2;
  s.chunk = 16;
  HostBackend tracked(dense, 2, 16);
  const SimulationRun a = run_batches(ph.view(), s, tracked);
  const SimulationRun r = run_batches(ph.view(), s, dense);  // the same through the HistoryRangeFn overload
  for (std::size_t k = 0; k < a.tally.sizes().size(); ++k) {
    CHECK(a.tally.sizes()[k].sum_q == r.tally.sizes()[k].sum_q);
    CHECK(a.tally.sizes()[k].sum_q2 == r.tally.sizes()[k].sum_q2);
  }
  std::int64_t total = 0;
  for (const auto& sz : a.tally.sizes())
    for (std::int64_t q : sz.sum_q) total += q;
  // every deposit counted: 20 000 histories x 40 x 0.25 MeV in quanta
  CHECK(total == 20000LL * 40 * kernels::quantize_energy(0.25));
}
