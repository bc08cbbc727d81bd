// sabre linac: dose from a machine beam model (machine file + RT Plan, or a static field)
// in a water box or a CT phantom, on the CPU or a GPU (--device). Optionally calibrated to
// Gy through the machine file's reference conditions (engine/calibration.hh, the path
// `sabre run` takes too). Thin glue: beams/plan_source (source), engine (transport,
// calibration, output).
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/machine_select.hh"
#include "beams/phsp_source.hh"
#include "beams/plan_builder.hh"
#include "beams/plan_source.hh"
#include "cli/options.hh"
#include "cli/registry.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"
#include "engine/backend.hh"
#include "engine/calibration.hh"
#include "engine/ct_phantom.hh"
#include "engine/device_spec.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/rtplan.hh"
#include "engine/phantom.hh"
#include "engine/plan_dose.hh"
#include "engine/simulate_phantom.hh"
#include "engine/simulation.hh"
#include "kernels/charged_policy.hh"
#include "physics/tables/material_tables.hh"

namespace sabre::cli {
namespace {

using nlohmann::json;

struct LinacOptions {
  std::string machine = "truebeam-hd120", beam = "6X-FFF";
  std::string plan;                   // RT Plan; "" = a static field (--field)
  std::vector<double> field{10, 10};  // cm at isocentre
  double ssd_cm = 100;                // water box: surface distance for a gantry-0 beam
  std::vector<double> size{30, 30, 30};
  std::vector<double> voxel{0.5, 0.5, 0.5};
  bool centred = false;               // water box centred on the isocentre (arcs)
  std::vector<double> box_centre;     // mm: the water box about this point instead of the isocentre
  std::string ct;                     // CT phantom instead of water
  std::int64_t histories = 100000;
  int batches = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string device = "cpu";         // --device (engine/device_spec.hh)
  bool calibrate = false;
  bool calib_cache = true;
  std::string calib_uncertainty;      // target of the reference run ("" = not given)
  std::int64_t calib_histories = 0;   // alone: a fixed count; with a target: the cap (0 = not given)
  std::int64_t calib_batch_histories = 0;  // target mode (0 = default)
  std::int64_t calib_seed = -1;       // -1: seed + 1000003
  double dose_grid_mm = 0;            // CT: 0 = the CT grid
  double margin_cm = 0.5;
  double margin_density = phys::kDefaultSourceMarginDensity;
  std::string phsp;                   // IAEA phase space above the jaws instead of the VSM
  bool phsp_z_up = false;             // its z axis points toward the target
  std::string output;
};

// Water box (HFS patient frame, cm): x, z centred on the isocentre; y (depth for a gantry-0
// beam, which travels +y) from the surface at iso.y - (SAD - SSD), or centred.
Phantom water_box(const LinacOptions& o, const std::array<double, 3>& iso_cm, double sad_cm,
                  const phys::MaterialTables& t) {
  if (o.size.size() != 3 || o.voxel.size() != 3) throw UsageError("--size and --voxel need 3 values");
  const double ny = std::lround(o.size[1] / o.voxel[1]);
  const double y0 = o.centred ? iso_cm[1] - 0.5 * ny * o.voxel[1] : iso_cm[1] - (sad_cm - o.ssd_cm);
  return sabre::water_box({o.size[0], o.size[1], o.size[2]}, {o.voxel[0], o.voxel[1], o.voxel[2]}, iso_cm, y0, t);
}

SimulationRun run(const TransportSetup& s, const beams::SourceView& view, const DeviceSpec& device,
                  std::int64_t n, int batches, std::uint64_t seed) {
  SimulationSettings st;
  st.histories = n;
  st.batches = batches;
  st.seed = seed;
  auto backend = make_backend(device, s.tp, view, seed);
  spdlog::info("linac: {} histories on {}", n, backend->description());
  return run_batches(s.tp.phantom, st, *backend, [](const BatchProgress&) {
    interrupt::throw_if_requested();
    return true;
  });
}

void run_linac(const LinacOptions& o) {
  if (!kernels::kChargedTransportAvailable)
    throw RuntimeError("this build has no electron/positron transport: refusing to compute dose");
  if (!o.output.empty()) check_output_paths({o.output});
  double calib_target = 0;
  if (!o.calib_uncertainty.empty()) {
    calib_target = parse_fraction(o.calib_uncertainty, "--calib-uncertainty");
    if (!(calib_target > 0 && calib_target < 1))
      throw UsageError("--calib-uncertainty must be a fraction in (0, 1), e.g. 0.3% or 0.003");
  }
  if (o.calib_histories < 0 || o.calib_batch_histories < 0)
    throw UsageError("--calib-histories and --calib-batch-histories must be positive");
  if (o.calibrate) {
    CalibrationSettings probe;
    choose_calibration(probe, calib_target, o.calib_histories, o.calib_batch_histories, o.batches);
    check_calibration_settings(probe);  // before any work
  }
  DeviceSpec device = parse_device_spec(o.device);
  if (device.cpu_threads == 0 && o.threads > 0) device.cpu_threads = unsigned(o.threads);
  resolve_device_spec(device);  // a missing GPU is reported before any work
  std::string mfile;
  try {
    mfile = machine_file(o.machine);
  } catch (const InputError&) {
    throw UsageError("--machine " + o.machine + ": no machine file " + default_machine_dir() + "/" + o.machine +
                     ".toml");
  }
  PlanMachine pm;
  pm.machine = beams::load_machine(mfile);
  pm.file = mfile;
  const beams::Machine& m = pm.machine;
  const beams::BeamModel* bm = m.beam_named(o.beam);
  if (!bm) throw UsageError("--beam " + o.beam + ": not in " + mfile);
  pm.beam_name = bm->name;

  beams::Plan plan;
  std::array<double, 3> iso_cm{0, 0, 0};
  if (!o.plan.empty()) {
    plan = io::read_plan(o.plan);
    if (plan.beams.empty()) throw InputError(o.plan, "no treatment beams");
    const std::vector<beams::Machine> candidates{m};  // must outlive the choices below
    for (const auto& b : plan.beams) {
      const auto c = beams::select_machine(b, candidates, o.plan);
      if (c.beam->name != bm->name)
        throw InputError(o.plan, "beam " + std::to_string(b.number) + " needs " + c.beam->name + ", not --beam " + o.beam);
    }
    const auto& iso = plan.beams[0].control_points[0].iso_mm;
    iso_cm = {iso[0] / 10, iso[1] / 10, iso[2] / 10};
  } else {
    if (o.field.size() != 2 || !(o.field[0] > 0) || !(o.field[1] > 0)) throw UsageError("--field needs 2 sizes > 0");
    plan = beams::reference_field_plan(m, *bm, o.field[0], o.field[1], iso_cm, 100);
  }

  Phantom ph;
  std::map<std::string, std::string> prov;
  std::unique_ptr<phys::MaterialTables> tmp_tables = std::make_unique<phys::MaterialTables>(default_tables_path());
  if (!o.ct.empty()) {
    CtPhantomOptions co;
    co.ct_path = o.ct;
    co.dose_grid_mm = o.dose_grid_mm;
    CtPhantom cp = load_ct_phantom(co);
    ph = std::move(cp.phantom);
    ph.resolve_materials(tmp_tables->names(), o.ct);
    prov = cp.provenance;
  } else {
    std::array<double, 3> at = iso_cm;
    if (o.box_centre.size() == 3) at = {o.box_centre[0] / 10, o.box_centre[1] / 10, o.box_centre[2] / 10};
    ph = water_box(o, at, m.sad_cm, *tmp_tables);
  }
  TransportSetup s;
  prepare_transport(s, ph, std::string());
  std::vector<beams::PhspParticle> phsp;
  std::string phsp_sha;
  if (!o.phsp.empty()) {
    std::int64_t skipped = 0;
    phsp = beams::load_phsp_particles(o.phsp, !o.phsp_z_up, &skipped);
    if (skipped) spdlog::warn("{}: {} neutrons/protons skipped", o.phsp, skipped);
    std::string base = o.phsp;
    for (const std::string ext : {".IAEAheader", ".IAEAphsp"})
      if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
        base.resize(base.size() - ext.size());
    // One digest for the pair: SHA-256 of the two files' digests, header first.
    phsp_sha = sha256_hex(sha256_file(base + ".IAEAheader") + sha256_file(base + ".IAEAphsp"));
  }
  beams::SourceOptions so;
  so.margin_cm = o.margin_cm;
  so.margin_density = o.margin_density;
  so.phsp = o.phsp.empty() ? nullptr : &phsp;
  const beams::PlanSource src(m, *bm, plan, {}, so);
  SimulationRun r = run(s, src.view(), device, o.histories, o.batches, o.seed);
  DoseResult& d = r.dose;

  json summary;
  summary["sabre"] = {{"version", build::version()}, {"commit", build::git_commit()}};
  summary["machine"] = m.name;
  summary["beam"] = bm->name;
  summary["plan"] = o.plan.empty() ? json(nullptr) : json(o.plan);
  summary["total_mu"] = src.total_mu();
  summary["source"] = o.phsp.empty() ? std::string("vsm") : "phase space " + o.phsp;
  if (o.phsp.empty()) summary["source_margin_density"] = o.margin_density;
  summary["device"] = d.device;
  summary["histories"] = d.histories;
  summary["wall_seconds"] = d.wall_seconds;
  summary["mean_rel_uncertainty_50"] = d.mean_rel_uncertainty_50;
  summary["energy_balance_relative"] = r.balance.relative_imbalance();

  if (o.calibrate) {
    CalibrationSettings cs;
    choose_calibration(cs, calib_target, o.calib_histories, o.calib_batch_histories, o.batches);
    cs.seed = o.calib_seed >= 0 ? std::uint64_t(o.calib_seed) : o.seed + 1000003;
    cs.margin_cm = o.margin_cm;
    cs.switches.source_margin_density = o.margin_density;
    cs.device = device;
    cs.use_cache = o.calib_cache;
    cs.phsp = so.phsp;
    cs.phsp_sha256 = phsp_sha;
    const CalibrationResult cal = calibrate(pm, cs, [](const CalibrationProgress&) {
      interrupt::throw_if_requested();
    });
    const double scale = cal.histories_per_mu * src.total_mu();  // Gy per (Gy/history) for this plan
    for (double& v : d.dose_gy) v *= scale;
    d.dose_unit = "Gy";
    d.calibration_rel_uncertainty = cal.ref_rel_uncertainty;
    summary["calibration"] = calibration_summary(cal);
    summary["uncertainty"] = {
        {"statistical_mean_rel_50", d.mean_rel_uncertainty_50},
        {"calibration_rel", d.calibration_rel_uncertainty},
        {"total_mean_rel_50", mean_rel_uncertainty_above_half_max(d.dose_gy, total_rel_uncertainty(d))},
        {"definition",
         "relative 1-sigma. statistical: batch method, mean over the voxels above 50 % of the maximum dose "
         "(mean_rel_uncertainty_50); calibration: the reference run's 1-sigma (batch spread of its region mean), "
         "common to every voxel; total: per voxel sqrt(statistical^2 + calibration^2), averaged over the same "
         "voxels (HDF5 /dose/rel_uncertainty)"}};
    d.provenance["calibration_histories_per_mu"] = std::to_string(cal.histories_per_mu);
    d.provenance["calibration_reference_rel_uncertainty"] = std::to_string(cal.ref_rel_uncertainty);
    d.provenance["calibration_from_cache"] = cal.from_cache ? "true" : "false";
    d.provenance["calibration_mode"] = cal.mode;
    d.provenance["calibration_stopped_by"] = cal.stopped_by;
    d.provenance["calibration_reference_histories"] = std::to_string(cal.histories);
  }
  for (const auto& [k, v] : prov) d.provenance[k] = v;
  d.provenance["machine_file"] = mfile;
  d.provenance["machine_model_sha256"] = sha256_file(mfile);
  d.provenance["machine_beam"] = bm->name;
  if (!o.plan.empty()) {
    d.provenance["rt_plan"] = o.plan;
    d.provenance["input_sha256:rt_plan"] = sha256_file(o.plan);
  }
  if (!o.phsp.empty()) d.provenance["input_sha256:phase_space"] = phsp_sha;
  d.provenance["total_mu"] = std::to_string(src.total_mu());
  d.material = ph.material;
  d.density_g_cm3 = ph.density_g_cm3;
  d.material_names = ph.material_names;
  if (!o.output.empty()) io::write_dose_hdf5(o.output, d);
  std::cout << summary.dump(2) << "\n";
}

const bool registered = register_command(
    "linac", "Dose from the linac beam model (machine file + RT Plan or a jaw field) in water or a CT",
    [](CLI::App& sub) {
      auto o = std::make_shared<LinacOptions>();
      sub.add_option("--machine", o->machine, "Machine file: a stem of the machines directory (truebeam-hd120, ...) or a path");
      sub.add_option("--beam", o->beam, "Beam of the machine file (6X-FFF, 10X-FFF)");
      sub.add_option("--plan", o->plan, "DICOM RT Plan (default: a static jaw field, --field)");
      sub.add_option("--field", o->field, "Static field X Y at isocentre [cm] (without --plan)")->expected(2);
      sub.add_option("--ssd", o->ssd_cm, "Water box: source-surface distance for gantry 0 [cm]");
      sub.add_option("--size", o->size, "Water box size X Y Z [cm]")->expected(3);
      sub.add_option("--voxel", o->voxel, "Water box voxel X Y Z [cm]")->expected(3);
      sub.add_flag("--centred", o->centred, "Water box centred on the isocentre (arcs)");
      sub.add_option("--box-centre", o->box_centre, "Water box about this point x y z [mm] instead of the "
                                                    "(first) isocentre (a helical plan's moves)")->expected(3);
      sub.add_option("--ct", o->ct, "CT series directory instead of the water box (Schneider calibration)");
      sub.add_option("--histories", o->histories, "Histories");
      sub.add_option("--batches", o->batches, "Batches (>= 2)");
      sub.add_option("--seed", o->seed, "Random seed");
      sub.add_option("--threads", o->threads, "CPU threads (0: all) when running on the CPU");
      sub.add_option("--device", o->device, "auto, cpu, cpu:N, cuda, cuda:N[,M] (default cpu)");
      sub.add_flag("--calibrate", o->calibrate, "Convert to Gy with the machine file's reference conditions");
      sub.add_option("--calib-uncertainty", o->calib_uncertainty,
                     "Run the reference field to this relative 1-sigma of its region mean, e.g. 0.3% (the default "
                     "when no --calib-histories is given)");
      sub.add_option("--calib-histories", o->calib_histories,
                     "Alone: a fixed-count reference run of N histories in --batches batches; with "
                     "--calib-uncertainty: its cap (default cap 1e9)");
      sub.add_option("--calib-batch-histories", o->calib_batch_histories,
                     "Histories per batch of the reference run to a target (default 1000000, at most cap / 10)");
      sub.add_option("--calib-seed", o->calib_seed, "Seed of the reference run (default: --seed + 1000003)");
      sub.add_flag("!--no-calibration-cache", o->calib_cache, "Recompute the reference run even when cached");
      sub.add_option("--dose-grid", o->dose_grid_mm, "CT: cubic dose voxels of this size [mm] (default: the CT grid)");
      sub.add_option("--phsp", o->phsp, "IAEA phase space (NAME[.IAEAheader]) scored above the jaws, instead of the VSM");
      sub.add_flag("--phsp-z-up", o->phsp_z_up, "The phase space's z axis points toward the target (default: toward the isocentre)");
      sub.add_option("--margin", o->margin_cm, "Field-restriction margin at isocentre [cm]");
      sub.add_option("--margin-density", o->margin_density,
                     "Density of the source's aims in that margin relative to the opening, in (0, 1]; 1 = uniform "
                     "(docs/efficiency.md)")
          ->check(CLI::Range(std::nextafter(0.0, 1.0), 1.0));
      sub.add_option("-o,--output", o->output, "HDF5 dose file");
      sub.callback([o] { run_linac(*o); });
    });

}  // namespace
}  // namespace sabre::cli
