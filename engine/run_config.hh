// What `sabre run` does, from a TOML run file and/or command-line flags (flags win).
// Documented in docs/run-file.md; every field has a flag of the same meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "physics/transport/transport_params.hh"

namespace sabre {

struct StructureOverride {
  std::string roi;                      // ROI name in the RT Structure Set (exact match)
  std::string material;                 // material name in the table set ("" = keep)
  std::optional<double> density_g_cm3;  // mass density [g/cm^3] (unset = keep)
};

struct RunConfig {
  // inputs
  std::string ct_dir;        // directory holding one CT series
  std::string rtplan;        // DICOM RT Plan
  std::string rtstruct;      // DICOM RT Structure Set (optional)
  std::string machine;       // machine file name or path; "" = map from the plan
  std::string tables;        // physics table file; "" = the default set
  std::string calibration;   // CT calibration (name or CSV path); "" = the default
  std::vector<StructureOverride> overrides;
  bool outside_body_to_air = false;  // voxels outside BODY/EXTERNAL set to air
  double dose_grid_mm = 0;           // dose voxel size [mm]; 0 = the CT grid
  bool dose_to_water = false;        // false: dose to medium
  // stopping rules (first one reached stops the run)
  std::int64_t histories = 0;        // 0 = no limit from the count
  double target_uncertainty = 0;     // fraction (0.02 = 2 %); 0 = none
  double time_limit_s = 0;           // 0 = none
  // execution
  std::uint64_t seed = 1;
  // The reference-field run's seed; -1: seed + 1000003. One value for jobs that must share
  // a calibration (the parts of a split run; a second seed of the same plan).
  std::int64_t calibration_seed = -1;
  std::string device = "auto";
  int batches = 10;                  // batches of a fixed-count run (>= 10)
  std::int64_t batch_histories = 0;  // open-ended runs: histories per batch (0 = automatic)
  // calibration to Gy (engine/calibration.hh; docs/run-file.md, "Absolute dose"). The
  // reference-field run in water goes to a target uncertainty (calibration_uncertainty, or
  // the default 0.3 % when neither it nor calibration_histories is set, with
  // calibration_histories as the cap when both are); calibration_histories alone is a
  // fixed-count run (exactly as in earlier versions).
  double calibration_uncertainty = 0;            // fraction; 0 = not set
  std::int64_t calibration_histories = 0;        // 0 = not set
  std::int64_t calibration_batch_histories = 0;  // target mode; 0 = 10^6, at most cap / 10
  bool calibration_cache = true;     // reuse a cached reference result with the same key
  std::string calibration_cache_dir; // "" = default (SABRE_CACHE_DIR, XDG_CACHE_HOME, HOME)
  // outputs ("" = not written)
  std::string output_h5;
  std::string output_rtdose;
  std::string output_png_dir;
  std::string summary_json;
  std::string slice_at = "iso";      // pictures through "iso" (first beam) or "max" (dose maximum)
  bool phantom_plots = false;        // depth-dose and profile plots (water phantom runs)
  bool quiet = false;
  // [physics]: the efficiency techniques (docs/efficiency.md); every other switch keeps
  // its default in `sabre run`. The plan sources' head sampling is expensive, so source
  // splitting is on here (kDefaultSourceSplitting copies) and off elsewhere.
  phys::PhysicsSwitches physics = [] {
    phys::PhysicsSwitches s;
    s.source_splitting = phys::kDefaultSourceSplitting;
    return s;
  }();

  std::string source_file;  // the run file this came from, "" when flags only

  // Parts, checkpoints and merges (issue 22; docs/scale-out.md). Flags only: they belong to
  // one invocation, not to the job. part_count > 1: transport only batches
  // [B k / P, B (k + 1) / P) of a fixed-count run and write them to part_output (a part file:
  // the per-history dose and /tally), with no calibration and no other output. merge_parts:
  // no transport; the parts' tallies (every part of this same job) give the dose, which is
  // calibrated and written as one run of the job would write it, bit for bit.
  int part_index = 0;
  int part_count = 1;
  std::string part_output;
  std::string checkpoint;           // write the tally here periodically and on SIGTERM
  double checkpoint_interval_s = 300;
  std::string resume;               // continue from this checkpoint
  std::vector<std::string> merge_parts;
};

// Reads a TOML run file into `cfg` (fields absent from the file keep their values).
// Relative paths in the file are taken relative to the file's directory. Throws
// InputError naming the file for syntax errors, unknown keys and bad values.
void load_run_file(const std::string& path, RunConfig& cfg);

// Checks the combination (inputs present, at least one stopping rule, ranges); throws
// UsageError or InputError with one clear message.
void validate(const RunConfig& cfg);

}  // namespace sabre
