// sabre linac: dose from the linac beam model (machine file + RT Plan, or a static jaw
// field) in a water box or a CT phantom, on the host. Optionally calibrated to Gy through
// the machine file's reference conditions (a second run of the reference field in water).
// Thin glue: beams/linac_build (source), engine/simulation (transport), engine/io (output).
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "beams/linac_build.hh"
#include "beams/machine.hh"
#include "beams/phsp_source.hh"
#include "core/log.hh"
#include "beams/rtplan.hh"
#include "cli/registry.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/output_file.hh"
#include "engine/ct_phantom.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/phantom.hh"
#include "engine/plan_dose.hh"
#include "engine/simulate_phantom.hh"
#include "engine/simulation.hh"
#include "kernels/charged_policy.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/majorant.hh"

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
  std::string ct;                     // CT phantom instead of water
  std::int64_t histories = 100000;
  int batches = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  bool calibrate = false;
  std::int64_t calib_histories = 0;   // 0: = histories
  std::int64_t calib_seed = -1;       // -1: seed + 1000003
  double dose_grid_mm = 0;            // CT: 0 = the CT grid
  double margin_cm = 0.5;
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

using Setup = TransportSetup;
void prepare(Setup& s, const Phantom& ph) { prepare_transport(s, ph, std::string()); }

// A source for the transport: the VSM (beams/linac_source.hh) or an IAEA phase space above
// the jaws (beams/phsp_source.hh), with the same delivery, collimators and IEC chain.
struct AnySource {
  std::unique_ptr<beams::LinacSource> vsm;
  std::unique_ptr<beams::Delivery> delivery;  // phase-space source only
  std::vector<beams::PhspParticle>* phsp = nullptr;
  beams::PhspSourceView phsp_view;
  double total_mu() const { return vsm ? vsm->total_mu() : delivery->total_mu(); }
};

AnySource make_source(const beams::Machine& m, const beams::BeamModel& b, const beams::Plan& plan,
                      const beams::LinacOptions& lo, std::vector<beams::PhspParticle>* phsp) {
  AnySource a;
  if (!phsp) {
    a.vsm = std::make_unique<beams::LinacSource>(m, b, plan, std::vector<int>{}, lo);
    return a;
  }
  a.delivery = std::make_unique<beams::Delivery>(plan);
  a.phsp = phsp;
  a.phsp_view.n = std::int64_t(phsp->size());
  a.phsp_view.particles = phsp->data();
  a.phsp_view.delivery = a.delivery->view();
  a.phsp_view.collimator = beams::make_collimator_geometry(m, a.delivery->boundaries_cm());
  a.phsp_view.sad_cm = m.sad_cm;
  a.phsp_view.roulette_threshold = lo.roulette_threshold;
  return a;
}

template <class View>
SimulationRun run_view(const Setup& s, const View& view, std::int64_t n, int batches, std::uint64_t seed,
                       int threads);

SimulationRun run(const Setup& s, const AnySource& src, std::int64_t n, int batches, std::uint64_t seed,
                  int threads) {
  if (src.vsm) return run_view(s, src.vsm->view(), n, batches, seed, threads);
  return run_view(s, src.phsp_view, n, batches, seed, threads);
}

template <class View>
SimulationRun run_view(const Setup& s, const View& view, std::int64_t n, int batches, std::uint64_t seed,
                       int threads) {
  SimulationSettings st;
  st.histories = n;
  st.batches = batches;
  st.seed = seed;
  st.threads = threads;
  ProgressHook h = [](const BatchProgress&) {
    interrupt::throw_if_requested();
    return true;
  };
  return simulate<kernels::ProductionCharged>(s.tp, view, st, h);
}

void run_linac(const LinacOptions& o) {
  if (!kernels::kChargedTransportAvailable)
    throw RuntimeError("this build has no electron/positron transport: refusing to compute dose");
  if (!o.output.empty()) check_output_paths({o.output});
  const std::string mfile = build::data_dir() + "/beams/machines/" + o.machine + ".toml";
  if (!std::filesystem::exists(mfile)) throw UsageError("--machine " + o.machine + ": no file " + mfile);
  const beams::Machine m = beams::load_machine(mfile);
  const beams::BeamModel* bm = nullptr;
  for (const auto& b : m.beams)
    if (b.name == o.beam) bm = &b;
  if (!bm) throw UsageError("--beam " + o.beam + ": not in " + mfile);

  beams::Plan plan;
  std::array<double, 3> iso_cm{0, 0, 0};
  if (!o.plan.empty()) {
    plan = beams::read_rtplan(o.plan);
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
  beams::LinacOptions lo;
  lo.margin_cm = o.margin_cm;

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
    ph = water_box(o, iso_cm, m.sad_cm, *tmp_tables);
  }
  Setup s;
  prepare(s, ph);
  std::vector<beams::PhspParticle> phsp;
  if (!o.phsp.empty()) {
    std::int64_t skipped = 0;
    phsp = beams::load_phsp_particles(o.phsp, !o.phsp_z_up, &skipped);
    if (skipped) spdlog::warn("{}: {} neutrons/protons skipped", o.phsp, skipped);
  }
  const AnySource src = make_source(m, *bm, plan, lo, o.phsp.empty() ? nullptr : &phsp);
  SimulationRun r = run(s, src, o.histories, o.batches, o.seed, o.threads);
  DoseResult& d = r.dose;

  json summary;
  summary["machine"] = m.name;
  summary["beam"] = bm->name;
  summary["plan"] = o.plan.empty() ? json(nullptr) : json(o.plan);
  summary["total_mu"] = src.total_mu();
  summary["source"] = o.phsp.empty() ? std::string("vsm") : "phase space " + o.phsp;
  summary["histories"] = d.histories;
  summary["wall_seconds"] = d.wall_seconds;
  summary["mean_rel_uncertainty_50"] = d.mean_rel_uncertainty_50;
  summary["energy_balance_relative"] = r.balance.relative_imbalance();

  if (o.calibrate) {
    // Reference conditions in water: SSD, square field at the surface, depth.
    const auto& c = bm->calibration;
    LinacOptions ro = o;
    ro.ssd_cm = c.ssd_cm;
    ro.centred = false;
    ro.size = {30, 30, 30};
    ro.voxel = {0.5, 0.5, 0.5};
    const double field_iso = c.field_cm * m.sad_cm / c.ssd_cm;  // field defined at the surface
    const std::array<double, 3> riso{0, 0, 0};
    Phantom rph = water_box(ro, riso, m.sad_cm, *tmp_tables);
    Setup rs;
    prepare(rs, rph);
    const beams::Plan rplan = beams::reference_field_plan(m, *bm, field_iso, field_iso, riso, 100);
    const AnySource rsrc = make_source(m, *bm, rplan, lo, o.phsp.empty() ? nullptr : &phsp);
    const std::int64_t nref = o.calib_histories > 0 ? o.calib_histories : o.histories;
    const std::uint64_t cseed = o.calib_seed >= 0 ? std::uint64_t(o.calib_seed) : o.seed + 1000003;
    SimulationRun rr = run(rs, rsrc, nref, o.batches, cseed, o.threads);
    const double surface_y = riso[1] - (m.sad_cm - c.ssd_cm);
    const auto [dref, uref] = axis_dose(rr.dose, riso, surface_y, c.depth_cm, 1.0);
    // Histories per MU so that the reference point gets gy_per_mu.
    const double hist_per_mu = c.gy_per_mu / dref;
    const double scale = hist_per_mu * src.total_mu();  // Gy per (Gy/history) for this plan
    for (double& v : d.dose_gy) v *= scale;
    d.dose_unit = "Gy";
    summary["calibration"] = {{"reference_dose_gy_per_history", dref},
                              {"reference_rel_uncertainty", uref},
                              {"histories_per_mu", hist_per_mu},
                              {"gy_per_mu_reference", c.gy_per_mu},
                              {"reference_histories", nref}};
  }
  d.provenance = prov;
  d.provenance["machine_file"] = mfile;
  d.provenance["machine_beam"] = bm->name;
  if (!o.plan.empty()) d.provenance["rt_plan"] = o.plan;
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
      sub.add_option("--machine", o->machine, "Machine file stem (truebeam-hd120, truebeam-millennium120)");
      sub.add_option("--beam", o->beam, "Beam of the machine file (6X-FFF, 10X-FFF)");
      sub.add_option("--plan", o->plan, "DICOM RT Plan (default: a static jaw field, --field)");
      sub.add_option("--field", o->field, "Static field X Y at isocentre [cm] (without --plan)")->expected(2);
      sub.add_option("--ssd", o->ssd_cm, "Water box: source-surface distance for gantry 0 [cm]");
      sub.add_option("--size", o->size, "Water box size X Y Z [cm]")->expected(3);
      sub.add_option("--voxel", o->voxel, "Water box voxel X Y Z [cm]")->expected(3);
      sub.add_flag("--centred", o->centred, "Water box centred on the isocentre (arcs)");
      sub.add_option("--ct", o->ct, "CT series directory instead of the water box (Schneider calibration)");
      sub.add_option("--histories", o->histories, "Histories");
      sub.add_option("--batches", o->batches, "Batches (>= 2)");
      sub.add_option("--seed", o->seed, "Random seed");
      sub.add_option("--threads", o->threads, "CPU threads (0: all)");
      sub.add_flag("--calibrate", o->calibrate, "Convert to Gy with the machine file's reference conditions");
      sub.add_option("--calib-histories", o->calib_histories, "Histories of the reference run (default: --histories)");
      sub.add_option("--calib-seed", o->calib_seed, "Seed of the reference run (default: --seed + 1000003)");
      sub.add_option("--dose-grid", o->dose_grid_mm, "CT: cubic dose voxels of this size [mm] (default: the CT grid)");
      sub.add_option("--phsp", o->phsp, "IAEA phase space (NAME[.IAEAheader]) scored above the jaws, instead of the VSM");
      sub.add_flag("--phsp-z-up", o->phsp_z_up, "The phase space's z axis points toward the target (default: toward the isocentre)");
      sub.add_option("--margin", o->margin_cm, "Field-restriction margin at isocentre [cm]");
      sub.add_option("-o,--output", o->output, "HDF5 dose file");
      sub.callback([o] { run_linac(*o); });
    });

}  // namespace
}  // namespace sabre::cli
