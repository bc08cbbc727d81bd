// The forward model of commissioning: a machine's source (or one part of it) run in a water
// box in the set-up of a measurement, and the measured quantities read off the dose grid.
// Host only.
//
// Set-up (docs/commissioning.md): gantry 0, HFS patient frame, isocentre at the origin; the
// beam travels +y; the water surface is at y = -(SAD - SSD); depth d is at y = surface + d.
// IEC X (crossplane) is patient x, IEC Y (inplane) patient z. The field is the machine's
// reference-field plan (beams/plan_builder.hh) of the collimator setting fx x fy at the
// isocentre.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/source_kinds.hh"
#include "engine/device_spec.hh"
#include "engine/io/beam_data.hh"
#include "physics/geometry/voxel_grid.hh"
#include "physics/tables/material_tables.hh"

namespace sabre::commission {

struct Setup {
  double field_x_cm = 10, field_y_cm = 10;  // collimator setting at isocentre
  double ssd_cm = 100;
  bool operator<(const Setup& o) const;
  bool operator==(const Setup& o) const;
};

// Histories of a run on set-up s that gives its points the noise a 10 x 10 cm field's get
// from `base`: base times the field's area over 100 cm^2, between 1 and 9 times. A
// central-axis value averages a square of at most 2 x 2 cm and a profile point a fixed
// window, while the photons spread over the field: at equal histories a 30 x 30 field's
// points are 3 times noisier than a 10 x 10's. Used by the report's runs of the fitted model
// (the recovery run's 30 x 30 depth dose, 1.1 % 1 sigma per point at 1.5e7, put the report's
// own noise into its fit-quality figures) and by the spectrum and fluence stages' parts (at
// equal histories the 30 x 30 diagonal fixed the 20 cm knot to only ~2 % 1 sigma).
std::int64_t area_scaled_histories(const Setup& s, std::int64_t base);

// The dose grid of a run: lateral (x and z) half-width and voxel, depth range and voxel.
struct GridSpec {
  double half_width_cm = 15, lateral_voxel_cm = 0.5;
  double depth_cm = 30, depth_voxel_cm = 0.2;
};

// Dose per history on the grid of a run.
struct WaterDose {
  phys::GridGeometry grid;
  std::vector<double> dose;      // [voxel] Gy per history
  std::vector<double> rel_unc;   // [voxel] relative 1 sigma (batches)
  // [batch][voxel] each batch's own dose per history (folded like `dose`), when the run kept
  // them: the batch-to-batch spread of a read-out is its 1 sigma with every correlation
  // between the voxels and layers it combines (batch_sigma). Empty: not kept.
  std::vector<std::vector<float>> batch_dose;
  double surface_y_cm = 0;
  double sad_cm = 100;  // source to isocentre (for the field's size at a depth)
  std::int64_t histories = 0;

  // Dose (and its absolute 1 sigma) at (x, depth, z) [cm], trilinear between voxel centres
  // (clamped to the grid).
  double at(double x_cm, double depth_cm, double z_cm, double* sigma = nullptr) const;
  // Mean dose over the voxels whose centres lie within |x|, |z| <= half_cm of the axis at
  // the depth layer(s) interpolated at depth_cm (the central-axis value of a small detector).
  double axis(double depth_cm, double half_cm, double* sigma = nullptr) const;
};

// The 1 sigma of each value of a linear read-out of a dose (a function of the dose array
// only), by the batch method: the read-out of each batch's dose, s^2 = sum_b (v_b - vbar)^2
// / (B (B - 1)) (region_batch_mean of engine/simulation.hh; 0 where the mean is not
// positive). The per-voxel sigmas cannot give it: a depth-dose point averages voxels that
// one electron track crosses together and is smoothed over layers it shares with its
// neighbours (at 1e7 histories the per-voxel propagation gave 1/1.55 of the spread between
// two seeds for a 10 x 10 cm2 depth dose and 1/1.9 for a 30 x 30 one). Empty when d kept no
// batches (then the read-out's own propagated sigma stands).
std::vector<double> batch_sigma(const WaterDose& d,
                                const std::function<std::vector<double>(const WaterDose&)>& readout);

// Half-width of the square around the axis whose mean dose stands for a central-axis
// value (depth doses, output factors) in the forward model: min(1 cm, smaller side / 8).
// Large enough to average the Monte Carlo noise, small enough that the FFF profile's
// curvature changes the value by well under 0.5 % (docs/commissioning.md).
double axis_region_cm(double field_x_cm, double field_y_cm);

// Detector response across a profile: the chord-length kernel of a cylinder of radius
// `radius_cm` scanned perpendicular to its axis (0: a point detector). A 0.125 cm3
// thimble chamber has radius ~0.3 cm (docs/commissioning.md).
double detector_radius_cm(const std::string& detector);
// `values` at `positions` (uniformly or not spaced) averaged by that kernel: sum over
// kernel nodes of value(x + u) w(u).
std::vector<double> detector_average(const std::vector<double>& positions_cm, const std::vector<double>& values,
                                     double radius_cm);

// Runs sources in water for one machine: tables loaded once, the phantom per (setup, grid).
class WaterRunner {
 public:
  WaterRunner(const beams::Machine& machine, const std::string& tables_path, DeviceSpec device);
  ~WaterRunner();

  // `histories` of `source` (a view whose arrays outlive the call) in the water box of
  // `setup` with grid `g`, seed `seed`, 10 batches; `fold`: the quadrants averaged
  // (fold_quadrants; the set-up and source must be symmetric about both axes).
  WaterDose run(const Setup& setup, const GridSpec& g, const beams::SourceView& source, std::int64_t histories,
                std::uint64_t seed, bool fold = true);

  const beams::Machine& machine() const { return machine_; }
  const phys::MaterialTables& tables() const { return *tables_; }
  const std::string& tables_sha256() const { return tables_sha_; }

 private:
  beams::Machine machine_;
  std::unique_ptr<phys::MaterialTables> tables_;
  std::string tables_sha_;
  DeviceSpec device_;
};

// Averages the dose over the four mirror images (x, z), (-x, z), (x, -z), (-x, -z): the
// forward model's set-ups are symmetric about both axes (a centred rectangular field, a
// source model without offsets), so this is the same expectation with a quarter of the
// variance. Voxel 1 sigma: the mirror voxels taken as independent. The batches' doses
// (batch_dose) are folded alike.
void fold_quadrants(WaterDose& d);

// The central-axis dose at depth_cm as a depth-dose point reads it (computed_curve below):
// the mean over |x|, |z| <= half_cm per depth layer, smoothed by the local quadratic over
// +-h(depth); 1 sigma propagated from the voxels. Output factors are read this way: the
// layer(s) at their depth alone (the read-out until 2026-12-05) carried 0.7-1.2 % of Monte
// Carlo noise on the recovery data's fields at 2-10 x 10^7 histories; at 10 cm depth the
// window is +-2.5 cm (11 or 21 layers), and the quadratic leaves a smooth depth dose's value
// unchanged (tests/engine/commission/commission_math_test.cc).
double smoothed_axis(const WaterDose& d, double depth_cm, double half_cm, double* sigma = nullptr);

// The values of a measured curve computed from a dose (same positions), and their 1 sigma.
// The read-out (docs/commissioning.md, "forward model"):
//   depth doses: the mean over the axis region (axis_region_cm, at least the detector's
//     radius) per depth layer, smoothed by a local quadratic fit over +-h(d),
//     h = clamp((d - 1 cm) / 2, 0, 2.5 cm) (at least 5 layers, else the layer value), which
//     removes noise but not the curve's shape;
//   profiles: the dose averaged over a window around the scan line: across the scan
//     direction +-0.5 cm, widened to +-1.5 cm along a field edge (the dose varies slowly
//     along an edge), never beyond a quarter of (field - 2 cm) across; along the scan
//     direction +-0.5 cm in the field and the tails, narrowing to 0 within 1 cm of an edge;
//     then the detector's chord-length averaging.
// 1 sigma: the batch method on the read-out itself (batch_sigma) when the dose kept its
// batches (every run of WaterRunner does), else propagated from the voxels' sigmas.
struct CurveValues {
  std::vector<double> value, sigma;
};
CurveValues computed_curve(const io::MeasuredCurve& c, const WaterDose& d);

}  // namespace sabre::commission
