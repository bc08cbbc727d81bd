// Dose from a linac plan, the parts shared by `sabre linac` and `sabre run`: choosing the
// machine model for a plan, preparing the transport (tables + majorant) for a phantom, a
// water box, and the calibration to Gy through the machine file's reference conditions
// (a run of the reference field in water), optionally cached.
//
// Calibration (documented in docs/run-file.md, "Absolute dose"): the reference field
// (calibration.field_cm square at calibration.ssd_cm, gantry 0) is run in a 30 x 30 x 30 cm
// water box of 0.5 cm voxels; the mean dose per history D_ref over the voxels within 1 cm of
// the axis and 0.5 cm of calibration.depth_cm gives histories per MU = gy_per_mu / D_ref,
// and a plan's dose [Gy] = dose per history x histories per MU x plan MU.
//
// Cache: the reference result depends only on the machine file's bytes, the beam, the
// physics table file's bytes, the sabre version and commit, the reference histories, seed,
// batches and field margin. Its key is the SHA-256 of all of these; the cached file holds
// them in clear next to the figure and its uncertainty, and a mismatch on read is a miss.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "beams/linac_build.hh"
#include "beams/machine.hh"
#include "beams/rtplan.hh"
#include "engine/device_spec.hh"
#include "engine/phantom.hh"
#include "engine/simulation.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/transport_params.hh"

namespace sabre {

// Machines directory of the data dir (<data>/beams/machines).
std::string default_machine_dir();

// The machine model and beam a plan needs. `machine`: "" = every machine file of the
// machines directory is a candidate (TreatmentMachineName decides); a stem such as
// "truebeam-hd120" or a path to a .toml file = only that one. All treatment beams must map
// to the same machine and beam model. InputError naming `plan_path` otherwise.
struct PlanMachine {
  beams::Machine machine;
  std::string beam_name;   // of machine.beams
  std::string file;        // machine file path
  const beams::BeamModel& beam() const;
};
PlanMachine choose_machine(const beams::Plan& plan, const std::string& machine,
                           const std::string& plan_path);

// Tables, majorant and params for transport in `phantom` (which must outlive it).
struct TransportSetup {
  std::unique_ptr<phys::MaterialTables> tables;
  std::vector<double> majorant;
  phys::TransportParams tp;
};
// Loads the table file (`tables_path` "" = the default set) and fills `s` for `phantom`.
void prepare_transport(TransportSetup& s, const Phantom& phantom, const std::string& tables_path);
// The same with tables already loaded (moved into `s`).
void prepare_transport(TransportSetup& s, const Phantom& phantom,
                       std::unique_ptr<phys::MaterialTables> tables);

// A water box (HFS patient frame, cm) of `size_cm` in `voxel_cm` voxels: x and z centred on
// `iso_cm`; y (depth for a gantry-0 beam, which travels +y) starting at `surface_y_cm`.
Phantom water_box(const std::array<double, 3>& size_cm, const std::array<double, 3>& voxel_cm,
                  const std::array<double, 3>& iso_cm, double surface_y_cm,
                  const phys::MaterialTables& tables);

// Mean dose and its relative uncertainty over the voxels whose centres lie within `half_cm`
// of the central axis (x, z through iso) and within 0.5 cm of `depth_cm` below the surface
// of a gantry-0 water box. Voxel errors add in quadrature (an estimate).
std::pair<double, double> axis_dose(const DoseResult& d, const std::array<double, 3>& iso,
                                    double surface_y, double depth_cm, double half_cm);

struct CalibrationSettings {
  std::int64_t histories = 1000000;
  std::uint64_t seed = 1000003;
  int batches = 10;
  double margin_cm = 0.5;
  std::string tables_path;     // "" = default
  DeviceSpec device;
  bool use_cache = true;
  std::string cache_dir;       // "" = default_calibration_cache_dir()
};

struct CalibrationResult {
  double ref_dose_gy_per_history = 0;
  double ref_rel_uncertainty = 0;
  double histories_per_mu = 0;
  double gy_per_mu = 0;
  std::int64_t histories = 0;
  std::uint64_t seed = 0;
  double wall_seconds = 0;      // of the reference run (0 when cached)
  bool from_cache = false;
  std::string cache_file;       // "" when the cache is off
  std::string key;              // SHA-256 of the key text
};

// $SABRE_CACHE_DIR, else $XDG_CACHE_HOME/sabre, else $HOME/.cache/sabre, then /calibration.
std::string default_calibration_cache_dir();

// The reference run (or its cached result). `hook` is called after each batch (progress,
// interrupt). A cache that cannot be written is only a warning.
CalibrationResult calibrate(const PlanMachine& m, const CalibrationSettings& s,
                            const ProgressHook& hook = {});

}  // namespace sabre
