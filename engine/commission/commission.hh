// `sabre commission`: a machine file's beam model fitted to measured water-tank data
// (docs/commissioning.md). Host only.
//
// The fit rests on basis doses (engine/commission/basis.hh): the dose of the virtual source
// model is linear in its spectrum weights, its component weights (primary, extra-focal,
// contamination electrons) and its off-axis fluence values, so each of these is fitted by
// (non-negative, regularised) linear least squares on Monte Carlo doses of the parts, run
// once and cached; the few non-linear parameters (focal-spot size, the electrons' mean
// energy, the off-axis softening) by a search over a small set of runs. Stages, each with the
// other parameters held:
//   spectrum     depth doses      -> spectrum weights, electron weight and mean energy
//   fluence      large-field profiles -> off-axis fluence (and softening)
//   spot         output factors, small-field profiles -> focal-spot sigma, extra-focal weight
//   backscatter  output factors of X != Y fields -> monitor backscatter k_x, k_y
//   mlc          a measured DLG and transmission -> leaf offset, interleaf gap
// then the fitted model is run on every set-up and compared with the data (the report).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beams/machine.hh"
#include "engine/device_spec.hh"
#include "engine/io/beam_data.hh"

namespace sabre::commission {

struct Options {
  std::string machine_file;             // the machine file to start from
  std::string beam;                     // its beam to commission ("6X-FFF")
  std::vector<std::string> measured;    // beam-data files (docs/beam-data.md)
  std::string output;                   // the commissioned machine file to write ("" = none)
  std::string report_dir;               // the report (created; "" = none)
  std::string tables_path;              // "" = the default set
  DeviceSpec device;
  std::int64_t histories = 20000000;    // per set-up and stage, shared among the basis parts
  std::int64_t report_histories = 0;    // per 10 x 10 set-up for the report's runs of the fitted model, scaled by area up to 9 x (area_scaled_histories; 0: histories)
  std::uint64_t seed = 1;
  std::string cache_dir;                // "" = <default cache>/commission; "-" = no cache
  double measurement_uncertainty = 0.005;  // relative 1 sigma of a measured point
  int rounds = 2;                       // passes over the stages
  // The spectrum stage fits the extra-focal weight with the spectrum and the electrons on
  // depth doses, output factors and the off-penumbra profile points together (the spot stage
  // then fits the focal spot alone); false: the spectrum on depth doses alone, the extra-focal
  // weight tied to the primary there and fitted by the spot stage.
  bool joint_spectrum = true;
  std::set<std::string> stages{"spectrum", "fluence", "spot", "backscatter"};
  // MLC: a measured dosimetric leaf gap [mm] and closed-leaf transmission [fraction]
  // (< 0: not fitted), and the conditions of docs/commissioning.md.
  double dlg_mm = -1, transmission = -1;
  std::int64_t mlc_histories = 4000000;  // per MLC run
  std::string data_label;               // cited in the fitted values' tags ("" = the files)
  std::string data_basis = "measured";  // the fitted values' basis tag: measured | published
  // Forward mode: no fit; the machine file's model computed at every point of the measured
  // files and written here in sabre's CSV form (curves relative to their maximum, output
  // factors as the dose per source particle [Gy], for the caller to normalise).
  std::string forward;
};

struct Result {
  beams::BeamModel before, after;
  std::string mlc_device;  // the MLC's first DICOM type ("" when not commissioned)
  double leaf_offset_before_cm = 0, leaf_offset_cm = 0, gap_before_cm = 0, gap_cm = 0;
  nlohmann::json report;   // parameters, per-curve metrics, fit residuals, costs
  std::string machine_text;  // the commissioned machine file's text
};

// Runs the commissioning. `log` receives progress lines. Throws InputError for bad data or
// options, RuntimeError when something cannot be written.
Result commission(const Options& opt, const std::function<void(const std::string&)>& log = {});

// The default basis cache directory: the calibration cache's parent + /commission.
std::string default_commission_cache_dir();

// A profile's nominal field edge at its scan depth: half the collimator setting along its
// axis, divergent from a source at sad_cm; along the diagonal, the corner's distance.
double nominal_edge_cm(const io::MeasuredCurve& cv, double sad_cm);

// Whether point i of a profile lies inside the field, clear of its penumbra (the points the
// off-axis fluence stage fits): at least 1 cm from the nearest geometric field edge at the
// scan depth (divergent from a source at sad_cm), 1 cm being more than the 80-20 % penumbra
// of a 6-10 MV edge at depth, a 0.3 cm chamber radius and a focal spot's blur together.
// Along the diagonal (x = y, distance d from the axis) the nearest edges are at
// half - d / sqrt(2).
bool in_field_point(const io::MeasuredCurve& cv, std::size_t i, double sad_cm);

}  // namespace sabre::commission
