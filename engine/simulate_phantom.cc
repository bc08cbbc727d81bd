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

  // The job's identity for parts and checkpoints: everything that decides the dose bit for
  // bit (input files' bytes, tables, seed, histories, batches, the sabre build), nothing
  // that does not (threads, device, output names).
  io::TallyInfo& ti = out.tally_info;
  {
    std::string id = "sabre simulate job v1\ninput " + sha256_file(path) + "\n";
    if (!pf.source.spectrum.empty()) id += "spectrum " + sha256_file(pf.source.spectrum) + "\n";
    id += "tables " + (tables.file_sha256().empty() ? sha256_file(out.tables_path) : tables.file_sha256()) + "\n";
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
    const io::TallyInfo& r = resumed.info;
    if (r.sabre_commit != ti.sabre_commit)
      throw InputError(ov.resume, "checkpoint written by another sabre build (" + r.sabre_commit + ", this is " +
                                      ti.sabre_commit + "): refusing to resume");
    if (r.job_digest != ti.job_digest)
      throw InputError(ov.resume, "checkpoint of another job (input file, spectrum, tables, seed, histories or "
                                  "batches differ): refusing to resume");
    if (r.part_index != ti.part_index || r.part_count != ti.part_count || r.first_batch != ti.first_batch)
      throw InputError(ov.resume, "checkpoint of part " + std::to_string(r.part_index) + "/" +
                                      std::to_string(r.part_count) + ", not of the part asked for");
    if (resumed.tally.voxels() != tp.phantom.grid.size())
      throw InputError(ov.resume, "checkpoint grid differs from the phantom's");
    s.resume = &resumed.tally;
    s.first_batch = int(r.next_batch);
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
    d.provenance["physics_tables"] = out.tables_path;
    if (!tables.file_sha256().empty()) d.provenance["physics_tables_sha256"] = tables.file_sha256();
    d.provenance["physics_tables_generator"] = tables.generator_version();
    if (spectrum) d.provenance["spectrum_file"] = pf.source.spectrum;
    d.provenance["electron_cut_mev"] = std::to_string(tp.materials.cuts.electron_absorption_mev);
    d.provenance["photon_cut_mev"] = std::to_string(tp.materials.cuts.photon_absorption_mev);
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
  if (paths.empty()) throw UsageError("sabre merge: no part files given");
  std::vector<io::TallyFile> parts;
  for (const auto& p : paths) parts.push_back(io::read_tally_file(p));
  const io::TallyInfo& a = parts[0].info;
  std::vector<int> seen(std::size_t(std::max<std::int64_t>(a.part_count, 1)), -1);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const io::TallyInfo& b = parts[i].info;
    const std::string& f = paths[i];
    if (b.job_digest != a.job_digest || b.sabre_commit != a.sabre_commit)
      throw InputError(f, "a part of another job than " + paths[0] +
                              " (input file, spectrum, tables, seed, histories, batches or sabre build differ)");
    if (b.part_count != a.part_count || b.batches_total != a.batches_total)
      throw InputError(f, "split into " + std::to_string(b.part_count) + " parts, " + paths[0] + " into " +
                              std::to_string(a.part_count));
    if (seen[std::size_t(b.part_index)] >= 0)
      throw InputError(f, "part " + std::to_string(b.part_index) + " given twice (also " +
                              paths[std::size_t(seen[std::size_t(b.part_index)])] + ")");
    seen[std::size_t(b.part_index)] = int(i);
    const std::int64_t lo = b.batches_total * b.part_index / b.part_count;
    const std::int64_t hi = b.batches_total * (b.part_index + 1) / b.part_count;
    if (b.first_batch != lo || b.next_batch != hi)
      throw InputError(f, "part " + std::to_string(b.part_index) + " is incomplete (batches " +
                              std::to_string(b.first_batch) + ".." + std::to_string(b.next_batch) + " of " +
                              std::to_string(lo) + ".." + std::to_string(hi) +
                              "): resume it from its checkpoint first");
    if (parts[i].dose.grid.size() != parts[0].dose.grid.size() ||
        parts[i].dose.density_g_cm3 != parts[0].dose.density_g_cm3)
      throw InputError(f, "grid or densities differ from " + paths[0]);
  }
  for (std::size_t k = 0; k < seen.size(); ++k)
    if (seen[k] < 0)
      throw InputError(paths[0], "part " + std::to_string(k) + " of " + std::to_string(a.part_count) + " is missing");
  // Add in part order (integer sums: the order does not matter, but keep it fixed).
  BatchTally total(parts[0].tally.voxels());
  double seconds = 0;
  std::string devices;
  for (std::size_t k = 0; k < seen.size(); ++k) {
    const io::TallyFile& p = parts[std::size_t(seen[k])];
    total.merge(p.tally);
    seconds += p.dose.wall_seconds;
    if (devices.find(p.dose.device) == std::string::npos) devices += (devices.empty() ? "" : "; ") + p.dose.device;
  }
  DoseResult d = parts[std::size_t(seen[0])].dose;
  if (d.density_g_cm3.empty() || d.material.empty())
    throw InputError(paths[0], "part file without the phantom's material and density maps");
  phys::PhantomView view;
  view.grid = d.grid;
  view.material = d.material.data();
  view.density_g_cm3 = d.density_g_cm3.data();
  fill_dose_from_tally(view, total, nullptr, d);
  d.wall_seconds = seconds;
  d.device = devices;
  d.provenance.erase("part");
  std::string from;
  for (const auto& p : paths) from += (from.empty() ? "" : ", ") + p;
  d.provenance["merged_from"] = std::to_string(paths.size()) + " parts: " + from;
  return d;
}

}  // namespace sabre
