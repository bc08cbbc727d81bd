#include "engine/simulate_phantom.hh"

#include "engine/efficiency.hh"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "beams/spectrum.hh"
#include "engine/backend.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
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
  ProgressHook h = [&hook](const BatchProgress& p) {
    interrupt::throw_if_requested();
    return hook ? hook(p) : true;
  };
  const auto backend = make_backend(spec, tp, source, s.seed, s.chunk);
  spdlog::info("device: {}", backend->description());
  out.run = run_batches(tp.phantom, s, *backend, h);

  DoseResult& d = out.run.dose;
  d.material = phantom.material;
  d.density_g_cm3 = phantom.density_g_cm3;
  d.material_names = phantom.material_names;
  d.dose_to_water = false;
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
  return out;
}

}  // namespace sabre
