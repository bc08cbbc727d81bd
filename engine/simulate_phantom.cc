#include "engine/simulate_phantom.hh"

#include "engine/efficiency.hh"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "beams/spectrum.hh"
#include "engine/backend.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/memory.hh"
#include "core/interrupt.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"
#include "engine/io/dose_hdf5.hh"
#include "core/log.hh"
#include "kernels/charged_policy.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/majorant.hh"

namespace sabre {

std::string default_tables_path() {
  return (std::filesystem::path(build::data_dir()) / "physics" / "data" / "default.h5").string();
}

namespace {

bool same_grid(const phys::LogGrid& a, const phys::LogGrid& b) {
  return a.n == b.n && a.ln_e0 == b.ln_e0 && a.inv_dln == b.inv_dln;
}

}  // namespace

PhantomSimulation simulate_phantom_file(const std::string& path, const SimulateOverrides& ov,
                                        const ProgressHook& hook) {
  PhantomSimulation out;
  out.file = load_phantom_file(path);
  PhantomFile& pf = out.file;
  if (ov.histories) pf.histories = *ov.histories;
  if (ov.threads) pf.threads = *ov.threads;
  if (ov.seed) pf.seed = *ov.seed;
  if (pf.histories < pf.batches)
    throw UsageError("histories (" + std::to_string(pf.histories) + ") must be >= batches (" +
                     std::to_string(pf.batches) + ")");
  // The device first: a missing GPU is reported before the tables are read.
  DeviceSpec spec = ov.device ? *ov.device : DeviceSpec{};
  if (spec.cpu_threads == 0 && pf.threads > 0) spec.cpu_threads = unsigned(pf.threads);
  resolve_device_spec(spec);  // throws now; make_backend resolves again (auto: CPU fallback)

  out.tables_path = pf.tables.empty() ? default_tables_path() : pf.tables;
  const phys::MaterialTables tables(out.tables_path);
  const phys::MaterialData& md0 = tables.data();
  const auto& ph = md0.photon;
  for (int q = 0; q < phys::kNumPhotonProcesses; ++q)
    if (!same_grid(ph.mu_rho[q].grid, ph.mu_rho_total.grid))
      throw InputError(out.tables_path, "photon tables are not on one energy grid");

  std::vector<double> nominal(tables.n_materials());
  for (int m = 0; m < tables.n_materials(); ++m) nominal[m] = tables.density_g_cm3(m);
  check_grid_memory(pf.grid.size(), kTransportBytesPerVoxel, path);  // before any grid is allocated
  Phantom phantom = build_phantom(pf, tables.names(), nominal);

  std::unique_ptr<beams::Spectrum> spectrum;
  if (!pf.source.spectrum.empty())
    spectrum = std::make_unique<beams::Spectrum>(
        beams::load_spectrum(pf.source.spectrum, pf.source.spectrum_column));
  const beams::SimpleSource source = build_source(pf.source, spectrum.get());

  phys::TransportParams tp;
  tp.phantom = phantom.view();
  tp.materials = md0;
  if (pf.electron_cut_mev) tp.materials.cuts.electron_absorption_mev = *pf.electron_cut_mev;
  if (pf.photon_cut_mev) tp.materials.cuts.photon_absorption_mev = *pf.photon_cut_mev;
  tp.switches = pf.switches;
  if (!(tp.phantom.max_density_g_cm3 > 0))
    throw InputError(path, "the phantom has no matter (all densities are 0)");
  // Woodcock majorant over this phantom's materials only (physics/transport/majorant.hh).
  std::vector<double> majorant;
  phys::use_phantom_majorant(tp, majorant);

  if (!kernels::kChargedTransportAvailable)
    throw RuntimeError(
        "this build has no electron/positron transport yet (physics/electron/"
        "charged_transport.hh is missing): refusing to run a dose calculation without it");

  SimulationSettings s;
  s.histories = pf.histories;
  s.batches = pf.batches;
  s.seed = pf.seed;
  s.threads = pf.threads;
  s.headline_each_batch = false;  // a fixed count: nothing stops on it (the progress log asks now and then)

  // The job's identity for parts and checkpoints: everything that decides the dose bit for
  // bit (input files' bytes, tables, seed, histories, batches, the sabre build), nothing
  // that does not (threads, device, output names).
  io::TallyInfo& ti = out.tally_info;
  ti.job_kind = "simulate";
  const std::string input_sha = sha256_file(path);
  const std::string spectrum_sha = pf.source.spectrum.empty() ? "" : sha256_file(pf.source.spectrum);
  const std::string tables_sha = tables.file_sha256().empty() ? sha256_file(out.tables_path) : tables.file_sha256();
  {
    std::string id = "sabre simulate job v1\ninput " + input_sha + "\n";
    if (!pf.source.spectrum.empty()) id += "spectrum " + spectrum_sha + "\n";
    id += "tables " + tables_sha + "\n";
    id += "seed " + std::to_string(s.seed) + "\nhistories " + std::to_string(s.histories) + "\nbatches " +
          std::to_string(s.batches) + "\nsabre " + build::git_commit() + "\n";
    ti.job_digest = sha256_hex(id);
  }
  ti.sabre_commit = build::git_commit();
  ti.batches_total = batch_count(s);
  ti.histories_total = s.histories;
  if (ov.part_count < 1 || ov.part_index < 0 || ov.part_index >= ov.part_count)
    throw UsageError("--part K/N: K must be in 0..N-1 and N >= 1");
  if (ov.part_count > ti.batches_total)
    throw UsageError("--part " + std::to_string(ov.part_index) + "/" + std::to_string(ov.part_count) +
                     ": more parts than batches (" + std::to_string(ti.batches_total) + ")");
  ti.part_index = ov.part_index;
  ti.part_count = ov.part_count;
  ti.first_batch = ti.batches_total * ov.part_index / ov.part_count;
  const std::int64_t part_end = ti.batches_total * (ov.part_index + 1) / ov.part_count;
  s.first_batch = int(ti.first_batch);
  s.end_batch = int(part_end);
  io::TallyFile resumed;
  if (!ov.resume.empty()) {
    resumed = io::read_tally_file(ov.resume);
    io::check_resumable(resumed, ti, tp.phantom.grid.size(), ov.resume);
    s.resume = &resumed.tally;
    s.first_batch = int(resumed.info.next_batch);
    spdlog::info("resuming from {}: {} batches ({} histories) done", ov.resume, resumed.tally.batches(),
                 resumed.tally.histories());
  }

  // The dose file's maps and provenance (the result, and each checkpoint).
  auto decorate = [&](DoseResult& d) {
    d.material = phantom.material;
    d.density_g_cm3 = phantom.density_g_cm3;
    d.material_names = phantom.material_names;
    d.dose_to_water = false;
    d.seed = s.seed;
    d.provenance["input_file"] = path;
    d.provenance["input_sha256:input_file"] = input_sha;
    d.provenance["physics_tables"] = out.tables_path;
    d.provenance["input_sha256:physics_tables"] = tables_sha;
    if (!tables.file_sha256().empty()) d.provenance["physics_tables_sha256"] = tables.file_sha256();
    d.provenance["physics_tables_generator"] = tables.generator_version();
    if (spectrum) {
      d.provenance["spectrum_file"] = pf.source.spectrum;
      d.provenance["input_sha256:spectrum_file"] = spectrum_sha;
    }
    d.provenance["electron_cut_mev"] = std::to_string(tp.materials.cuts.electron_absorption_mev);
    d.provenance["photon_cut_mev"] = std::to_string(tp.materials.cuts.photon_absorption_mev);
    if (pf.source.shape == beams::SourceShape::point)
      d.provenance["point_sampling"] = pf.source.point_sampling == beams::PointSampling::solid_angle
                                           ? "solid_angle (uniform per solid angle, DOSXYZnrc source 3)"
                                           : "area (uniform per unit area of the field plane)";
    d.provenance["rayleigh"] = tp.switches.rayleigh ? "on (Thomson angles)" : "off";
    d.provenance["electron_estepe"] = std::to_string(tp.switches.estepe);
    d.provenance["electron_msc_g1_max"] = std::to_string(tp.switches.msc_g1_max);
    d.provenance["electron_msc_model"] = tp.switches.msc_two_moments ? "two moments" : "first moment";
    add_efficiency_provenance(d.provenance, tp.switches);
    d.provenance["job_digest"] = ti.job_digest;
  };

  CheckpointHooks ck;
  auto last_write = std::chrono::steady_clock::now();
  if (!ov.checkpoint.empty()) {
    check_output_paths({ov.checkpoint});
    ck.due = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - last_write).count() >=
             ov.checkpoint_interval_s;
    };
    ck.write = [&](const CheckpointState& cs) {
      DoseResult d;
      fill_dose_from_tally(tp.phantom, *cs.tally, nullptr, d);
      decorate(d);
      d.device = "checkpoint";
      io::TallyInfo info = ti;
      info.next_batch = cs.next_batch;
      io::write_dose_hdf5(ov.checkpoint, d, [&](hid_t f) {
        io::write_tally_group(f, ov.checkpoint, *cs.tally, info);
      });
      last_write = std::chrono::steady_clock::now();
      spdlog::info("checkpoint: {} batches ({} histories) written to {}{}", cs.tally->batches(),
                   cs.tally->histories(), ov.checkpoint, cs.interrupted ? " (stopping)" : "");
    };
  }

  ProgressHook h = [&hook](const BatchProgress& p) {
    interrupt::throw_if_requested();
    return hook ? hook(p) : true;
  };
  const auto backend = make_backend(spec, tp, source, s.seed, s.chunk);
  spdlog::info("device: {}", backend->description());
  out.run = run_batches(tp.phantom, s, *backend, h, ck);
  ti.next_batch = out.run.next_batch;

  DoseResult& d = out.run.dose;
  decorate(d);
  if (ov.part_count > 1)
    d.provenance["part"] = std::to_string(ov.part_index) + "/" + std::to_string(ov.part_count);
  return out;
}

DoseResult merge_part_files(const std::vector<std::string>& paths) {
  io::MergedParts m = io::merge_parts(
      paths, "simulate",
      "merge the parts of a `sabre run` job with the same `sabre run` arguments and --merge PART... (the CT, plan "
      "and calibration are needed to write its outputs)");
  DoseResult d = std::move(m.first);
  if (d.density_g_cm3.empty() || d.material.empty())
    throw InputError(paths[0], "part file without the phantom's material and density maps");
  phys::PhantomView view;
  view.grid = d.grid;
  view.material = d.material.data();
  view.density_g_cm3 = d.density_g_cm3.data();
  fill_dose_from_tally(view, m.tally, nullptr, d);
  d.wall_seconds = m.wall_seconds;
  d.device = m.devices;
  d.provenance.erase("part");
  d.provenance["merged_from"] = m.from;
  return d;
}

}  // namespace sabre
