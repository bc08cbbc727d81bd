// Dose-volume histograms with sub-voxel structure rasterisation (docs/check.md, "DVH").
// Host only.
//
// Each dose voxel is cut into S x S x S sub-cells (S = `subdivisions`, or chosen from the
// structure's size: 2 to 8). In each sub-cell row (a line in x at the sub-cell's y and z)
// the ROI's even-odd crossings give the exact inside intervals along x (io::RoiPlanes: the
// contour plane covering the sub-cell's z); a sub-cell's volume is the inside length of
// its row times its height and depth. Its dose is the trilinear interpolant of the dose
// grid (voxel-centre values; in the outer half voxel of the grid the edge value) at the
// centre of its inside part, d, with gradient g: over the sub-cell the interpolant is
// nearly linear, so its volume is spread uniformly over [d - r, d + r], r = half the sum
// over axes of |g_axis| x the sub-cell's extent (exact for a gradient along one axis; a
// little wide for an oblique one). So a 1 cm target on a 2.5 mm grid is described by
// thousands of sub-cells, and a steep gradient by a continuous DVH rather than a staircase
// of sub-cell doses. The volumes fill a histogram of `bins` bins up to 1.01 x the grid's
// maximum dose; quantities read from it are interpolated within a bin.
//
// Volumes outside the dose grid have no dose: they are not in the DVH, and are reported
// (`volume_outside_grid_cm3`).
#pragma once

#include <string>
#include <vector>

#include "engine/io/rtstruct.hh"
#include "physics/geometry/voxel_grid.hh"

namespace sabre::check {

struct DvhOptions {
  int subdivisions = 0;  // S; 0: from `samples` (2 to 8)
  double samples = 2e7;  // sub-cells over the contours' bounding box when S is automatic
  int bins = 100000;
};

struct Dvh {
  std::string name;
  double volume_cm3 = 0;               // inside the dose grid (the DVH's total)
  double contour_volume_cm3 = 0;       // the contours' own volume (areas x plane spacing)
  double volume_outside_grid_cm3 = 0;  // contour volume minus the part in the grid (>= 0)
  double min_gy = 0, max_gy = 0, mean_gy = 0;
  double bin_gy = 0;
  int subdivisions = 0;                // S used
  std::vector<double> cumulative_cm3;  // [i]: volume with dose >= i x bin_gy

  bool empty() const { return !(volume_cm3 > 0); }
  // Volume [cm3] receiving at least `dose_gy`.
  double volume_at_least(double dose_gy) const;
  // The highest dose d such that at least `volume_cm3` receives >= d (D_v: "the minimum
  // dose to the hottest v cm3"); the maximum for v -> 0.
  double dose_to_volume(double volume_cm3) const;
  double dose_to_percent(double percent) const { return dose_to_volume(percent / 100 * volume_cm3); }
};

// `dose` [Gy] on `grid` (index i + nx (j + ny k)). Throws InputError(source) for a
// non-axial contour.
Dvh compute_dvh(const io::Roi& roi, const phys::GridGeometry& grid, const std::vector<float>& dose,
                const std::string& source, const DvhOptions& opt = {});

// The trilinear interpolant of the voxel-centre values at a point [cm] (the edge value in
// the outer half voxel; the caller keeps the point inside the grid).
double trilinear(const phys::GridGeometry& grid, const std::vector<float>& dose, double x_cm, double y_cm,
                 double z_cm, double* grad_gy_per_cm = nullptr);

}  // namespace sabre::check
