// sabre run: the main job (engine/run_job.hh) from a TOML run file and/or flags; flags win
// over the file. Documented in docs/cli.md and docs/run-file.md.
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cli/options.hh"
#include "cli/registry.hh"
#include "core/ranks.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/log.hh"
#include "engine/ct_calibration.hh"
#include "engine/progress.hh"
#include "engine/run_config.hh"
#include "engine/run_job.hh"

namespace sabre::cli {
namespace {

struct RunFlags {
  std::string file;
  RunConfig f;  // flag values (applied only when given)
  std::string target, calibration_target, dose_to;
  std::vector<std::string> overrides;
  bool no_cache = false, summary_stdout_json = false, outside_air = false, plots = false, quiet = false;
  std::int64_t seed = 0;
  std::int64_t calibration_seed = -1;
  std::string part;
};

void run(const RunFlags& o, CLI::App& sub) {
  RunConfig cfg;
  if (!o.file.empty()) load_run_file(o.file, cfg);
  auto given = [&](const char* name) { return sub.get_option(name)->count() > 0; };
  if (given("--ct")) cfg.ct_dir = o.f.ct_dir;
  if (given("--plan")) cfg.rtplan = o.f.rtplan;
  if (given("--structures")) cfg.rtstruct = o.f.rtstruct;
  if (given("--machine")) cfg.machine = o.f.machine;
  if (given("--tables")) cfg.tables = o.f.tables;
  if (given("--calibration")) cfg.calibration = o.f.calibration;
  if (given("--override"))
    for (const auto& s : o.overrides) cfg.overrides.push_back(parse_override(s));
  if (given("--outside-body-air")) cfg.outside_body_to_air = true;
  if (given("--dose-grid")) cfg.dose_grid_mm = o.f.dose_grid_mm;
  if (given("--dose-to")) {
    if (o.dose_to != "medium" && o.dose_to != "water") throw UsageError("--dose-to must be medium or water");
    cfg.dose_to_water = o.dose_to == "water";
  }
  if (given("--histories")) cfg.histories = o.f.histories;
  if (given("--target-uncertainty")) cfg.target_uncertainty = parse_fraction(o.target, "--target-uncertainty");
  if (given("--time-limit")) cfg.time_limit_s = o.f.time_limit_s;
  if (given("--seed")) {
    if (o.seed < 0) throw UsageError("--seed must be >= 0");
    cfg.seed = std::uint64_t(o.seed);
  }
  if (given("--calibration-seed")) {
    if (o.calibration_seed < 0) throw UsageError("--calibration-seed must be >= 0");
    cfg.calibration_seed = o.calibration_seed;
  }
  if (given("--device")) cfg.device = o.f.device;
  if (given("--batches")) cfg.batches = o.f.batches;
  if (given("--batch-histories")) cfg.batch_histories = o.f.batch_histories;
  if (given("--calibration-histories")) cfg.calibration_histories = o.f.calibration_histories;
  if (given("--calibration-uncertainty"))
    cfg.calibration_uncertainty = parse_fraction(o.calibration_target, "--calibration-uncertainty");
  if (given("--calibration-batch-histories")) cfg.calibration_batch_histories = o.f.calibration_batch_histories;
  if (given("--no-calibration-cache")) cfg.calibration_cache = false;
  if (given("--output-h5")) cfg.output_h5 = o.f.output_h5;
  if (given("--output-rtdose")) cfg.output_rtdose = o.f.output_rtdose;
  if (given("--png-dir")) cfg.output_png_dir = o.f.output_png_dir;
  if (given("--summary-json")) cfg.summary_json = o.f.summary_json;
  if (given("--slice-at")) cfg.slice_at = o.f.slice_at;
  if (given("--phantom-plots")) cfg.phantom_plots = true;
  if (given("--quiet")) cfg.quiet = true;
  if (given("--part")) std::tie(cfg.part_index, cfg.part_count) = parse_part(o.part);
  if (given("--part-output")) cfg.part_output = o.f.part_output;
  if (given("--checkpoint")) cfg.checkpoint = o.f.checkpoint;
  if (given("--checkpoint-interval")) cfg.checkpoint_interval_s = o.f.checkpoint_interval_s;
  if (given("--resume")) cfg.resume = o.f.resume;
  if (given("--merge")) cfg.merge_parts = o.f.merge_parts;
  if (cfg.quiet && spdlog::get_level() < spdlog::level::warn) spdlog::set_level(spdlog::level::warn);

  interrupt::install_handlers();
  const auto summary = run_job(cfg, ProgressReporter::detect(cfg.quiet));
  if (ranks::rank() != 0) return;  // MPI: rank 0 reports
  if (o.summary_stdout_json)
    std::cout << summary.dump(2) << "\n";
  else
    std::cout << format_summary(summary);
}

const bool registered = register_command(
    "run", "Compute the dose of an RT Plan on a CT (the main job): HDF5, RT Dose, pictures, summary",
    [](CLI::App& sub) {
      auto o = std::make_shared<RunFlags>();
      sub.add_option("runfile", o->file, "TOML run file (docs/run-file.md); flags override its values");
      sub.add_option("--ct", o->f.ct_dir, "CT series directory");
      sub.add_option("--plan", o->f.rtplan, "DICOM RT Plan");
      sub.add_option("--structures", o->f.rtstruct, "DICOM RT Structure Set (same frame of reference as the CT)");
      sub.add_option("--machine", o->f.machine,
                     "Machine file stem or path (default: chosen from the plan's TreatmentMachineName)");
      sub.add_option("--tables", o->f.tables, "Physics table file (default: the shipped set; it fixes the cuts)");
      sub.add_option("--calibration", o->f.calibration, "CT calibration name or CSV (default: schneider)");
      sub.add_option("--override", o->overrides, "ROI override ROI=material:NAME[,density:G_CM3] or ROI=density:G_CM3 (repeatable)");
      sub.add_flag("--outside-body-air", o->outside_air, "Voxels outside the body ROI become air");
      sub.add_option("--dose-grid", o->f.dose_grid_mm, "Cubic dose voxels of this size [mm] (default: the CT grid)");
      sub.add_option("--dose-to", o->dose_to, "medium (default) or water (Bragg-Gray stopping-power ratio per material, docs/run-file.md)");
      sub.add_option("--histories", o->f.histories, "Histories (with a target or time limit: the most to run)");
      sub.add_option("--target-uncertainty", o->target,
                     "Stop at this mean relative 1-sigma over voxels > 50 % of max, e.g. 2% or 0.02");
      sub.add_option("--time-limit", o->f.time_limit_s, "Stop before this many seconds of transport");
      sub.add_option("--seed", o->seed, "Random seed (default 1)");
      sub.add_option("--calibration-seed", o->calibration_seed,
                     "Seed of the reference-field run (default: seed + 1000003); give one value to runs that must share a calibration");
      sub.add_option("--device", o->f.device, "auto (default), cpu, cpu:N, cuda, cuda:N[,M]");
      sub.add_option("--batches", o->f.batches, "Batches of a fixed-count run (>= 10, default 10)");
      sub.add_option("--batch-histories", o->f.batch_histories,
                     "Histories per batch of an open-ended run (default: 20000 on CPU, 1000000 on CUDA, at most histories/batches)");
      sub.add_option("--calibration-uncertainty", o->calibration_target,
                     "Run the reference field in water to this relative 1-sigma of its region mean, e.g. 0.3% "
                     "(the default when no --calibration-histories is given)");
      sub.add_option("--calibration-histories", o->f.calibration_histories,
                     "Alone: a fixed-count reference run of N histories; with --calibration-uncertainty: its cap "
                     "(default cap 1e9)");
      sub.add_option("--calibration-batch-histories", o->f.calibration_batch_histories,
                     "Histories per batch of the reference run to a target (default 1000000, at most cap / 10)");
      sub.add_flag("--no-calibration-cache", o->no_cache, "Always run the reference field; do not read or write the cache");
      sub.add_option("--output-h5", o->f.output_h5, "HDF5 dose file (docs/hdf5-output.md)");
      sub.add_option("--output-rtdose", o->f.output_rtdose, "DICOM RT Dose file");
      sub.add_option("--png-dir", o->f.output_png_dir, "Directory for the pictures (created if missing)");
      sub.add_option("--summary-json", o->f.summary_json, "Write the summary as JSON to this file");
      sub.add_flag("--json", o->summary_stdout_json, "Print the summary as JSON on stdout instead of text");
      sub.add_option("--slice-at", o->f.slice_at, "Pictures through iso (first beam, default) or max (dose maximum)");
      sub.add_flag("--phantom-plots", o->plots, "Also depth-dose and profile plots along beam 1 (water phantom runs)");
      sub.add_option("--part", o->part,
                     "K/N: transport only part K (0-based) of N of a fixed-count run's batches into --part-output "
                     "(no calibration, no other output); --merge combines the parts");
      sub.add_option("--part-output", o->f.part_output, "The part file of --part (HDF5 with /tally)");
      sub.add_option("--checkpoint", o->f.checkpoint,
                     "Write the tally to this file every --checkpoint-interval seconds and on SIGINT/SIGTERM");
      sub.add_option("--checkpoint-interval", o->f.checkpoint_interval_s, "Seconds between checkpoints (default 300)");
      sub.add_option("--resume", o->f.resume, "Continue from this checkpoint (same job and part)");
      sub.add_option("--merge", o->f.merge_parts,
                     "Part files of this job (every part once): no transport, the outputs one run would write")
          ->expected(1, -1);
      sub.add_flag("--quiet", o->quiet, "No progress and no info log lines; the summary is still printed");
      sub.callback([o, &sub] { run(*o, sub); });
    });

}  // namespace
}  // namespace sabre::cli
