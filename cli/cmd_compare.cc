// sabre compare REFERENCE EVALUATED: 3D gamma index and dose-difference statistics.
#include <iostream>
#include <memory>

#include "cli/registry.hh"
#include "engine/compare/compare.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/log.hh"

namespace sabre::cli {
namespace {

struct CompareOptions {
  std::string reference, evaluated;
  double dose_percent = 3;
  double distance_mm = 3;
  bool local = false, global = false;
  double threshold_percent = 10;
  double max_search_mm = 0;
  double norm_dose_gy = 0;
  int threads = 0;
  std::string output_h5, output_png;
  bool json = false;
};

void run(const CompareOptions& o) {
  if (o.local && o.global) throw UsageError("--local and --global exclude each other");
  if (!(o.dose_percent > 0 && o.dose_percent <= 100))
    throw UsageError("--dose-criterion must be in (0, 100] %");
  if (!(o.distance_mm > 0)) throw UsageError("--distance-mm must be > 0");
  if (!(o.threshold_percent >= 0 && o.threshold_percent < 100))
    throw UsageError("--threshold must be in [0, 100) %");
  if (o.max_search_mm < 0) throw UsageError("--max-search-mm must be > 0");
  if (o.norm_dose_gy < 0) throw UsageError("--norm-dose must be > 0 Gy");
  if (o.local && o.norm_dose_gy > 0)
    spdlog::info("compare: --norm-dose with --local only sets the threshold dose");
  compare::CompareInputs in;
  in.reference_path = o.reference;
  in.evaluated_path = o.evaluated;
  in.criteria.dose_fraction = o.dose_percent / 100;
  in.criteria.distance_mm = o.distance_mm;
  in.criteria.local = o.local;
  in.criteria.threshold_fraction = o.threshold_percent / 100;
  in.criteria.max_search_mm = o.max_search_mm;
  in.criteria.norm_dose_gy = o.norm_dose_gy;
  in.criteria.threads = o.threads;
  in.output_h5 = o.output_h5;
  in.output_png = o.output_png;
  interrupt::install_handlers();  // Ctrl-C stops the search: exit 5, no output written
  const auto rep = compare::run_compare(in);
  if (o.json)
    std::cout << compare::report_json(rep).dump() << "\n";
  else
    std::cout << compare::report_text(rep);
}

const bool registered = register_command(
    "compare", "Gamma index and dose-difference statistics of two dose files",
    [](CLI::App& sub) {
      auto o = std::make_shared<CompareOptions>();
      sub.add_option("REFERENCE", o->reference, "Reference dose: DICOM RT Dose or sabre HDF5")
          ->required();
      sub.add_option("EVALUATED", o->evaluated, "Evaluated dose: DICOM RT Dose or sabre HDF5")
          ->required();
      sub.add_option("--dose-criterion", o->dose_percent, "Dose criterion [%]")
          ->capture_default_str();
      sub.add_option("--distance-mm", o->distance_mm, "Distance-to-agreement criterion [mm]")
          ->capture_default_str();
      sub.add_flag("--local", o->local, "Local gamma: dose criterion relative to the reference voxel's dose");
      sub.add_flag("--global", o->global, "Global gamma (default): relative to the normalisation dose");
      sub.add_option("--threshold", o->threshold_percent,
                     "Low-dose threshold [% of the normalisation dose]: reference voxels below are not evaluated")
          ->capture_default_str();
      sub.add_option("--max-search-mm", o->max_search_mm,
                     "Maximum search distance [mm] (default 3 x --distance-mm)");
      sub.add_option("--norm-dose", o->norm_dose_gy,
                     "Normalisation dose [Gy] for global gamma and the threshold (default: reference maximum)");
      sub.add_option("--threads", o->threads, "Worker threads (default: all hardware threads)");
      sub.add_option("--output-h5", o->output_h5, "Write the gamma map as HDF5 (docs/compare.md)");
      sub.add_option("--output-png", o->output_png,
                     "Write a PNG of the gamma map on the axial slice through the reference maximum");
      sub.add_flag("--json", o->json, "Print one JSON object instead of text");
      sub.callback([o] { run(*o); });
    });

}  // namespace
}  // namespace sabre::cli
