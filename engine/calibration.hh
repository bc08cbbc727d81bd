// Absolute dose: the calibration of a machine beam to Gy through the machine file's
// reference conditions, the one path every command takes (`sabre run`, `sabre linac
// --calibrate`).
//
// Method (documented in docs/run-file.md, "Absolute dose"): the reference field
// (calibration.field_cm square at calibration.ssd_cm, gantry 0, beams/plan_builder.hh's
// reference_field_plan) is run in a 30 x 30 x 30 cm water box of 0.5 cm voxels; the mean
// dose per history D_ref over the voxels within 1 cm of the axis and 0.5 cm of
// calibration.depth_cm (the calibration region) gives histories per MU = gy_per_mu / D_ref,
// and a plan's dose [Gy] = dose per history x histories per MU x plan MU. The source is the
// plan's: the virtual source model, or the phase space when the plan is run from one.
//
// Two ways to run it:
//   - to a target uncertainty (the default, 0.3 %): open-ended batches of batch_histories
//     consecutive histories until, after at least 10 batches, the relative 1-sigma of D_ref
//     is at or under the target, or max_histories are done (the result then says
//     "history_cap" and carries the uncertainty reached);
//   - a fixed count: `histories` in `batches` batches (exactly the run of earlier versions:
//     the same dose, D_ref and histories per MU bit for bit).
// Uncertainty, both ways: the batch-to-batch spread of the REGION MEAN dose per history
// (engine/simulation.hh, region tallies and region_batch_mean), which includes the
// correlations between the region's voxels; the per-voxel errors in quadrature (smaller,
// as they leave the correlations out) are kept as a diagnostic.
//
// Cache: the reference result depends only on the machine file's bytes, the beam, the
// physics table file's bytes, the sabre version and commit, the source (VSM, or the phase
// space's SHA-256), the seed, the field margin, the estimator, and either the histories and
// batches (fixed count) or the target, batch size and history cap. Its key is the SHA-256
// of all of these; the cached file holds them in clear next to the figure and its
// uncertainty, and a mismatch on read is a miss.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "beams/phsp_source.hh"
#include "engine/device_spec.hh"
#include "engine/dose_result.hh"
#include "physics/transport/transport_params.hh"
#include "engine/plan_dose.hh"
#include "engine/simulation.hh"

namespace sabre {

// The calibration region: voxels whose centres lie within `half_cm` of the central axis
// (x, z through iso) and within 0.5 cm of `depth_cm` below the surface of a gantry-0 water
// box (nonzero = in).
std::vector<std::uint8_t> axis_region(const phys::GridGeometry& g, const std::array<double, 3>& iso,
                                      double surface_y, double depth_cm, double half_cm);

// Mean dose over that region and its relative uncertainty with the voxel errors in
// quadrature (an underestimate: it ignores the correlations between voxels).
std::pair<double, double> axis_dose(const DoseResult& d, const std::array<double, 3>& iso,
                                    double surface_y, double depth_cm, double half_cm);

// Defaults of the target mode (sabre run and sabre linac --calibrate share them, and with
// them the cache entry).
inline constexpr double kDefaultCalibrationTarget = 0.003;                 // 0.3 % (1 sigma)
inline constexpr std::int64_t kDefaultCalibrationBatchHistories = 1000000;
inline constexpr std::int64_t kDefaultCalibrationMaxHistories = 1000000000;

struct CalibrationSettings {
  // > 0: run to this relative 1-sigma (target mode); 0: a fixed count (`histories`).
  double target_rel_uncertainty = kDefaultCalibrationTarget;
  std::int64_t batch_histories = kDefaultCalibrationBatchHistories;  // target mode
  std::int64_t max_histories = kDefaultCalibrationMaxHistories;      // target mode: the cap
  std::int64_t histories = 1000000;  // fixed count
  int batches = 10;                  // fixed count
  std::uint64_t seed = 1000003;
  double margin_cm = 0.5;
  std::string tables_path;     // "" = default
  DeviceSpec device;
  bool use_cache = true;
  std::string cache_dir;       // "" = default_calibration_cache_dir()
  // The plan's phase-space source, when it has one (nullptr: the VSM), and the SHA-256 of
  // its file(s) for the cache key.
  const std::vector<beams::PhspParticle>* phsp = nullptr;
  std::string phsp_sha256;
  // Transport switches of the reference run (the run's efficiency techniques; part of the
  // cache key).
  phys::PhysicsSwitches switches;
};

struct CalibrationResult {
  double ref_dose_gy_per_history = 0;
  double ref_rel_uncertainty = 0;             // 1 sigma, batch spread of the region mean
  double ref_rel_uncertainty_quadrature = 0;  // voxel errors in quadrature (diagnostic)
  double histories_per_mu = 0;
  double gy_per_mu = 0;
  std::string mode;                  // "target_uncertainty" or "histories"
  std::string stopped_by;            // "target_uncertainty", "history_cap" or "histories"
  double target_rel_uncertainty = 0; // target mode (0: fixed count)
  std::int64_t batch_histories = 0;  // target mode
  std::int64_t max_histories = 0;    // target mode
  std::int64_t histories = 0;        // histories run
  int batches = 0;                   // batches run
  std::uint64_t seed = 0;
  double wall_seconds = 0;      // of the reference run (0 when cached)
  bool from_cache = false;
  std::string cache_file;       // "" when the cache is off
  std::string key;              // SHA-256 of the key text
  std::string device;           // the back end of the reference run ("" when cached)
};

// The figures of a calibration as the summaries of sabre run and sabre linac give them
// (docs/run-file.md, "Progress and summary").
nlohmann::json calibration_summary(const CalibrationResult& cal);

// $SABRE_CACHE_DIR, else $XDG_CACHE_HOME/sabre, else $HOME/.cache/sabre, then /calibration.
std::string default_calibration_cache_dir();

// Progress of the reference run, after each batch.
struct CalibrationProgress {
  int batches_done = 0;
  std::int64_t histories_done = 0;
  double elapsed_s = 0;
  double rel_uncertainty = -1;       // of D_ref so far (batch spread); < 0 before 2 batches
  double target_rel_uncertainty = 0; // 0: fixed count
  std::int64_t histories_limit = 0;  // the fixed count, or the cap
};
using CalibrationHook = std::function<void(const CalibrationProgress&)>;

// The choice both commands offer (sabre run's calibration_uncertainty /
// calibration_histories / calibration_batch_histories, sabre linac's --calib-uncertainty /
// --calib-histories / --calib-batch-histories; 0 = not given): a target given -> target
// mode, capped by `histories` when given (else kDefaultCalibrationMaxHistories); only
// `histories` given -> a fixed count in `fixed_batches` batches; neither -> the default
// target. The batch size, when not given, is kDefaultCalibrationBatchHistories and at
// most a tenth of the cap.
void choose_calibration(CalibrationSettings& s, double target, std::int64_t histories,
                        std::int64_t batch_histories, int fixed_batches = 10);

// Checks the settings (throws UsageError): target mode: a target in (0, 1), a batch size
// > 0 and a cap that allows at least 10 batches; fixed count: at least 2 batches and as
// many histories.
void check_calibration_settings(const CalibrationSettings& s);

// The reference run (or its cached result). `hook` is called after each batch (progress; it
// may throw to interrupt). A cache that cannot be written is only a warning.
CalibrationResult calibrate(const PlanMachine& m, const CalibrationSettings& s,
                            const CalibrationHook& hook = {});

}  // namespace sabre
