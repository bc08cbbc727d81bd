// Absolute dose: the calibration of a machine beam to Gy through the machine file's
// reference conditions, the one path every command takes (`sabre run`, `sabre linac
// --calibrate`).
//
// Method (documented in docs/run-file.md, "Absolute dose"): the reference field
// (calibration.field_cm square at calibration.ssd_cm, gantry 0, beams/plan_builder.hh's
// reference_field_plan) is run in a 30 x 30 x 30 cm water box of 0.5 cm voxels; the mean
// dose per history D_ref over the voxels within 1 cm of the axis and 0.5 cm of
// calibration.depth_cm gives histories per MU = gy_per_mu / D_ref, and a plan's dose [Gy] =
// dose per history x histories per MU x plan MU. The source is the plan's: the virtual
// source model, or the phase space when the plan is run from one.
//
// Cache: the reference result depends only on the machine file's bytes, the beam, the
// physics table file's bytes, the sabre version and commit, the source (VSM, or the phase
// space's SHA-256), the reference histories, seed, batches and field margin. Its key is the
// SHA-256 of all of these; the cached file holds them in clear next to the figure and its
// uncertainty, and a mismatch on read is a miss.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "beams/phsp_source.hh"
#include "engine/device_spec.hh"
#include "engine/dose_result.hh"
#include "engine/plan_dose.hh"
#include "engine/simulation.hh"

namespace sabre {

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
  // The plan's phase-space source, when it has one (nullptr: the VSM), and the SHA-256 of
  // its file(s) for the cache key.
  const std::vector<beams::PhspParticle>* phsp = nullptr;
  std::string phsp_sha256;
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
  std::string device;           // the back end of the reference run ("" when cached)
};

// $SABRE_CACHE_DIR, else $XDG_CACHE_HOME/sabre, else $HOME/.cache/sabre, then /calibration.
std::string default_calibration_cache_dir();

// The reference run (or its cached result). `hook` is called after each batch (progress,
// interrupt). A cache that cannot be written is only a warning.
CalibrationResult calibrate(const PlanMachine& m, const CalibrationSettings& s,
                            const ProgressHook& hook = {});

}  // namespace sabre
