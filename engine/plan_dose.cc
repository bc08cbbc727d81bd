#include "engine/plan_dose.hh"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/backend.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"
#include "engine/simulate_phantom.hh"
#include "physics/transport/majorant.hh"

namespace sabre {
namespace fs = std::filesystem;

std::string default_machine_dir() { return build::data_dir() + "/beams/machines"; }

const beams::BeamModel& PlanMachine::beam() const {
  for (const auto& b : machine.beams)
    if (b.name == beam_name) return b;
  throw std::logic_error("PlanMachine: beam " + beam_name + " not in " + file);
}

PlanMachine choose_machine(const beams::Plan& plan, const std::string& machine,
                           const std::string& plan_path) {
  if (plan.beams.empty()) throw InputError(plan_path, "no treatment beams");
  std::vector<std::string> files;
  if (machine.empty()) {
    files = beams::machine_files(default_machine_dir());
    if (files.empty()) throw RuntimeError("no machine files in " + default_machine_dir());
  } else {
    std::string f = machine;
    if (f.find('/') == std::string::npos && f.find(".toml") == std::string::npos)
      f = default_machine_dir() + "/" + machine + ".toml";
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) throw InputError(f, "machine file not found (--machine " + machine + ")");
    files = {f};
  }
  std::vector<beams::Machine> machines;
  for (const auto& f : files) machines.push_back(beams::load_machine(f));
  const beams::Machine* chosen = nullptr;
  const beams::BeamModel* beam = nullptr;
  for (const auto& b : plan.beams) {
    beams::MachineChoice c;
    try {
      c = beams::select_machine(b, machines, plan_path);
    } catch (const InputError& e) {
      // One line: the candidates' reasons joined with "; ".
      std::string m = e.what();
      std::string one;
      for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') {
          while (one.size() && (one.back() == ';' || one.back() == ' ')) one.pop_back();
          one += "; ";
          while (i + 1 < m.size() && m[i + 1] == ' ') ++i;
        } else {
          one += m[i];
        }
      }
      throw InputError(one);
    }
    if (chosen && (c.machine != chosen || c.beam != beam))
      throw InputError(plan_path, "beam " + std::to_string(b.number) + " needs " + c.machine->name + " " +
                                      c.beam->name + " but an earlier beam " + chosen->name + " " + beam->name +
                                      ": one machine and beam model per run");
    chosen = c.machine;
    beam = c.beam;
  }
  PlanMachine out;
  out.machine = *chosen;
  out.beam_name = beam->name;
  out.file = chosen->path.empty() ? files[std::size_t(chosen - machines.data())] : chosen->path;
  return out;
}

void prepare_transport(TransportSetup& s, const Phantom& phantom,
                       std::unique_ptr<phys::MaterialTables> tables) {
  s.tables = std::move(tables);
  s.tp.phantom = phantom.view();
  s.tp.materials = s.tables->data();
  phys::use_phantom_majorant(s.tp, s.majorant);
}

void prepare_transport(TransportSetup& s, const Phantom& phantom, const std::string& tables_path) {
  prepare_transport(s, phantom,
                    std::make_unique<phys::MaterialTables>(tables_path.empty() ? default_tables_path() : tables_path));
}

Phantom water_box(const std::array<double, 3>& size_cm, const std::array<double, 3>& voxel_cm,
                  const std::array<double, 3>& iso_cm, double surface_y_cm,
                  const phys::MaterialTables& tables) {
  Phantom p;
  auto& g = p.grid;
  g.nx = int(std::lround(size_cm[0] / voxel_cm[0]));
  g.ny = int(std::lround(size_cm[1] / voxel_cm[1]));
  g.nz = int(std::lround(size_cm[2] / voxel_cm[2]));
  if (g.nx < 1 || g.ny < 1 || g.nz < 1) throw UsageError("water box: --size must hold at least one --voxel");
  g.spacing_cm = {voxel_cm[0], voxel_cm[1], voxel_cm[2]};
  g.origin_cm = {iso_cm[0] - 0.5 * g.nx * voxel_cm[0], surface_y_cm, iso_cm[2] - 0.5 * g.nz * voxel_cm[2]};
  p.material.assign(g.size(), 0);
  p.material_names = {"water"};
  p.resolve_materials(tables.names(), "(water box)");
  const int water = p.material.empty() ? 0 : p.material[0];
  p.density_g_cm3.assign(g.size(), float(tables.density_g_cm3(water)));
  return p;
}

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
  return json{{"sabre_version", build::version()},
              {"sabre_commit", build::git_commit()},
              {"machine_file_sha256", sha256_file(m.file)},
              {"machine", m.machine.name},
              {"beam", m.beam_name},
              {"tables_sha256", tables_sha},
              {"reference_histories", s.histories},
              {"reference_seed", s.seed},
              {"reference_batches", s.batches},
              {"margin_cm", s.margin_cm}};
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
  beams::LinacOptions lo;
  lo.margin_cm = s.margin_cm;
  const beams::LinacSource src(m.machine, bm, plan, {}, lo);
  auto backend = make_backend(s.device, ts.tp, src.view(), s.seed);
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
