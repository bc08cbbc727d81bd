#include "engine/simulate_phantom.hh"

#include "engine/efficiency.hh"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <sstream>
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
#include "physics/transport/phantom_derived.hh"

namespace sabre {

std::string default_tables_path() {
  return (std::filesystem::path(build::data_dir()) / "physics" / "data" / "default.h5").string();
}

namespace {

// The world's shell (engine/phantom_file.hh, [world]) is transported but not reported: a
// part or checkpoint keeps the whole transport grid (its tally must match it for merge and
// resume) with the phantom grid's place in provenance "scoring_grid"; the final dose is
// cut to the phantom grid here, its geometry exactly the file's (a uniform grid stays
// uniform). Numbers round-trip through std::to_chars / from_chars.
std::string describe_crop(const GridCrop& c, const phys::GridGeometry& grid, const GridEdges& edges) {
  auto num = [](double x) {
    char b[32];
    const auto r = std::to_chars(b, b + sizeof b, x);
    return std::string(b, r.ptr);
  };
  std::string s = "offset " + std::to_string(c.offset[0]) + " " + std::to_string(c.offset[1]) + " " +
                  std::to_string(c.offset[2]) + " shape " + std::to_string(c.n[0]) + " " +
                  std::to_string(c.n[1]) + " " + std::to_string(c.n[2]);
  if (edges.uniform())
    s += " origin " + num(grid.origin_cm.x) + " " + num(grid.origin_cm.y) + " " + num(grid.origin_cm.z) +
         " spacing " + num(grid.spacing_cm.x) + " " + num(grid.spacing_cm.y) + " " + num(grid.spacing_cm.z);
  return s;
}

// Cuts d (on the transport grid) to the phantom grid described by `what` (describe_crop).
void crop_to_phantom_grid(DoseResult& d, const std::string& what, const std::string& file) {
  std::istringstream in(what);
  std::string w1, w2;
  GridCrop c;
  in >> w1 >> c.offset[0] >> c.offset[1] >> c.offset[2] >> w2 >> c.n[0] >> c.n[1] >> c.n[2];
  if (!in || w1 != "offset" || w2 != "shape") throw InputError(file, "provenance scoring_grid unreadable: " + what);
  const phys::GridGeometry t = d.edges.attach(d.grid);
  for (int a = 0; a < 3; ++a)
    if (c.offset[a] < 0 || c.n[a] < 1 || c.offset[a] + c.n[a] > t.count(a))
      throw InputError(file, "provenance scoring_grid outside the dose grid: " + what);
  phys::GridGeometry g;
  GridEdges e;
  for (int a = 0; a < 3; ++a) {
    std::vector<double> planes;
    for (int i = 0; i <= c.n[a]; ++i) planes.push_back(t.plane(a, c.offset[a] + i));
    e.set_axis(g, a, std::move(planes));
  }
  std::string word;
  if (in >> word) {  // the phantom grid was uniform: its own origin and spacing, not planes
    double v[6];
    std::string w3;
    std::string tok[6];
    in >> tok[0] >> tok[1] >> tok[2] >> w3 >> tok[3] >> tok[4] >> tok[5];
    for (int i = 0; i < 6; ++i)
      if (std::from_chars(tok[i].data(), tok[i].data() + tok[i].size(), v[i]).ec != std::errc())
        throw InputError(file, "provenance scoring_grid unreadable: " + what);
    if (word != "origin" || w3 != "spacing") throw InputError(file, "provenance scoring_grid unreadable: " + what);
    e = GridEdges{};
    g.origin_cm = {v[0], v[1], v[2]};
    g.spacing_cm = {v[3], v[4], v[5]};
  }
  auto cut = [&](auto& arr) {
    using V = std::decay_t<decltype(arr)>;
    if (arr.empty()) return;
    V out;
    out.reserve(std::size_t(g.size()));
    for (int k = 0; k < c.n[2]; ++k)
      for (int j = 0; j < c.n[1]; ++j)
        for (int i = 0; i < c.n[0]; ++i)
          out.push_back(arr[std::size_t(t.index(i + c.offset[0], j + c.offset[1], k + c.offset[2]))]);
    arr = std::move(out);
  };
  cut(d.dose_gy);
  cut(d.rel_uncertainty);
  cut(d.material);
  cut(d.density_g_cm3);
  d.grid = g;
  d.edges = std::move(e);
  d.mean_rel_uncertainty_50 = mean_rel_uncertainty_above_half_max(d.dose_gy, d.rel_uncertainty);
  d.provenance.erase("scoring_grid");
}

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
  // Woodcock majorant over this phantom's materials only, and the far-step safety map
  // (physics/transport/phantom_derived.hh).
  phys::PhantomDerivedStorage derived;
  phys::use_phantom_derived_data(tp, derived);

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
  // `last`: the phantom is not needed any more, its maps move into the result (a copy of
  // 8 bytes per voxel less at the run's peak memory).
  auto decorate = [&](DoseResult& d, bool last) {
    if (last) {
      d.material = std::move(phantom.material);
      d.density_g_cm3 = std::move(phantom.density_g_cm3);
    } else {
      d.material = phantom.material;
      d.density_g_cm3 = phantom.density_g_cm3;
    }
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
    if (!pf.world.material.empty()) {
      const auto& b = pf.world.box_cm;
      d.provenance["world"] =
          pf.world.material + " (" +
          (pf.world.density_g_cm3 ? std::to_string(*pf.world.density_g_cm3) + " g/cm3" : std::string("nominal density")) +
          "), box x " + std::to_string(b[0][0]) + ".." + std::to_string(b[0][1]) + " y " + std::to_string(b[1][0]) +
          ".." + std::to_string(b[1][1]) + " z " + std::to_string(b[2][0]) + ".." + std::to_string(b[2][1]) + " cm";
      d.provenance["scoring_grid"] = describe_crop(world_crop(pf), pf.grid, pf.edges);
    }
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
      decorate(d, false);
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
  tp.phantom = {};  // the view must not outlive the maps that move out now
  decorate(d, true);
  if (ov.part_count > 1)
    d.provenance["part"] = std::to_string(ov.part_index) + "/" + std::to_string(ov.part_count);
  else if (d.provenance.count("scoring_grid"))
    crop_to_phantom_grid(d, d.provenance["scoring_grid"], path);
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
  view.grid = d.edges.attach(d.grid);
  view.material = d.material.data();
  view.density_g_cm3 = d.density_g_cm3.data();
  fill_dose_from_tally(view, m.tally, nullptr, d);
  d.wall_seconds = m.wall_seconds;
  d.device = m.devices;
  d.provenance.erase("part");
  d.provenance["merged_from"] = m.from;
  if (d.provenance.count("scoring_grid")) crop_to_phantom_grid(d, d.provenance["scoring_grid"], paths[0]);
  return d;
}

}  // namespace sabre
