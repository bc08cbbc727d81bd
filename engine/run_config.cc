#include "engine/run_config.hh"

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <toml++/toml.h>

#include "beams/toml_keys.hh"
#include "core/errors.hh"
#include "core/number.hh"
#include "engine/efficiency.hh"
#include "engine/toml_section.hh"

namespace sabre {
namespace fs = std::filesystem;

namespace {

// The run file's tables (engine/toml_section.hh), read into the RunConfig's fields: an absent
// key leaves the field as it was.
class Reader : public TomlSection {
 public:
  using TomlSection::TomlSection;

  void str(const char* key, std::string& out, bool is_path = false) {
    const auto v = TomlSection::str(key);
    if (!v) return;
    out = *v;
    if (is_path && !out.empty() && fs::path(out).is_relative())
      out = (fs::path(file()).parent_path() / out).lexically_normal().string();
  }
  void num(const char* key, double& out) {
    if (const auto v = TomlSection::num(key)) out = *v;
  }
  // An integer that must fit an int (counts the engine keeps as int).
  void integer(const char* key, int& out) {
    const auto v = TomlSection::integer(key);
    if (!v) return;
    if (*v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max())
      fail(key, "out of range (at most " + std::to_string(std::numeric_limits<int>::max()) + ")");
    out = int(*v);
  }
  void integer(const char* key, std::int64_t& out) {
    if (const auto v = TomlSection::integer(key)) out = *v;
  }
  void flag(const char* key, bool& out) {
    if (const auto v = TomlSection::flag(key)) out = *v;
  }
};

double parse_fraction(const toml::node& n, const std::string& file, const char* key) {
  // 0.02 or "2%" (the whole string a number before the '%'); finite either way.
  std::optional<double> f;
  if (auto v = n.value<double>()) f = *v;
  else if (auto t = n.value<std::string>(); t && has_percent_sign(*t)) f = parse_fraction_text(*t);
  if (!f || !std::isfinite(*f))
    throw InputError(file, std::string("'") + key + "': expected a finite fraction such as 0.02 or \"2%\"");
  return *f;
}

}  // namespace

void load_run_file(const std::string& path, RunConfig& cfg) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "run file not found");
  const toml::table root = beams::parse_toml_file(path);
  cfg.source_file = path;
  Reader r(root, path, "");
  r.str("ct", cfg.ct_dir, true);
  r.str("plan", cfg.rtplan, true);
  r.str("structures", cfg.rtstruct, true);
  r.str("machine", cfg.machine);
  r.str("tables", cfg.tables, true);
  r.str("calibration", cfg.calibration);
  r.flag("outside_body_to_air", cfg.outside_body_to_air);
  r.num("dose_grid_mm", cfg.dose_grid_mm);
  std::string dose_to = cfg.dose_to_water ? "water" : "medium";
  r.str("dose_to", dose_to);
  if (dose_to != "medium" && dose_to != "water")
    throw InputError(path, "'dose_to': expected \"medium\" or \"water\"");
  cfg.dose_to_water = dose_to == "water";
  r.integer("histories", cfg.histories);
  r.known("target_uncertainty");
  if (const auto* n = root.get("target_uncertainty"))
    cfg.target_uncertainty = parse_fraction(*n, path, "target_uncertainty");
  r.num("time_limit_s", cfg.time_limit_s);
  std::int64_t seed = std::int64_t(cfg.seed);
  r.integer("seed", seed);
  if (seed < 0) throw InputError(path, "'seed': must be >= 0");
  cfg.seed = std::uint64_t(seed);
  r.integer("calibration_seed", cfg.calibration_seed);
  if (cfg.calibration_seed < -1) throw InputError(path, "'calibration_seed': must be >= 0");
  r.str("device", cfg.device);
  r.integer("batches", cfg.batches);
  r.integer("batch_histories", cfg.batch_histories);
  r.integer("calibration_histories", cfg.calibration_histories);
  r.integer("calibration_batch_histories", cfg.calibration_batch_histories);
  r.known("calibration_uncertainty");
  if (const auto* n = root.get("calibration_uncertainty"))
    cfg.calibration_uncertainty = parse_fraction(*n, path, "calibration_uncertainty");
  r.flag("calibration_cache", cfg.calibration_cache);
  r.flag("quiet", cfg.quiet);
  r.known("output");
  if (const auto* out = root.get("output")) {
    const auto* t = out->as_table();
    if (!t) throw InputError(path, "'output': expected a table [output]");
    Reader o(*t, path, "output.");
    o.str("hdf5", cfg.output_h5, true);
    o.str("rtdose", cfg.output_rtdose, true);
    o.str("png_dir", cfg.output_png_dir, true);
    o.str("summary_json", cfg.summary_json, true);
    o.str("slice_at", cfg.slice_at);
    o.flag("phantom_plots", cfg.phantom_plots);
    o.finish();
  }
  r.known("physics");
  if (const auto* ph = root.get("physics")) {
    const auto* t = ph->as_table();
    if (!t) throw InputError(path, "'physics': expected a table [physics]");
    Reader o(*t, path, "physics.");
    o.flag("msc_tables", cfg.physics.msc_tables);
    o.flag("range_rejection", cfg.physics.range_rejection);
    o.num("source_margin_density", cfg.physics.source_margin_density);
    o.flag("far_steps", cfg.physics.far_steps);
    read_efficiency_numbers(o, cfg.physics);
    o.finish();
    if (!(cfg.physics.source_margin_density > 0 && cfg.physics.source_margin_density <= 1))
      throw InputError(path, "'physics.source_margin_density': must be in (0, 1]: the density of the source's aims in "
                             "the field-restriction margin relative to the opening (1 = uniform)");
  }
  r.known("override");
  if (const auto* ov = root.get("override")) {
    const auto* arr = ov->as_array();
    if (!arr) throw InputError(path, "'override': expected an array of tables [[override]]");
    for (const auto& item : *arr) {
      const auto* t = item.as_table();
      if (!t) throw InputError(path, "'override': expected [[override]] tables");
      StructureOverride s;
      Reader o(*t, path, "override.");
      o.str("roi", s.roi);
      o.str("material", s.material);
      double d = -1;
      if (t->get("density_g_cm3")) {
        o.num("density_g_cm3", d);
        if (d < 0) o.fail("density_g_cm3", "must be >= 0 g/cm^3");
        s.density_g_cm3 = d;
      }
      o.finish();
      if (s.roi.empty()) throw InputError(path, "'override': each [[override]] needs a roi");
      if (s.material.empty() && !s.density_g_cm3)
        throw InputError(path, "'override' of ROI '" + s.roi +
                                   "': give a material, a density_g_cm3, or both");
      cfg.overrides.push_back(s);
    }
  }
  r.finish();
}

void validate(const RunConfig& cfg) {
  if (cfg.ct_dir.empty()) throw UsageError("no CT given (--ct DIR or 'ct' in the run file)");
  if (cfg.rtplan.empty()) throw UsageError("no RT Plan given (--plan FILE or 'plan' in the run file)");
  // NaN and infinity first: every comparison below is false for a NaN (a NaN time limit
  // would pass for a stopping rule).
  if (!std::isfinite(cfg.time_limit_s)) throw UsageError("--time-limit must be a finite number of seconds");
  if (!std::isfinite(cfg.dose_grid_mm)) throw UsageError("--dose-grid must be a finite size (mm)");
  if (!std::isfinite(cfg.target_uncertainty))
    throw UsageError("--target-uncertainty must be a fraction in (0, 1), e.g. 2% or 0.02");
  if (!std::isfinite(cfg.calibration_uncertainty))
    throw UsageError("--calibration-uncertainty must be a fraction in (0, 1), e.g. 0.3% or 0.003");
  if (!std::isfinite(cfg.checkpoint_interval_s))
    throw UsageError("--checkpoint-interval must be a finite number of seconds (> 0)");
  if (cfg.histories <= 0 && cfg.target_uncertainty <= 0 && cfg.time_limit_s <= 0)
    throw UsageError("no stopping rule: give --histories, --target-uncertainty or --time-limit");
  if (cfg.histories < 0) throw UsageError("--histories must be positive");
  if (cfg.target_uncertainty < 0 || cfg.target_uncertainty >= 1)
    throw UsageError("--target-uncertainty must be a fraction in (0, 1), e.g. 2% or 0.02");
  if (cfg.time_limit_s < 0) throw UsageError("--time-limit must be positive");
  if (cfg.dose_grid_mm < 0) throw UsageError("--dose-grid must be positive (mm)");
  if (cfg.batches < 10) throw UsageError("--batches must be at least 10");
  if (cfg.batch_histories < 0) throw UsageError("--batch-histories must be positive");
  if (cfg.calibration_histories != 0 && cfg.calibration_histories < 1000)
    throw UsageError("--calibration-histories must be at least 1000");
  if (cfg.calibration_uncertainty < 0 || cfg.calibration_uncertainty >= 1)
    throw UsageError("--calibration-uncertainty must be a fraction in (0, 1), e.g. 0.3% or 0.003");
  if (cfg.calibration_batch_histories < 0) throw UsageError("--calibration-batch-histories must be positive");
  if (cfg.slice_at != "iso" && cfg.slice_at != "max")
    throw UsageError("--slice-at must be iso or max");
  const bool part = cfg.part_count > 1;
  if (cfg.part_count < 1 || cfg.part_index < 0 || cfg.part_index >= cfg.part_count)
    throw UsageError("--part K/N: K must be in 0..N-1 and N >= 1");
  if (part && (cfg.target_uncertainty > 0 || cfg.time_limit_s > 0))
    throw UsageError("--part needs a fixed-count run (--histories, no --target-uncertainty or --time-limit): a "
                     "target or a time limit is decided over the whole job (use mpirun to share such a run)");
  if (part && cfg.part_output.empty())
    throw UsageError("--part needs --part-output FILE: the part file that `sabre run ... --merge` combines");
  if (!part && !cfg.part_output.empty()) throw UsageError("--part-output is only for --part K/N");
  if (!cfg.merge_parts.empty()) {
    if (part || !cfg.resume.empty() || !cfg.checkpoint.empty())
      throw UsageError("--merge runs no transport: not with --part, --checkpoint or --resume");
    if (cfg.target_uncertainty > 0 || cfg.time_limit_s > 0)
      throw UsageError("--merge combines the parts of a fixed-count run: give its --histories, not a target "
                       "uncertainty or time limit");
  }
  if (!(cfg.checkpoint_interval_s > 0)) throw UsageError("--checkpoint-interval must be > 0 seconds");
  if (!part && cfg.output_h5.empty() && cfg.output_rtdose.empty())
    throw UsageError("no output: give --output-h5 and/or --output-rtdose");
  std::error_code ec;
  if (!fs::is_directory(cfg.ct_dir, ec))
    throw InputError(cfg.ct_dir, "CT directory not found");
  if (!fs::is_regular_file(cfg.rtplan, ec)) throw InputError(cfg.rtplan, "RT Plan not found");
  if (!cfg.rtstruct.empty() && !fs::is_regular_file(cfg.rtstruct, ec))
    throw InputError(cfg.rtstruct, "RT Structure Set not found");
}

}  // namespace sabre
