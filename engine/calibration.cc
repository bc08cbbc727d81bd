#include "engine/calibration.hh"

#include <cmath>
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

std::pair<double, double> axis_dose(const DoseResult& d, const std::array<double, 3>& iso,
                                    double surface_y, double depth_cm, double half_cm) {
  const auto& g = d.grid;
  double sum = 0, var = 0;
  int n = 0;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const auto c = g.voxel_centre(i, j, k);
        if (std::abs(c.x - iso[0]) > half_cm || std::abs(c.z - iso[2]) > half_cm ||
            std::abs(c.y - surface_y - depth_cm) > 0.5)
          continue;
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

namespace {

using nlohmann::json;

json key_fields(const PlanMachine& m, const CalibrationSettings& s, const std::string& tables_sha) {
  json k{{"sabre_version", build::version()},
              {"sabre_commit", build::git_commit()},
              {"machine_file_sha256", sha256_file(m.file)},
              {"machine", m.machine.name},
              {"beam", m.beam_name},
              {"tables_sha256", tables_sha},
              {"reference_histories", s.histories},
              {"reference_seed", s.seed},
              {"reference_batches", s.batches},
              {"margin_cm", s.margin_cm}};
  // Only a phase-space source adds a field: VSM keys are those of earlier versions.
  if (s.phsp) k["phase_space_sha256"] = s.phsp_sha256;
  return k;
}

}  // namespace

CalibrationResult calibrate(const PlanMachine& m, const CalibrationSettings& s, const ProgressHook& hook) {
  const beams::BeamModel& bm = m.beam();
  const auto& c = bm.calibration;
  if (!(c.gy_per_mu > 0) || !(c.ssd_cm > 0) || !(c.field_cm > 0))
    throw InputError(m.file, "beam " + bm.name + ": no calibration (reference conditions) to convert to Gy");
  auto tables =
      std::make_unique<phys::MaterialTables>(s.tables_path.empty() ? default_tables_path() : s.tables_path);
  const std::string tables_sha = tables->file_sha256();
  const json key = key_fields(m, s, tables_sha);
  CalibrationResult r;
  r.key = sha256_hex(key.dump());
  r.histories = s.histories;
  r.seed = s.seed;
  r.gy_per_mu = c.gy_per_mu;
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
  const double field_iso = c.field_cm * m.machine.sad_cm / c.ssd_cm;  // field defined at the surface
  const beams::Plan plan = beams::reference_field_plan(m.machine, bm, field_iso, field_iso, iso, 100);
  beams::SourceOptions so;
  so.margin_cm = s.margin_cm;
  so.phsp = s.phsp;
  const beams::PlanSource src(m.machine, bm, plan, {}, so);
  auto backend = make_backend(s.device, ts.tp, src.view(), s.seed);
  r.device = backend->description();
  SimulationSettings st;
  st.histories = s.histories;
  st.batches = s.batches;
  st.seed = s.seed;
  spdlog::info("calibration: reference field {:.1f} x {:.1f} cm at SSD {} cm in water, {} histories ({})",
               c.field_cm, c.field_cm, c.ssd_cm, s.histories, backend->description());
  const SimulationRun run = run_batches(ts.tp.phantom, st, *backend, hook);
  const auto [dref, uref] = axis_dose(run.dose, iso, surface_y, c.depth_cm, 1.0);
  r.ref_dose_gy_per_history = dref;
  r.ref_rel_uncertainty = uref;
  r.histories_per_mu = c.gy_per_mu / dref;
  r.wall_seconds = run.dose.wall_seconds;
  if (!dir.empty()) {
    try {
      fs::create_directories(dir);
      OutputFile out(r.cache_file);
      {
        std::ofstream f(out.temp_path());
        f << json{{"key", key},
                  {"reference_dose_gy_per_history", dref},
                  {"reference_rel_uncertainty", uref},
                  {"gy_per_mu_reference", c.gy_per_mu},
                  {"wall_seconds", r.wall_seconds}}
                 .dump(2)
          << "\n";
        if (!f) throw RuntimeError(r.cache_file + ": cannot write");
      }
      out.commit();
    } catch (const std::exception& e) {
      spdlog::warn("calibration cache not written: {}", e.what());
      r.cache_file.clear();
    }
  }
  return r;
}

}  // namespace sabre
