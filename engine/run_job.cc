#include "engine/run_job.hh"

#include "engine/dose_to_water.hh"
#include "engine/efficiency.hh"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <unistd.h>

#include "beams/plan_source.hh"
#include "engine/backend.hh"
#include "engine/calibration.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/ranks.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"
#include "engine/ct_phantom.hh"
#include "engine/device_spec.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/rtdose.hh"
#include "engine/io/rtplan.hh"
#include "engine/io/tally_hdf5.hh"
#include "engine/plan_dose.hh"
#include "engine/simulate_phantom.hh"
#include "engine/viz/dose_pictures.hh"
#include "engine/viz/png.hh"
#include "kernels/charged_policy.hh"

namespace sabre {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// Voxels that count for the headline uncertainty and the maximum dose: mass density at
// least this [g/cm^3]. Excludes the air around the patient (and air in the airways), where
// a few electrons give huge, meaningless doses; keeps lung (about 0.26 g/cm^3).
constexpr double kHeadlineMinDensity = 0.05;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The PNG directory: an existing writable directory, or one whose parent is (created at
// the end, only when everything else succeeded).
void check_png_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw RuntimeError(dir + ": cannot write pictures: not a directory");
    check_output_paths({(fs::path(dir) / "axial.png").string()});
  } else {
    check_output_paths({dir});  // its parent exists and is writable
  }
}

struct RoiStats {
  std::string name;
  double volume_cm3 = 0, mean = 0, min = 0, max = 0, d95 = 0, d2 = 0;
};

std::vector<RoiStats> roi_stats(const io::StructureSet& rs, const DoseResult& d, const std::string& rs_path) {
  std::vector<RoiStats> out;
  const double vox_cm3 = d.grid.spacing_cm.x * d.grid.spacing_cm.y * d.grid.spacing_cm.z;
  for (const auto& roi : rs.rois) {
    std::vector<std::uint8_t> mask;
    try {
      mask = io::rasterise(roi, d.grid, rs_path);
    } catch (const InputError&) {
      continue;
    }
    std::vector<double> v;
    for (std::size_t i = 0; i < mask.size(); ++i)
      if (mask[i]) v.push_back(d.dose_gy[i]);
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    RoiStats s;
    s.name = roi.name;
    s.volume_cm3 = double(v.size()) * vox_cm3;
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / double(v.size());
    s.min = v.front();
    s.max = v.back();
    // D95: the dose that 95 % of the volume receives at least (voxel counting).
    auto dvol = [&](double frac) {
      const std::size_t idx = std::size_t(std::floor((1.0 - frac) * double(v.size() - 1)));
      return v[std::min(idx, v.size() - 1)];
    };
    s.d95 = dvol(0.95);
    s.d2 = dvol(0.02);
    out.push_back(s);
  }
  return out;
}

// Beam 1's central axis direction (patient LPS) for an HFS patient, couch 0: gantry 0 beams
// travel +y (anterior to posterior), gantry 90 beams -x.
std::array<double, 3> beam_direction(double gantry_deg) {
  const double t = gantry_deg * M_PI / 180.0;
  return {-std::sin(t), std::cos(t), 0.0};
}

std::string csv_of(const std::vector<double>& x, const std::vector<double>& y, const char* xname) {
  std::ostringstream s;
  s.precision(8);
  s << xname << ",dose_gy\n";
  for (std::size_t i = 0; i < x.size(); ++i) s << x[i] << "," << y[i] << "\n";
  return s.str();
}

// ---- the stages of a job ---------------------------------------------------------------

// Stage 0: the configuration and every output path, before any work.
void check_job(const RunConfig& cfg) {
  validate(cfg);
  if (!kernels::kChargedTransportAvailable)
    throw RuntimeError("this build has no electron/positron transport: refusing to compute dose");
  std::vector<std::string> outs;
  // A part writes its part file (and the summary) only; a checkpoint is written as it goes.
  if (cfg.part_count > 1) {
    for (const auto* p : {&cfg.part_output, &cfg.summary_json})
      if (!p->empty()) outs.push_back(*p);
    if (!cfg.output_h5.empty() || !cfg.output_rtdose.empty() || !cfg.output_png_dir.empty())
      spdlog::info("--part: only the part file is written; the dose outputs come from the merge");
  } else {
    for (const auto* p : {&cfg.output_h5, &cfg.output_rtdose, &cfg.summary_json})
      if (!p->empty()) outs.push_back(*p);
  }
  if (!cfg.checkpoint.empty()) outs.push_back(cfg.checkpoint);
  check_output_paths(outs);
  if (!cfg.output_png_dir.empty() && cfg.part_count == 1) check_png_dir(cfg.output_png_dir);
}

// Stage 1: the inputs, read and cross-checked: plan and machine model, CT and structures on
// the dose grid (frames of reference must agree), physics tables.
struct JobInputs {
  DeviceSpec device;
  beams::Plan plan;
  PlanMachine pm;
  CtPhantom cp;
  std::string tables_path, tables_sha;
  phys::Cuts cuts;
  std::unique_ptr<phys::MaterialTables> tables;  // moved into the transport in stage 3
  std::vector<std::uint8_t> headline;           // voxels of density >= kHeadlineMinDensity
  std::vector<double> water_factors;            // --dose-to water: s_w,m per phantom material
};

JobInputs read_inputs(const RunConfig& cfg) {
  JobInputs in;
  in.device = parse_device_spec(cfg.device);
  in.plan = io::read_plan(cfg.rtplan);
  if (in.plan.beams.empty()) throw InputError(cfg.rtplan, "no treatment beams");
  in.pm = choose_machine(in.plan, cfg.machine, cfg.rtplan);

  CtPhantomOptions co;
  co.ct_path = cfg.ct_dir;
  co.structures_path = cfg.rtstruct;
  if (!cfg.calibration.empty()) co.calibration = cfg.calibration;
  co.overrides = cfg.overrides;
  co.air_outside_body = cfg.outside_body_to_air;
  co.dose_grid_mm = cfg.dose_grid_mm;
  in.cp = load_ct_phantom(co);
  const std::string& ct_for = in.cp.ct.ids.frame_of_reference_uid;
  if (in.cp.structures) {
    const std::string& rs_for = in.cp.structures->frame_of_reference_uid;
    if (rs_for.empty())
      spdlog::warn("{}: no frame of reference; assuming the CT's", cfg.rtstruct);
    else if (!ct_for.empty() && rs_for != ct_for)
      throw InputError(cfg.rtstruct, "its frame of reference " + rs_for + " is not the CT's (" + ct_for + ")");
  }
  if (!in.plan.frame_of_reference_uid.empty() && !ct_for.empty() && in.plan.frame_of_reference_uid != ct_for)
    throw InputError(cfg.rtplan, "its frame of reference " + in.plan.frame_of_reference_uid + " is not the CT's (" +
                                     ct_for + ")");
  check_nodes_outside_patient(in.plan, in.pm.machine, in.cp.phantom, cfg.rtplan);
  in.tables_path = cfg.tables.empty() ? default_tables_path() : cfg.tables;
  in.tables = std::make_unique<phys::MaterialTables>(in.tables_path);
  in.tables_sha = in.tables->file_sha256();
  in.cuts = in.tables->cuts();
  in.cp.phantom.resolve_materials(in.tables->names(), cfg.ct_dir);
  if (cfg.dose_to_water) {
    const auto& b = in.pm.beam();
    in.water_factors = water_to_medium_factors(*in.tables, in.cp.phantom.material_names, b.spectrum_energies_mev,
                                               b.spectrum_weights);
  }
  in.headline.assign(in.cp.phantom.density_g_cm3.size(), 0);
  for (std::size_t v = 0; v < in.headline.size(); ++v)
    in.headline[v] = in.cp.phantom.density_g_cm3[v] >= kHeadlineMinDensity ? 1 : 0;
  return in;
}

// Stage 2: histories per MU from the reference field in water (or the cache).
CalibrationResult calibrate_stage(const RunConfig& cfg, const JobInputs& in, ProgressReporter::Mode mode,
                                  double& seconds) {
  ProgressReporter reporter(mode);
  CalibrationSettings cs;
  choose_calibration(cs, cfg.calibration_uncertainty, cfg.calibration_histories, cfg.calibration_batch_histories);
  cs.seed = cfg.calibration_seed >= 0 ? std::uint64_t(cfg.calibration_seed) : cfg.seed + 1000003;
  cs.tables_path = in.tables_path;
  cs.device = in.device;
  cs.use_cache = cfg.calibration_cache;
  cs.cache_dir = cfg.calibration_cache_dir;
  cs.switches = cfg.physics;
  const auto t0 = Clock::now();
  CalibrationResult cal = calibrate(in.pm, cs, [&](const CalibrationProgress& p) {
    interrupt::throw_if_requested();
    ProgressState s;
    s.histories = p.histories_done;
    s.elapsed_s = p.elapsed_s;
    s.uncertainty = p.rel_uncertainty;
    s.target_histories = p.histories_limit;
    s.target_uncertainty = p.target_rel_uncertainty;
    reporter.update(s);
  });
  reporter.finish();
  seconds = seconds_since(t0);
  return cal;
}

// Stage 3: the plan's histories in batches until the first stopping rule.
struct Transported {
  DoseResult dose;          // per history
  std::string stopped_by;   // histories, target_uncertainty or time_limit
  double total_mu = 0;
  BatchTally tally;         // the batches behind `dose` (a part file's /tally)
  io::TallyInfo info;       // which job and batches
};

// The batch layout: a fixed count in cfg.batches batches, or open-ended batches (a target
// uncertainty or time limit) whose default size depends on the device.
SimulationSettings batch_settings(const RunConfig& cfg, bool on_cuda) {
  SimulationSettings st;
  st.seed = cfg.seed;
  if (cfg.target_uncertainty > 0 || cfg.time_limit_s > 0) {
    // Default batch size: small enough on the CPU for a prompt answer to a signal and a
    // fine-grained stop, large on a GPU (launch and fold overheads), and at most a tenth of
    // a history limit so that the 10 batches a target needs fit.
    std::int64_t dflt = on_cuda ? 1000000 : 20000;
    if (cfg.histories > 0) dflt = std::max<std::int64_t>(1, std::min(dflt, cfg.histories / cfg.batches));
    st.batch_histories = cfg.batch_histories > 0 ? cfg.batch_histories : dflt;
    st.histories = cfg.histories > 0 ? cfg.histories : st.batch_histories * (std::int64_t(1) << 29);
    if (st.histories < 2 * st.batch_histories)
      throw UsageError("--histories " + std::to_string(cfg.histories) + " must allow at least 2 batches of " +
                       std::to_string(st.batch_histories) + " (--batch-histories)");
  } else {
    st.histories = cfg.histories;
    st.batches = cfg.batches;
  }
  return st;
}

// The job's identity for parts, checkpoints and merges (engine/io/tally_hdf5.hh): what
// decides the transported dose bit for bit (the input files' bytes, the dose grid and
// overrides, the tables, the seed and batch layout, the target, the physics switches, the
// sabre build), nothing that does not (device, threads, output paths, the calibration,
// which every run and merge computes for itself).
io::TallyInfo job_info(const RunConfig& cfg, const JobInputs& in, const SimulationSettings& st) {
  std::ostringstream id;
  id.precision(17);
  id << "sabre run job v1\n";
  for (const auto& [k, v] : in.cp.provenance)
    if (k.rfind("input_sha256:", 0) == 0) id << k << " " << v << "\n";
  id << "rt_plan " << sha256_file(cfg.rtplan) << "\nmachine " << sha256_file(in.pm.file) << " " << in.pm.beam().name
     << "\ntables " << (in.tables_sha.empty() ? sha256_file(in.tables_path) : in.tables_sha) << "\n";
  for (const auto& o : cfg.overrides)
    id << "override " << o.roi << " " << o.material << " " << (o.density_g_cm3 ? *o.density_g_cm3 : -1.0) << "\n";
  id << "outside_body_to_air " << cfg.outside_body_to_air << "\ndose_grid_mm " << cfg.dose_grid_mm << "\nseed "
     << st.seed << "\nhistories " << st.histories << "\nbatches " << st.batches << "\nbatch_histories "
     << st.batch_histories << "\ntarget " << cfg.target_uncertainty << "\nphysics "
     << efficiency_description(cfg.physics) << "\nsabre " << build::git_commit() << "\n";
  io::TallyInfo ti;
  ti.job_kind = "run";
  ti.job_digest = sha256_hex(id.str());
  ti.sabre_commit = build::git_commit();
  ti.batches_total = batch_count(st);
  ti.histories_total = st.histories;
  ti.part_index = cfg.part_index;
  ti.part_count = cfg.part_count;
  if (cfg.part_count > ti.batches_total)
    throw UsageError("--part " + std::to_string(cfg.part_index) + "/" + std::to_string(cfg.part_count) +
                     ": more parts than batches (" + std::to_string(ti.batches_total) + ")");
  ti.first_batch = ti.batches_total * cfg.part_index / cfg.part_count;
  ti.next_batch = ti.batches_total * (cfg.part_index + 1) / cfg.part_count;  // the part's end until run
  return ti;
}

// A tally's dose per history with the phantom's maps and the job's provenance: a part
// file or a checkpoint (with /tally), before calibration.
void write_tally_file(const std::string& path, const JobInputs& in, const phys::PhantomView& view,
                      const BatchTally& tally, const io::TallyInfo& info, const std::string& device) {
  DoseResult d;
  fill_dose_from_tally(view, tally, &in.headline, d);
  d.material = in.cp.phantom.material;
  d.density_g_cm3 = in.cp.phantom.density_g_cm3;
  d.material_names = in.cp.phantom.material_names;
  d.device = device;
  d.provenance = in.cp.provenance;
  d.provenance["job_digest"] = info.job_digest;
  if (info.part_count > 1)
    d.provenance["part"] = std::to_string(info.part_index) + "/" + std::to_string(info.part_count);
  io::write_dose_hdf5(path, d, [&](hid_t f) { io::write_tally_group(f, path, tally, info); });
}

Transported transport_stage(const RunConfig& cfg, JobInputs& in, ProgressReporter::Mode mode) {
  TransportSetup ts;
  prepare_transport(ts, in.cp.phantom, std::move(in.tables));
  ts.tp.switches = cfg.physics;
  beams::SourceOptions so;
  so.margin_density = cfg.physics.source_margin_density;
  const beams::PlanSource src(in.pm.machine, in.pm.beam(), in.plan, {}, so);
  auto backend = make_backend(in.device, ts.tp, src.view(), cfg.seed);
  const bool on_cuda = backend->description().rfind("cuda", 0) == 0;
  SimulationSettings st = batch_settings(cfg, on_cuda);
  st.headline_mask = &in.headline;
  const bool open_ended = st.batch_histories > 0;
  Transported out;
  out.info = job_info(cfg, in, st);
  st.first_batch = int(out.info.first_batch);
  st.end_batch = int(out.info.next_batch);
  io::TallyFile resumed;
  if (!cfg.resume.empty()) {
    resumed = io::read_tally_file(cfg.resume);
    io::check_resumable(resumed, out.info, ts.tp.phantom.grid.size(), cfg.resume);
    st.resume = &resumed.tally;
    st.first_batch = int(resumed.info.next_batch);
    spdlog::info("resuming from {}: {} batches ({} histories) done", cfg.resume, resumed.tally.batches(),
                 resumed.tally.histories());
  }
  CheckpointHooks ck;
  auto last_write = Clock::now();
  if (!cfg.checkpoint.empty()) {
    ck.due = [&] { return seconds_since(last_write) >= cfg.checkpoint_interval_s; };
    ck.write = [&](const CheckpointState& cs) {
      io::TallyInfo info = out.info;
      info.next_batch = cs.next_batch;
      write_tally_file(cfg.checkpoint, in, ts.tp.phantom, *cs.tally, info, "checkpoint");
      last_write = Clock::now();
      spdlog::info("checkpoint: {} batches ({} histories) written to {}{}", cs.tally->batches(),
                   cs.tally->histories(), cfg.checkpoint, cs.interrupted ? " (stopping)" : "");
    };
  }
  const beams::BeamModel& bm = in.pm.beam();
  spdlog::info("run: {} beam(s), {:.1f} MU, {} {} ({}), {}{}", in.plan.beams.size(), src.total_mu(),
               in.pm.machine.name, bm.name, in.pm.file, backend->description(),
               open_ended ? "open-ended batches of " + std::to_string(st.batch_histories) + " histories"
                          : std::to_string(st.batches) + " batches",
               cfg.part_count > 1 ? ", part " + std::to_string(cfg.part_index) + "/" +
                                        std::to_string(cfg.part_count) + " (batches " +
                                        std::to_string(out.info.first_batch) + ".." +
                                        std::to_string(out.info.next_batch) + ")"
                                  : "");
  ProgressReporter reporter(mode);
  out.stopped_by = "histories";
  out.total_mu = src.total_mu();
  double last_batch_s = 0, prev_elapsed = 0;
  SimulationRun run = run_batches(ts.tp.phantom, st, *backend, [&](const BatchProgress& p) {
    interrupt::throw_if_requested();
    last_batch_s = p.elapsed_s - prev_elapsed;
    prev_elapsed = p.elapsed_s;
    ProgressState s;
    s.histories = p.histories_done;
    s.elapsed_s = p.elapsed_s;
    s.uncertainty = p.batches_done >= 2 ? p.mean_rel_uncertainty_50 : -1;
    s.target_histories = cfg.histories;
    s.target_uncertainty = cfg.target_uncertainty;
    s.time_limit_s = cfg.time_limit_s;
    reporter.update(s);
    if (!open_ended) return true;
    if (cfg.target_uncertainty > 0 && p.batches_done >= 10 && p.mean_rel_uncertainty_50 > 0 &&
        p.mean_rel_uncertainty_50 <= cfg.target_uncertainty) {
      out.stopped_by = "target_uncertainty";
      return false;
    }
    // Stop when the next batch would end past the limit (keeping >= 2 batches).
    if (cfg.time_limit_s > 0 && p.batches_done >= 2 && p.elapsed_s + last_batch_s > cfg.time_limit_s) {
      out.stopped_by = "time_limit";
      return false;
    }
    return true;
  }, ck);
  reporter.finish();
  interrupt::throw_if_requested();
  out.dose = std::move(run.dose);
  out.info.next_batch = run.next_batch;
  if (cfg.part_count > 1 && ranks::rank() == 0)
    write_tally_file(cfg.part_output, in, ts.tp.phantom, run.tally, out.info, out.dose.device);
  out.tally = std::move(run.tally);
  return out;
}

// Stage 3 of `--merge`: the parts' tallies (every part of this job) in place of the
// transport; the dose is the one a single run of the job computes, bit for bit.
Transported merged_stage(const RunConfig& cfg, const JobInputs& in) {
  SimulationSettings st = batch_settings(cfg, false);  // parts are fixed-count runs
  io::TallyInfo expect = job_info(cfg, in, st);
  io::MergedParts m = io::merge_parts(cfg.merge_parts, "run", "combine the parts of a `sabre simulate` job with "
                                                              "`sabre merge`");
  const std::string& f = cfg.merge_parts[0];
  if (m.info.sabre_commit != expect.sabre_commit)
    throw InputError(f, "written by another sabre build (" + m.info.sabre_commit + ", this is " + expect.sabre_commit +
                            ")");
  if (m.info.job_digest != expect.job_digest)
    throw InputError(f, "a part of another job than the one these arguments describe (CT, structures, plan, machine, "
                        "tables, overrides, seed, histories, batches or physics switches differ)");
  if (m.tally.voxels() != in.cp.phantom.grid.size()) throw InputError(f, "its grid differs from this job's");
  Transported out;
  fill_dose_from_tally(in.cp.phantom.view(), m.tally, &in.headline, out.dose);
  out.dose.seed = cfg.seed;
  out.dose.device = m.devices;
  out.dose.wall_seconds = m.wall_seconds;
  out.stopped_by = "histories";
  out.total_mu = beams::PlanSource(in.pm.machine, in.pm.beam(), in.plan).total_mu();
  out.info = m.info;
  out.info.part_index = 0;
  out.info.part_count = 1;
  out.info.first_batch = 0;
  out.info.next_batch = m.info.batches_total;
  spdlog::info("merged {}", m.from);
  out.tally = std::move(m.tally);
  return out;
}

// Stage 4: Gy per fraction (histories per MU from the reference run, times the plan's MU),
// the material maps and the provenance.
DoseResult absolute_dose(const RunConfig& cfg, const JobInputs& in, const CalibrationResult& cal,
                         const Transported& t) {
  DoseResult d = t.dose;
  const double scale = cal.histories_per_mu * t.total_mu;
  for (double& v : d.dose_gy) v *= scale;
  d.dose_unit = "Gy";
  d.dose_to_water = cfg.dose_to_water;
  if (cfg.dose_to_water) {
    // D_w = D_m x s_w,m of the voxel's material (engine/dose_to_water.hh); the relative
    // uncertainties are unchanged.
    for (std::size_t v = 0; v < d.dose_gy.size(); ++v) d.dose_gy[v] *= in.water_factors.at(in.cp.phantom.material[v]);
  }
  // The statistical headline (the stopping rule's figure) stays statistical; the
  // calibration's uncertainty is common to every voxel and joins it in quadrature in the
  // HDF5's /dose/rel_uncertainty and in the summary's totals.
  d.mean_rel_uncertainty_50 = mean_rel_uncertainty_above_half_max(d.dose_gy, d.rel_uncertainty, in.headline);
  d.calibration_rel_uncertainty = cal.ref_rel_uncertainty;
  d.material = in.cp.phantom.material;
  d.density_g_cm3 = in.cp.phantom.density_g_cm3;
  d.material_names = in.cp.phantom.material_names;
  d.provenance = in.cp.provenance;
  d.provenance["rt_plan"] = cfg.rtplan;
  d.provenance["input_sha256:rt_plan"] = sha256_file(cfg.rtplan);
  d.provenance["rt_plan_sop_instance_uid"] = in.plan.sop_instance_uid;
  d.provenance["machine_model"] = in.pm.file;
  d.provenance["machine_model_sha256"] = sha256_file(in.pm.file);
  d.provenance["input_sha256:machine_model"] = d.provenance["machine_model_sha256"];
  d.provenance["machine_beam"] = in.pm.beam().name;
  d.provenance["physics_tables"] = in.tables_path;
  d.provenance["physics_tables_sha256"] = in.tables_sha;
  d.provenance["input_sha256:physics_tables"] = in.tables_sha.empty() ? sha256_file(in.tables_path) : in.tables_sha;
  add_efficiency_provenance(d.provenance, cfg.physics);
  d.provenance["total_mu"] = std::to_string(t.total_mu);
  d.provenance["dose_per"] = "fraction";
  d.provenance["fractions_planned"] = std::to_string(in.plan.fractions_planned);
  d.provenance["stopped_by"] = t.stopped_by;
  d.provenance["calibration_histories_per_mu"] = std::to_string(cal.histories_per_mu);
  d.provenance["calibration_reference_rel_uncertainty"] = std::to_string(cal.ref_rel_uncertainty);
  d.provenance["calibration_from_cache"] = cal.from_cache ? "true" : "false";
  d.provenance["calibration_mode"] = cal.mode;
  d.provenance["calibration_stopped_by"] = cal.stopped_by;
  d.provenance["calibration_reference_histories"] = std::to_string(cal.histories);
  if (!cfg.source_file.empty()) {
    d.provenance["run_file"] = cfg.source_file;
    d.provenance["input_sha256:run_file"] = sha256_file(cfg.source_file);
  }
  d.provenance["headline_voxels"] = "density_g_cm3 >= 0.05";
  d.provenance["dose_quantity"] = d.quantity();
  if (cfg.dose_to_water) {
    d.provenance["dose_to_water_method"] = kDoseToWaterMethod;
    for (std::size_t m = 0; m < in.water_factors.size(); ++m) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.12g", in.water_factors[m]);
      d.provenance["dose_to_water_s_w_m:" + in.cp.phantom.material_names[m]] = buf;
    }
  }
  d.provenance["job_digest"] = t.info.job_digest;
  if (!cfg.merge_parts.empty()) {
    std::string from;
    for (const auto& p : cfg.merge_parts) from += (from.empty() ? "" : ", ") + p;
    d.provenance["merged_from"] = std::to_string(cfg.merge_parts.size()) + " parts: " + from;
  }
  if (!cfg.resume.empty()) d.provenance["resumed_from"] = cfg.resume;
  return d;
}

// The maximum dose over the headline voxels, and where.
struct DoseMax {
  double gy = 0;
  phys::Vec3 at_cm;
  std::size_t index = 0;
};
DoseMax dose_max(const DoseResult& d, const std::vector<std::uint8_t>& headline) {
  std::size_t imax = 0;
  for (std::size_t i = 1; i < d.dose_gy.size(); ++i)
    if (headline[i] && (!headline[imax] || d.dose_gy[i] > d.dose_gy[imax])) imax = i;
  const auto& g = d.grid;
  const int mi = int(imax % std::size_t(g.nx)), mj = int((imax / std::size_t(g.nx)) % std::size_t(g.ny)),
            mk = int(imax / (std::size_t(g.nx) * std::size_t(g.ny)));
  DoseMax m;
  m.at_cm = g.voxel_centre(mi, mj, mk);
  m.gy = d.dose_gy.empty() ? 0 : d.dose_gy[imax];
  m.index = imax;
  return m;
}

// The uncertainty of the absolute dose: statistical (the stopping rule's figure),
// calibration, and the two in quadrature, over the headline voxels and at the maximum.
json uncertainty_json(const DoseResult& d, const std::vector<std::uint8_t>& headline, const DoseMax& mx) {
  const std::vector<double> total = total_rel_uncertainty(d);
  const double total50 = mean_rel_uncertainty_above_half_max(d.dose_gy, total, headline);
  const double stat_max = d.rel_uncertainty.empty() ? 0 : d.rel_uncertainty[mx.index];
  const double total_max = total.empty() ? 0 : total[mx.index];
  return {{"statistical_mean_rel_50", d.mean_rel_uncertainty_50},
          {"calibration_rel", d.calibration_rel_uncertainty},
          {"total_mean_rel_50", total50},
          {"statistical_rel_at_max", stat_max},
          {"total_rel_at_max", total_max},
          {"definition",
           "relative 1-sigma. statistical: batch method, mean over the headline voxels (density >= 0.05 g/cm3, "
           "dose > 50 % of their maximum), the figure the target uncertainty stops on; calibration: the "
           "reference run's 1-sigma (batch spread of its region mean), common to every voxel; total: per voxel "
           "sqrt(statistical^2 + calibration^2), averaged over the same voxels (HDF5 /dose/rel_uncertainty)"}};
}

// Stage 5: the summary (without outputs and total time, added when written).
json summarize(const RunConfig& cfg, const JobInputs& in, const CalibrationResult& cal, double cal_seconds,
               const Transported& t, const DoseResult& d, const DoseMax& mx) {
  const auto& g = d.grid;
  const beams::BeamModel& bm = in.pm.beam();
  json summary;
  summary["status"] = "completed";
  summary["sabre"] = {{"version", build::version()}, {"commit", build::git_commit()}};
  summary["stopped_by"] = t.stopped_by;
  summary["histories"] = d.histories;
  summary["batches"] = d.batches;
  summary["transport_seconds"] = d.wall_seconds;
  summary["histories_per_second"] = d.wall_seconds > 0 ? double(d.histories) / d.wall_seconds : 0.0;
  summary["mean_rel_uncertainty_50"] = d.mean_rel_uncertainty_50;
  summary["uncertainty_definition"] =
      "mean relative 1-sigma (batch method, statistical only) over voxels of density >= 0.05 g/cm3 whose dose "
      "exceeds 50 % of the maximum dose among those voxels; the stopping rule's figure. With the calibration: "
      "see 'uncertainty'";
  summary["stopping_rules"] = {{"histories", cfg.histories},
                               {"target_uncertainty", cfg.target_uncertainty},
                               {"time_limit_s", cfg.time_limit_s}};
  summary["seed"] = cfg.seed;
  summary["device"] = d.device;
  summary["dose"] = {{"unit", "Gy per fraction"},
                     {"quantity", d.quantity()},
                     {"fractions_planned", in.plan.fractions_planned},
                     {"max_gy", mx.gy},
                     {"max_total_gy", mx.gy * std::max(1, in.plan.fractions_planned)},
                     {"max_position_mm", {10 * mx.at_cm.x, 10 * mx.at_cm.y, 10 * mx.at_cm.z}},
                     {"grid_spacing_mm", {10 * g.spacing_cm.x, 10 * g.spacing_cm.y, 10 * g.spacing_cm.z}},
                     {"grid_shape_xyz", {g.nx, g.ny, g.nz}}};
  summary["plan"] = {{"path", cfg.rtplan},
                     {"label", in.plan.label},
                     {"beams", in.plan.beams.size()},
                     {"total_mu", t.total_mu}};
  summary["machine"] = {{"file", in.pm.file}, {"name", in.pm.machine.name}, {"beam", bm.name}};
  summary["physics"] = {{"tables", in.tables_path},
                        {"tables_sha256", in.tables_sha},
                        {"cuts_mev",
                         {{"electron_production", in.cuts.electron_production_mev},
                          {"photon_production", in.cuts.photon_production_mev},
                          {"electron_absorption", in.cuts.electron_absorption_mev},
                          {"photon_absorption", in.cuts.photon_absorption_mev}}},
                        {"variance_reduction", efficiency_description(cfg.physics)}};
  summary["calibration"] = calibration_summary(cal);
  summary["calibration"]["seconds"] = cal_seconds;
  summary["uncertainty"] = uncertainty_json(d, in.headline, mx);
  if (in.cp.structures) {
    json rois = json::array();
    for (const auto& s : roi_stats(*in.cp.structures, d, cfg.rtstruct))
      rois.push_back({{"name", s.name},
                      {"volume_cm3", s.volume_cm3},
                      {"mean_gy", s.mean},
                      {"min_gy", s.min},
                      {"max_gy", s.max},
                      {"d95_gy", s.d95},
                      {"d2_gy", s.d2}});
    summary["structures"] = rois;
  }
  return summary;
}

// Stage 6: every output under a temporary name, renamed together at the end; the summary
// gains its "outputs" and "wall_seconds".
void write_outputs(const RunConfig& cfg, const JobInputs& in, const DoseResult& d, const DoseMax& mx, json& summary,
                   Clock::time_point t_start) {
  const auto& g = d.grid;
  const auto& cp = in.cp;
  const auto& plan = in.plan;
  const auto& headline = in.headline;
  const double dmax = mx.gy;
  const auto& cmax = mx.at_cm;
  // Outputs: all written under temporary names, renamed together at the end.
  std::vector<std::unique_ptr<OutputFile>> files;
  json outputs = json::object();
  if (!cfg.output_h5.empty()) {
    files.push_back(std::make_unique<OutputFile>(cfg.output_h5));
    io::write_dose_hdf5(files.back()->temp_path(), d);
    outputs["hdf5"] = cfg.output_h5;
  }
  if (!cfg.output_rtdose.empty()) {
    io::RtDoseOptions ro;
    ro.orientation = cp.ct.orientation;
    ro.ids = cp.ct.ids;
    ro.plan_sop_instance_uid = plan.sop_instance_uid;
    // DoseSummationType PLAN means the entire delivery of the plan (DICOM PS3.3 RT Dose
    // module), so the RT Dose holds the plan total: the per-fraction dose times the
    // planned fractions, as planning systems export it. HDF5 and summary stay per fraction.
    const int nfx = std::max(1, plan.fractions_planned);
    DoseResult total = d;
    for (double& v : total.dose_gy) v *= nfx;
    total.provenance["dose_per"] = "plan (" + std::to_string(nfx) + " fractions)";
    ro.series_description = "sabre MC dose, Gy, plan total (" + std::to_string(nfx) +
                             (nfx == 1 ? " fraction)" : " fractions)");
    files.push_back(std::make_unique<OutputFile>(cfg.output_rtdose));
    io::write_rtdose(files.back()->temp_path(), total, ro);
    outputs["rtdose"] = cfg.output_rtdose;
  }
  // Pictures: into a staging directory next to the target, renamed into place.
  std::string png_stage;
  bool png_dir_existed = false;
  std::vector<std::pair<std::size_t, std::string>> staged;  // files[index] -> final path
  if (!cfg.output_png_dir.empty() && dmax > 0) {
    fs::path dir = fs::path(cfg.output_png_dir).lexically_normal();
    if (dir.filename().empty()) dir = dir.parent_path();
    png_dir_existed = fs::exists(dir);
    std::array<double, 3> at{cmax.x, cmax.y, cmax.z};
    if (cfg.slice_at == "iso") {
      const auto& iso = plan.beams[0].control_points[0].iso_mm;
      at = {iso[0] / 10, iso[1] / 10, iso[2] / 10};
      if (plan.beams[0].helical) {  // the middle of the couch travel (start and end isocentres)
        const auto& end = plan.beams[0].control_points.back().iso_mm;
        at = {(iso[0] + end[0]) / 20, (iso[1] + end[1]) / 20, (iso[2] + end[2]) / 20};
      }
    }
    // The pictures show the headline voxels only (no isodose islands in the air around).
    DoseResult shown;
    shown.grid = d.grid;
    shown.dose_gy = d.dose_gy;
    for (std::size_t v = 0; v < shown.dose_gy.size(); ++v)
      if (!headline[v]) shown.dose_gy[v] = 0;
    viz::DoseOverCtOptions vo;
    vo.point_cm = at;
    vo.reference_gy = dmax;
    if (cp.structures) vo.structures = &*cp.structures;
    // Where a picture file is written before the commit: in the directory when it exists,
    // else next to it as ".DIR-NAME" (moved in when the directory is created at the end).
    auto stage_path = [&](const std::string& name) {
      if (png_dir_existed) return (dir / name).string();
      const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
      staged.push_back({files.size(), (dir / name).string()});
      return (parent / ("." + dir.filename().string() + "-" + name)).string();
    };
    json pngs = json::array();
    for (auto p : {viz::Plane::axial, viz::Plane::coronal, viz::Plane::sagittal}) {
      const std::string name = std::string(viz::plane_name(p)) + ".png";
      files.push_back(std::make_unique<OutputFile>(stage_path(name)));
      viz::write_png(files.back()->temp_path(), viz::dose_over_ct(cp.ct, shown, p, vo));
      pngs.push_back((dir / name).string());
    }
    if (cfg.phantom_plots) {
      const auto& cp0 = plan.beams[0].control_points[0];
      const std::array<double, 3> iso{cp0.iso_mm[0] / 10, cp0.iso_mm[1] / 10, cp0.iso_mm[2] / 10};
      const auto dir3 = beam_direction(cp0.gantry_deg);
      const std::array<double, 3> lat{dir3[1], -dir3[0], 0.0};  // perpendicular, in the axial plane
      const double step = 0.5 * std::min({g.spacing_cm.x, g.spacing_cm.y, g.spacing_cm.z});
      const double half = 0.5 * std::sqrt(std::pow(g.nx * g.spacing_cm.x, 2) + std::pow(g.ny * g.spacing_cm.y, 2) +
                                          std::pow(g.nz * g.spacing_cm.z, 2));
      // Depth dose: from the first voxel of density > 0.5 g/cm3 along the axis.
      std::vector<double> depth, pdd, off, prof;
      std::optional<double> surface;
      for (double t = -half; t <= half; t += step) {
        const double x = iso[0] + t * dir3[0], y = iso[1] + t * dir3[1], z = iso[2] + t * dir3[2];
        int i, j, k;
        if (!g.locate({x, y, z}, i, j, k)) continue;
        if (!surface) {
          if (cp.phantom.density_g_cm3[std::size_t(g.index(i, j, k))] <= 0.5f) continue;
          surface = t;
        }
        depth.push_back(t - *surface);
        pdd.push_back(viz::sample_dose(d, x, y, z));
      }
      for (double t = -half; t <= half; t += step) {
        const double x = iso[0] + t * lat[0], y = iso[1] + t * lat[1], z = iso[2];
        int i, j, k;
        if (!g.locate({x, y, z}, i, j, k)) continue;
        off.push_back(t);
        prof.push_back(viz::sample_dose(d, x, y, z));
      }
      auto plot = [&](const std::string& name, const std::vector<double>& x, const std::vector<double>& y,
                      const char* xname) {
        if (x.size() < 2) return;
        files.push_back(std::make_unique<OutputFile>(stage_path(name + ".png")));
        viz::write_png(files.back()->temp_path(),
                       viz::line_plot(x, y, 1.0, name == "depth_dose" ? "depth (cm)" : "off-axis (cm)", "dose (Gy)"));
        pngs.push_back((dir / (name + ".png")).string());
        files.push_back(std::make_unique<OutputFile>(stage_path(name + ".csv")));
        std::ofstream f(files.back()->temp_path());
        f << csv_of(x, y, xname);
        f.close();  // flush first: a write error (disk full) shows here
        if (!f) throw RuntimeError(files.back()->path() + ": cannot write");
        pngs.push_back((dir / (name + ".csv")).string());
      };
      plot("depth_dose", depth, pdd, "depth_cm");
      plot("profile", off, prof, "off_axis_cm");
    }
    outputs["pictures"] = pngs;
    png_stage = dir.string();
  }
  if (!cfg.summary_json.empty()) outputs["summary_json"] = cfg.summary_json;
  summary["outputs"] = outputs;
  summary["wall_seconds"] = seconds_since(t_start);
  std::optional<OutputFile> sj;
  if (!cfg.summary_json.empty()) {
    sj.emplace(cfg.summary_json);
    std::ofstream f(sj->temp_path());
    f << summary.dump(2) << "\n";
    f.close();
    if (!f) throw RuntimeError(cfg.summary_json + ": cannot write");
  }
  interrupt::throw_if_requested();
  // Commit: the picture directory first (created only now), then the files.
  if (!png_stage.empty() && !png_dir_existed) {
    fs::create_directory(png_stage);
    for (const auto& [index, target] : staged) {
      auto& f = files[index];
      if (::rename(f->temp_path().c_str(), target.c_str()) != 0)
        throw RuntimeError(target + ": cannot write");
      f.reset();  // its temporary is gone; nothing left to remove
    }
  }
  for (auto& f : files)
    if (f) f->commit();
  if (sj) sj->commit();
}

}  // namespace

json run_job(const RunConfig& cfg, ProgressReporter::Mode progress_mode) {
  const auto t_start = Clock::now();
  check_job(cfg);
  JobInputs in = read_inputs(cfg);
  interrupt::throw_if_requested();
  double cal_seconds = 0;
  // With MPI ranks (core/ranks.hh) the transport is shared and rank 0 holds the result:
  // only rank 0 calibrates, scales and writes; the others transport their batches and return
  // an empty summary (cli/cmd_run.cc prints nothing for them).
  if (ranks::size() > 1 && ranks::rank() != 0) {
    if (cfg.merge_parts.empty()) transport_stage(cfg, in, ProgressReporter::Mode::quiet);
    return json();
  }
  if (cfg.part_count > 1) {
    // A part: its batches only, no calibration, the part file its one output.
    const Transported t = transport_stage(cfg, in, progress_mode);
    json s;
    s["status"] = "part written";
    s["part"] = std::to_string(cfg.part_index) + "/" + std::to_string(cfg.part_count);
    s["part_file"] = cfg.part_output;
    s["batches"] = {t.info.first_batch, t.info.next_batch};
    s["batches_total"] = t.info.batches_total;
    s["histories"] = t.dose.histories;
    s["transport_seconds"] = t.dose.wall_seconds;
    s["job_digest"] = t.info.job_digest;
    s["merge"] = "sabre run <the same arguments, without --part and --part-output> --merge PART_FILES...";
    if (!cfg.summary_json.empty()) write_text_file(cfg.summary_json, s.dump(2) + "\n");
    return s;
  }
  const CalibrationResult cal = calibrate_stage(cfg, in, progress_mode, cal_seconds);
  const Transported t = cfg.merge_parts.empty() ? transport_stage(cfg, in, progress_mode) : merged_stage(cfg, in);
  const DoseResult d = absolute_dose(cfg, in, cal, t);
  const DoseMax mx = dose_max(d, in.headline);
  json summary = summarize(cfg, in, cal, cal_seconds, t, d, mx);
  write_outputs(cfg, in, d, mx, summary, t_start);
  return summary;
}

std::string format_summary(const json& s) {
  std::ostringstream o;
  if (s.value("status", "") == "part written") {
    o << "part " << s["part"].get<std::string>() << ": batches " << s["batches"][0].get<std::int64_t>() << ".."
      << s["batches"][1].get<std::int64_t>() << " of " << s["batches_total"].get<std::int64_t>() << ", "
      << s["histories"].get<std::int64_t>() << " histories in " << s["transport_seconds"].get<double>() << " s\n"
      << "part written to " << s["part_file"].get<std::string>() << "\n"
      << "merge: " << s["merge"].get<std::string>() << "\n";
    return o.str();
  }
  o.setf(std::ios::fixed);
  o.precision(1);
  o << "sabre run: " << s.value("status", std::string()) << " (stopped by " << s["stopped_by"].get<std::string>()
    << ")\n";
  o << "  time        " << s["wall_seconds"].get<double>() << " s total, " << s["transport_seconds"].get<double>()
    << " s transport, calibration " << s["calibration"]["seconds"].get<double>() << " s"
    << (s["calibration"]["from_cache"].get<bool>() ? " (cached)" : "") << "\n";
  o.precision(3);
  o << "  histories   " << s["histories"].get<std::int64_t>() << " in " << s["batches"].get<int>() << " batches, "
    << std::scientific << s["histories_per_second"].get<double>() << std::fixed << " /s on "
    << s["device"].get<std::string>() << "\n";
  const auto& u = s["uncertainty"];
  o << "  uncertainty " << 100 * u["total_mean_rel_50"].get<double>() << " % total = "
    << 100 * u["statistical_mean_rel_50"].get<double>() << " % statistical (mean relative 1 sigma, voxels of "
    << "density >= 0.05 g/cm3 above 50 % of max) and " << 100 * u["calibration_rel"].get<double>()
    << " % calibration in quadrature\n";
  const auto& c = s["calibration"];
  o << "  calibration " << c["reference_histories"].get<std::int64_t>() << " histories, 1 sigma "
    << 100 * c["reference_rel_uncertainty"].get<double>() << " %";
  if (c["mode"] == "target_uncertainty")
    o << " (target " << 100 * c["target_rel_uncertainty"].get<double>() << " %"
      << (c["stopped_by"] == "history_cap" ? ", NOT reached: history cap" : "") << ")";
  o << "\n";
  const auto& d = s["dose"];
  o << "  max dose    " << d["max_gy"].get<double>() << " Gy per fraction (" << d["fractions_planned"].get<int>()
    << (d["fractions_planned"].get<int>() == 1 ? " fraction: " : " fractions: ") << d["max_total_gy"].get<double>() << " Gy) at (" << d["max_position_mm"][0].get<double>()
    << ", " << d["max_position_mm"][1].get<double>() << ", " << d["max_position_mm"][2].get<double>()
    << ") mm, " << d["quantity"].get<std::string>() << "\n";
  if (s.contains("structures"))
    for (const auto& r : s["structures"])
      o << "  " << r["name"].get<std::string>() << ": mean " << r["mean_gy"].get<double>() << " Gy, D95 "
        << r["d95_gy"].get<double>() << " Gy, max " << r["max_gy"].get<double>() << " Gy\n";
  const auto& out = s["outputs"];
  o << "outputs:\n";
  if (out.contains("hdf5")) o << "  HDF5      " << out["hdf5"].get<std::string>() << "\n";
  if (out.contains("rtdose")) o << "  RT Dose   " << out["rtdose"].get<std::string>() << "\n";
  if (out.contains("pictures"))
    for (const auto& p : out["pictures"]) o << "  picture   " << p.get<std::string>() << "\n";
  if (out.contains("summary_json")) o << "  summary   " << out["summary_json"].get<std::string>() << "\n";
  return o.str();
}

}  // namespace sabre
