// The calibration to Gy (engine/calibration.hh): the choice between a target uncertainty and
// a fixed count, the open-ended reference run stopping at its target (or its history cap),
// the uncertainty from the batch spread of the region mean, and the cache. The reference
// runs here are small (targets of a few %, batches of 20 000 histories): these tests are
// about the rules, not the physics (validation/linac-calibration is).
#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include "beams/machine.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/calibration.hh"
#include "engine/device_spec.hh"
#include "engine/plan_dose.hh"
#include "kernels/charged_policy.hh"
#include "tests/support/skip.hh"

using namespace sabre;
namespace fs = std::filesystem;

namespace {

bool have_physics() {
  const fs::path tables = fs::path(build::data_dir()) / "physics" / "data" / "default.h5";
  std::error_code ec;
  if (!fs::is_regular_file(tables, ec)) {
    sabre::test::skip("no physics table file at " + tables.string());
    return false;
  }
  if (!kernels::kChargedTransportAvailable) {
    sabre::test::skip("no charged-particle transport in this build");
    return false;
  }
  return true;
}

PlanMachine truebeam() {
  PlanMachine pm;
  pm.file = machine_file("truebeam-hd120");
  pm.machine = beams::load_machine(pm.file);
  pm.beam_name = "6X-FFF";
  return pm;
}

CalibrationSettings small_target(double target) {
  CalibrationSettings s;
  s.target_rel_uncertainty = target;
  s.batch_histories = 20000;
  s.max_histories = 4000000;
  s.seed = 11;
  s.device = parse_device_spec("cpu:2");
  s.use_cache = false;
  return s;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(SABRE_BINARY_DIR) / "test-scratch" / "calibration" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("calibration: a target, a fixed count, or the default target", "[engine][calibration]") {
  CalibrationSettings s;
  choose_calibration(s, 0, 0, 0);  // nothing given: the default target
  CHECK(s.target_rel_uncertainty == kDefaultCalibrationTarget);
  CHECK(kDefaultCalibrationTarget == 0.003);
  CHECK(s.max_histories == kDefaultCalibrationMaxHistories);
  CHECK(s.batch_histories == kDefaultCalibrationBatchHistories);
  CHECK_NOTHROW(check_calibration_settings(s));

  s = {};
  choose_calibration(s, 0, 500000, 0, 12);  // only histories: a fixed count, as before
  CHECK(s.target_rel_uncertainty == 0);
  CHECK(s.histories == 500000);
  CHECK(s.batches == 12);
  CHECK_NOTHROW(check_calibration_settings(s));

  s = {};
  choose_calibration(s, 0.01, 5000000, 0);  // both: the target, the histories its cap
  CHECK(s.target_rel_uncertainty == 0.01);
  CHECK(s.max_histories == 5000000);
  CHECK(s.batch_histories == 500000);  // at most a tenth of the cap
  s = {};
  choose_calibration(s, 0.01, 0, 30000);
  CHECK(s.batch_histories == 30000);
  CHECK(s.max_histories == kDefaultCalibrationMaxHistories);

  s = {};
  choose_calibration(s, 0.01, 100000, 20000);  // a cap of 5 batches: refused
  CHECK_THROWS_WITH(check_calibration_settings(s), Catch::Contains("at least 10 batches"));
  s.target_rel_uncertainty = 1.5;
  s.max_histories = 1000000;
  CHECK_THROWS_AS(check_calibration_settings(s), UsageError);
  s = {};
  choose_calibration(s, 0, 5, 0);  // fewer histories than batches
  CHECK_THROWS_AS(check_calibration_settings(s), UsageError);
}

TEST_CASE("calibration: the open-ended reference run stops at the first batch that reaches its target",
          "[engine][calibration]") {
  if (!have_physics()) return;
  const PlanMachine pm = truebeam();
  const double target = 0.05;
  std::vector<CalibrationProgress> seen;
  const CalibrationResult r =
      calibrate(pm, small_target(target), [&](const CalibrationProgress& p) { seen.push_back(p); });
  INFO("stopped after " << r.batches << " batches, " << r.histories << " histories: " << 100 * r.ref_rel_uncertainty
                        << " % (voxels in quadrature " << 100 * r.ref_rel_uncertainty_quadrature << " %), "
                        << r.wall_seconds << " s");
  CHECK(r.mode == "target_uncertainty");
  CHECK(r.stopped_by == "target_uncertainty");
  CHECK(r.batches >= 10);
  CHECK(r.histories == std::int64_t(r.batches) * 20000);
  CHECK(r.ref_rel_uncertainty > 0);
  CHECK(r.ref_rel_uncertainty <= target);
  CHECK(r.ref_rel_uncertainty_quadrature > 0);
  CHECK(r.histories_per_mu == Approx(r.gy_per_mu / r.ref_dose_gy_per_history).epsilon(1e-15));
  CHECK_FALSE(r.from_cache);
  // The hook saw every batch; the last one is the first (from the 10th on) at or under the
  // target, and its figure is the result's.
  REQUIRE(int(seen.size()) == r.batches);
  for (int b = 0; b < r.batches; ++b) {
    CHECK(seen[b].batches_done == b + 1);
    CHECK(seen[b].histories_done == std::int64_t(b + 1) * 20000);
    CHECK(seen[b].target_rel_uncertainty == target);
    CHECK(seen[b].histories_limit == 4000000);
    if (b == 0) CHECK(seen[b].rel_uncertainty < 0);
    if (b >= 9 && b + 1 < r.batches) CHECK(seen[b].rel_uncertainty > target);
  }
  CHECK(seen.back().rel_uncertainty == r.ref_rel_uncertainty);
}

TEST_CASE("calibration: the history cap ends a run whose target is out of reach, and says so",
          "[engine][calibration]") {
  if (!have_physics()) return;
  CalibrationSettings s = small_target(0.001);
  s.max_histories = 210000;  // 10 whole batches (the remainder is not run)
  const CalibrationResult r = calibrate(truebeam(), s);
  CHECK(r.stopped_by == "history_cap");
  CHECK(r.batches == 10);
  CHECK(r.histories == 200000);
  CHECK(r.ref_rel_uncertainty > 0.001);
}

TEST_CASE("calibration: cached per key, target and fixed count apart", "[engine][calibration]") {
  if (!have_physics()) return;
  const PlanMachine pm = truebeam();
  CalibrationSettings s = small_target(0.2);  // reached at the 10th batch
  s.use_cache = true;
  s.cache_dir = scratch("cache").string();
  const CalibrationResult a = calibrate(pm, s);
  CHECK_FALSE(a.from_cache);
  CHECK(a.batches == 10);
  const CalibrationResult b = calibrate(pm, s);
  CHECK(b.from_cache);
  CHECK(b.key == a.key);
  CHECK(b.ref_dose_gy_per_history == a.ref_dose_gy_per_history);
  CHECK(b.ref_rel_uncertainty == a.ref_rel_uncertainty);
  CHECK(b.ref_rel_uncertainty_quadrature == a.ref_rel_uncertainty_quadrature);
  CHECK(b.histories == a.histories);
  CHECK(b.batches == a.batches);
  CHECK(b.stopped_by == a.stopped_by);
  // A fixed count of the same histories is another key.
  CalibrationSettings f = s;
  choose_calibration(f, 0, 200000, 0, 10);
  f.use_cache = false;
  const CalibrationResult fixed = calibrate(pm, f);
  CHECK(fixed.mode == "histories");
  CHECK(fixed.stopped_by == "histories");
  CHECK(fixed.key != a.key);
  // The fixed count of 10 x 20 000 histories holds the same histories in the same batches
  // as the target run's 10 batches: the same figure and uncertainty, bit for bit.
  CHECK(fixed.ref_dose_gy_per_history == a.ref_dose_gy_per_history);
  CHECK(fixed.ref_rel_uncertainty == a.ref_rel_uncertainty);
}
