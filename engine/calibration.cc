#include "engine/calibration.hh"

#include "engine/efficiency.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "beams/plan_builder.hh"
#include "beams/plan_source.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"
#include "engine/backend.hh"
#include "engine/simulate_phantom.hh"

namespace sabre {
namespace fs = std::filesystem;

namespace {

bool in_axis_region(const phys::GridGeometry& g, int i, int j, int k, const std::array<double, 3>& iso,
                    double surface_y, double depth_cm, double half_cm) {
  const auto c = g.voxel_centre(i, j, k);
  return !(std::abs(c.x - iso[0]) > half_cm || std::abs(c.z - iso[2]) > half_cm ||
           std::abs(c.y - surface_y - depth_cm) > 0.5);
}

}  // namespace

std::vector<std::uint8_t> axis_region(const phys::GridGeometry& g, const std::array<double, 3>& iso,
                                      double surface_y, double depth_cm, double half_cm) {
  std::vector<std::uint8_t> mask(std::size_t(g.size()), 0);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i)
        if (in_axis_region(g, i, j, k, iso, surface_y, depth_cm, half_cm)) mask[std::size_t(g.index(i, j, k))] = 1;
  return mask;
}

std::pair<double, double> axis_dose(const DoseResult& d, const std::array<double, 3>& iso,
                                    double surface_y, double depth_cm, double half_cm) {
  const auto& g = d.grid;
  double sum = 0, var = 0;
  int n = 0;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        if (!in_axis_region(g, i, j, k, iso, surface_y, depth_cm, half_cm)) continue;
        const auto idx = g.index(i, j, k);
        sum += d.dose_gy[idx];
        var += std::pow(d.dose_gy[idx] * d.rel_uncertainty[idx], 2);
        ++n;
      }
  if (n == 0 || sum <= 0) throw RuntimeError("calibration: no dose on the axis at the reference depth");
  return {sum / n, std::sqrt(var) / sum};
}

std::string default_calibration_cache_dir() {
  if (const char* d = std::getenv("SABRE_CACHE_DIR"); d && *d) return std::string(d) + "/calibration";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/sabre/calibration";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/sabre/calibration";
  return "";
}

nlohmann::json calibration_summary(const CalibrationResult& cal) {
  return {{"reference_dose_gy_per_history", cal.ref_dose_gy_per_history},
          {"reference_rel_uncertainty", cal.ref_rel_uncertainty},
          {"reference_rel_uncertainty_quadrature", cal.ref_rel_uncertainty_quadrature},
          {"uncertainty_estimator", "batch spread of the calibration region's mean dose per history"},
          {"histories_per_mu", cal.histories_per_mu},
          {"gy_per_mu_reference", cal.gy_per_mu},
          {"mode", cal.mode},
          {"target_rel_uncertainty", cal.target_rel_uncertainty},
          {"stopped_by", cal.stopped_by},
          {"reference_histories", cal.histories},
          {"reference_batches", cal.batches},
          {"batch_histories", cal.batch_histories},
          {"max_histories", cal.max_histories},
          {"reference_seed", cal.seed},
          {"reference_seconds", cal.wall_seconds},
          {"from_cache", cal.from_cache},
          {"cache_file", cal.cache_file},
          {"key_sha256", cal.key}};
}

void choose_calibration(CalibrationSettings& s, double target, std::int64_t histories,
                        std::int64_t batch_histories, int fixed_batches) {
  if (target > 0 || histories <= 0) {
    s.target_rel_uncertainty = target > 0 ? target : kDefaultCalibrationTarget;
    s.max_histories = histories > 0 ? histories : kDefaultCalibrationMaxHistories;
    s.batch_histories = batch_histories > 0 ? batch_histories
                                            : std::max<std::int64_t>(1, std::min(kDefaultCalibrationBatchHistories,
                                                                                 s.max_histories / 10));
  } else {
    s.target_rel_uncertainty = 0;
    s.histories = histories;
    s.batches = fixed_batches;
  }
}

void check_calibration_settings(const CalibrationSettings& s) {
  if (s.target_rel_uncertainty > 0) {
    if (!(s.target_rel_uncertainty < 1))
      throw UsageError("calibration target uncertainty must be a fraction in (0, 1), e.g. 0.3% or 0.003");
    if (s.batch_histories <= 0) throw UsageError("calibration batch size must be positive");
    if (s.max_histories / s.batch_histories < 10)
      throw UsageError("calibration: the history cap (" + std::to_string(s.max_histories) +
                       ") must allow at least 10 batches of " + std::to_string(s.batch_histories));
  } else if (s.target_rel_uncertainty < 0) {
    throw UsageError("calibration target uncertainty must be positive");
  } else {
    if (s.batches < 2) throw UsageError("calibration: at least 2 batches are needed for an uncertainty");
    if (s.histories < s.batches)
      throw UsageError("calibration: fewer histories (" + std::to_string(s.histories) + ") than batches (" +
                       std::to_string(s.batches) + ")");
  }
}

namespace {

using nlohmann::json;

// The estimator of the uncertainty: part of the key, so that no figure estimated another
// way (earlier versions: voxel errors in quadrature) is read back.
constexpr const char* kEstimator = "batch spread of the region mean dose per history";

json key_fields(const PlanMachine& m, const CalibrationSettings& s, const std::string& tables_sha) {
  json k{{"sabre_version", build::version()},
         {"sabre_commit", build::git_commit()},
         {"machine_file_sha256", sha256_file(m.file)},
         {"machine", m.machine.name},
         {"beam", m.beam_name},
         {"tables_sha256", tables_sha},
         {"reference_seed", s.seed},
         {"margin_cm", s.margin_cm},
         {"uncertainty_estimator", kEstimator}};
  if (s.target_rel_uncertainty > 0) {
    k["reference_target_rel_uncertainty"] = s.target_rel_uncertainty;
    k["reference_batch_histories"] = s.batch_histories;
    k["reference_max_histories"] = s.max_histories;
  } else {
    k["reference_histories"] = s.histories;
    k["reference_batches"] = s.batches;
  }
  // Only a phase-space source adds a field.
  if (s.phsp) k["phase_space_sha256"] = s.phsp_sha256;
  k["variance_reduction"] = efficiency_description(s.switches);
  return k;
}

}  // namespace

CalibrationResult calibrate(const PlanMachine& m, const CalibrationSettings& s, const CalibrationHook& hook) {
  check_calibration_settings(s);
  const beams::BeamModel& bm = m.beam();
  const auto& c = bm.calibration;
  if (!(c.gy_per_mu > 0) || !(c.ssd_cm > 0) || !(c.field_cm > 0))
    throw InputError(m.file, "beam " + bm.name + ": no calibration (reference conditions) to convert to Gy");
  auto tables =
      std::make_unique<phys::MaterialTables>(s.tables_path.empty() ? default_tables_path() : s.tables_path);
  const std::string tables_sha = tables->file_sha256();
  const json key = key_fields(m, s, tables_sha);
  const bool target_mode = s.target_rel_uncertainty > 0;
  CalibrationResult r;
  r.key = sha256_hex(key.dump());
  r.seed = s.seed;
  r.gy_per_mu = c.gy_per_mu;
  r.mode = target_mode ? "target_uncertainty" : "histories";
  if (target_mode) {
    r.target_rel_uncertainty = s.target_rel_uncertainty;
    // With source splitting a history is n transports: batches of 1/n the histories keep
    // the work per batch, so that the 10 batches the stopping rule waits for do not run
    // the reference field n times past its target.
    r.batch_histories = std::max<std::int64_t>(1, s.batch_histories / std::max(1, s.switches.source_splitting));
    r.max_histories = s.max_histories;
  }
  const std::string dir = s.use_cache ? (s.cache_dir.empty() ? default_calibration_cache_dir() : s.cache_dir) : "";
  if (!dir.empty()) {
    r.cache_file = dir + "/" + r.key + ".json";
    std::ifstream in(r.cache_file);
    if (in) {
      try {
        const json j = json::parse(in);
        if (j.at("key") == key) {
          r.ref_dose_gy_per_history = j.at("reference_dose_gy_per_history").get<double>();
          r.ref_rel_uncertainty = j.at("reference_rel_uncertainty").get<double>();
          r.ref_rel_uncertainty_quadrature = j.at("reference_rel_uncertainty_quadrature").get<double>();
          r.histories = j.at("histories").get<std::int64_t>();
          r.batches = j.at("batches").get<int>();
          r.stopped_by = j.at("stopped_by").get<std::string>();
          r.histories_per_mu = c.gy_per_mu / r.ref_dose_gy_per_history;
          r.from_cache = true;
          spdlog::info("calibration: from cache {}", r.cache_file);
          return r;
        }
      } catch (const std::exception&) {
        spdlog::warn("calibration cache {}: unreadable, recomputing", r.cache_file);
      }
    }
  }
  // Reference conditions in water: SSD, square field at the surface, depth.
  const std::array<double, 3> iso{0, 0, 0};
  const double surface_y = iso[1] - (m.machine.sad_cm - c.ssd_cm);
  Phantom ph = water_box({30, 30, 30}, {0.5, 0.5, 0.5}, iso, surface_y, *tables);
  TransportSetup ts;
  prepare_transport(ts, ph, std::move(tables));
  ts.tp.switches = s.switches;
  // A field defined at the surface; a robotic machine's reference cone is named by its
  // diameter at the SAD.
  const double field_iso = m.machine.kind == beams::DeliveryKind::robotic ? c.field_cm
                                                                           : c.field_cm * m.machine.sad_cm / c.ssd_cm;
  const beams::Plan plan = beams::reference_field_plan(m.machine, bm, field_iso, field_iso, iso, 100);
  beams::SourceOptions so;
  so.margin_cm = s.margin_cm;
  so.margin_density = s.switches.source_margin_density;
  so.phsp = s.phsp;
  const beams::PlanSource src(m.machine, bm, plan, {}, so);
  auto backend = make_backend(s.device, ts.tp, src.view(), s.seed);
  r.device = backend->description();
  const std::vector<std::vector<std::uint8_t>> regions{axis_region(ts.tp.phantom.grid, iso, surface_y, c.depth_cm, 1.0)};
  SimulationSettings st;
  st.distribute_over_ranks = false;  // each MPI rank runs it whole (deterministic, identical)
  st.seed = s.seed;
  st.regions = &regions;
  char field[64];
  if (m.machine.kind == beams::DeliveryKind::robotic)
    std::snprintf(field, sizeof field, "reference cone %g mm", 10 * c.field_cm);
  else if (m.machine.kind == beams::DeliveryKind::helical)
    std::snprintf(field, sizeof field, "reference field %.1f cm of open leaves, jaws at %.1f cm at most", c.field_cm,
                  c.field_cm);
  else
    std::snprintf(field, sizeof field, "reference field %.1f x %.1f cm", c.field_cm, c.field_cm);
  if (target_mode) {
    st.batch_histories = r.batch_histories;
    st.histories = s.max_histories / st.batch_histories * st.batch_histories;  // whole batches
    spdlog::info("calibration: {} at SSD {} cm in water, to {:.3g} % (1 sigma of "
                 "the region mean) in batches of {} histories, at most {} ({})",
                 field, c.ssd_cm, 100 * s.target_rel_uncertainty, st.batch_histories,
                 st.histories, backend->description());
  } else {
    st.histories = s.histories;
    st.batches = s.batches;
    spdlog::info("calibration: {} at SSD {} cm in water, {} histories ({})", field, c.ssd_cm, s.histories,
                 backend->description());
  }
  r.stopped_by = target_mode ? "history_cap" : "histories";
  const SimulationRun run = run_batches(ts.tp.phantom, st, *backend, [&](const BatchProgress& p) {
    const RegionEstimate e = region_batch_mean(p.region_energy_mev->at(0), *p.batch_histories);
    CalibrationProgress cp;
    cp.batches_done = p.batches_done;
    cp.histories_done = p.histories_done;
    cp.elapsed_s = p.elapsed_s;
    cp.rel_uncertainty = p.batches_done >= 2 ? e.rel_uncertainty : -1;
    cp.target_rel_uncertainty = s.target_rel_uncertainty;
    cp.histories_limit = st.histories;
    if (hook) hook(cp);
    if (target_mode && p.batches_done >= 10 && e.rel_uncertainty > 0 &&
        e.rel_uncertainty <= s.target_rel_uncertainty) {
      r.stopped_by = "target_uncertainty";
      return false;
    }
    return true;
  });
  const auto [dref, uquad] = axis_dose(run.dose, iso, surface_y, c.depth_cm, 1.0);
  const RegionEstimate e = region_batch_mean(run.region_energy_mev.at(0), run.batch_histories);
  r.ref_dose_gy_per_history = dref;
  r.ref_rel_uncertainty = e.rel_uncertainty;
  r.ref_rel_uncertainty_quadrature = uquad;
  r.histories_per_mu = c.gy_per_mu / dref;
  r.histories = run.dose.histories;
  r.batches = run.dose.batches;
  r.wall_seconds = run.dose.wall_seconds;
  if (r.stopped_by == "history_cap")
    spdlog::warn("calibration: the target {:.3g} % was not reached within {} histories: {:.3g} %",
                 100 * s.target_rel_uncertainty, r.histories, 100 * r.ref_rel_uncertainty);
  spdlog::info("calibration: {} histories in {} batches, {:.1f} s: reference dose {:.6g} Gy/history +- {:.3g} % "
               "(batches; voxels in quadrature {:.3g} %)",
               r.histories, r.batches, r.wall_seconds, dref, 100 * r.ref_rel_uncertainty, 100 * uquad);
  if (!dir.empty()) {
    try {
      fs::create_directories(dir);
      OutputFile out(r.cache_file);
      {
        std::ofstream f(out.temp_path());
        f << json{{"key", key},
                  {"reference_dose_gy_per_history", dref},
                  {"reference_rel_uncertainty", r.ref_rel_uncertainty},
                  {"reference_rel_uncertainty_quadrature", uquad},
                  {"histories", r.histories},
                  {"batches", r.batches},
                  {"stopped_by", r.stopped_by},
                  {"gy_per_mu_reference", c.gy_per_mu},
                  {"wall_seconds", r.wall_seconds},
                  {"device", r.device}}
                 .dump(2)
          << "\n";
        f.close();
        if (!f) throw RuntimeError(r.cache_file + ": cannot write");
      }
      out.commit();
    } catch (const std::exception& ex) {
      spdlog::warn("calibration cache not written: {}", ex.what());
      r.cache_file.clear();
    }
  }
  return r;
}

}  // namespace sabre
