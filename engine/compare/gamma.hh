// 3D gamma index (Low et al. 1998, Med Phys 25:656) between a reference and an evaluated
// dose distribution on possibly different, axis-aligned grids, plus the dose-difference
// statistics that usually go with it. Host code, multi-threaded with std::thread.
//
// Definitions (docs/compare.md has the full text):
//   For a reference voxel centre r with dose D_r, and a search position r' with the
//   evaluated dose D_e(r') interpolated trilinearly between evaluated voxel centres,
//     Gamma(r) = min over |r'-r| <= R_max of sqrt(|r'-r|^2/DTA^2 + (D_e(r')-D_r)^2/dD^2)
//   with dD = dose_fraction * norm_dose_gy (global) or dose_fraction * D_r (local).
//   Only reference voxels with D_r >= threshold_fraction * norm_dose_gy are evaluated.
//
// Search: the evaluated dose is the trilinear interpolant between evaluated voxel centres,
// a function that is smooth inside each cell of 8 neighbouring centres. Cells are visited
// in order of a lower bound on their distance from r, and each cell is skipped when a
// lower bound on gamma^2 inside it (squared distance to the cell over DTA^2 plus the gap
// between D_r and the cell's dose range over dD^2, since a trilinear value lies between its
// corner values) cannot beat the best value found; the search stops when the distance
// bound alone cannot (the early exit of Wendling et al. 2007, Med Phys 34:1647, applied to
// cells instead of a lattice of sub-voxel positions). A cell that survives is minimised
// over its continuous volume by a projected Gauss-Newton method (bound-constrained to the
// cell), started from the cell's closest point and from its best corner. Where the
// evaluated dose is linear in a cell the result is exact; minima on cell faces, edges and
// corners (dose plateaus, kinks of the interpolant) are reached exactly by the projection.
// Only positions within R_max of r are searched: every cell that the sphere touches, with
// the minimisation kept inside the sphere.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/dose_result.hh"
#include "physics/geometry/voxel_grid.hh"

namespace sabre::compare {

struct GammaCriteria {
  double dose_fraction = 0.03;       // dose criterion, as a fraction (3 % -> 0.03)
  double distance_mm = 3.0;          // distance-to-agreement criterion DTA [mm]
  bool local = false;                // false: global (dD from norm_dose_gy); true: local
  double threshold_fraction = 0.10;  // low-dose cut-off on the reference dose, as a
                                     // fraction of the normalisation dose
  double max_search_mm = 0;          // R_max [mm]; <= 0 means 3 * distance_mm
  double norm_dose_gy = 0;           // global normalisation dose [Gy]; <= 0: reference max
  int threads = 0;                   // worker threads; <= 0: all hardware threads
};

// Dose-difference statistics over the evaluated reference voxels (those above the
// threshold), with the evaluated dose interpolated at the reference voxel centres.
struct DoseDifferenceStats {
  std::int64_t voxels = 0;       // reference voxels compared (above threshold, inside the
                                 // evaluated grid)
  double mean_gy = 0;            // mean of D_e - D_r [Gy]
  double sd_gy = 0;              // standard deviation of D_e - D_r [Gy]
  double min_gy = 0;             // most negative D_e - D_r [Gy]
  double max_gy = 0;             // most positive D_e - D_r [Gy]
  double mean_abs_percent = 0;   // mean |D_e - D_r| as % of the normalisation dose
  // For each level L in within_levels_percent: % of voxels with |D_e - D_r| <= L % of the
  // normalisation dose.
  std::vector<double> within_levels_percent = {1, 2, 3, 5};
  std::vector<double> within_percent;
};

struct GammaResult {
  phys::GridGeometry grid;          // the reference grid (the map's grid)
  std::vector<float> gamma;         // [voxel] gamma; NaN where not evaluated
  std::vector<std::uint8_t> pass;   // [voxel] 1 pass (gamma <= 1), 0 fail, 255 not evaluated
  std::vector<float> difference_gy; // [voxel] D_e - D_r at the voxel centre [Gy]; NaN where
                                    // not evaluated or outside the evaluated grid
  std::int64_t evaluated = 0;       // reference voxels evaluated
  std::int64_t passed = 0;          // of which gamma <= 1
  std::int64_t outside_evaluated_grid = 0;  // evaluated voxels with no evaluated dose within
                                            // R_max (gamma = +inf, counted as fail)
  double pass_rate_percent = 0;     // 100 * passed / evaluated (0 when none evaluated)
  double mean_gamma = 0;            // over evaluated voxels with finite gamma
  double max_gamma = 0;
  double gamma_p95 = 0;             // 95th percentile of gamma
  double reference_max_gy = 0;      // maximum reference dose [Gy]
  std::int64_t reference_max_index = 0;  // voxel index of that maximum
  double norm_dose_gy = 0;          // normalisation dose used [Gy]
  double threshold_gy = 0;          // low-dose cut-off used [Gy]
  double max_search_mm = 0;         // R_max used [mm]
  std::int64_t cells_minimised = 0;  // cells searched in full (a measure of the work done)
  int threads = 0;                  // worker threads used
  double seconds = 0;               // wall time of the gamma search [s]
  GammaCriteria criteria;           // as given
  DoseDifferenceStats difference;
};

// Trilinear interpolation of a dose on its grid, between voxel centres. Positions up to
// half a voxel beyond the outer centres (still inside the grid's outer faces) take the
// edge value; positions outside the grid have no value.
class TrilinearDose {
 public:
  TrilinearDose(const phys::GridGeometry& grid, const std::vector<double>& dose_gy);
  // Dose [Gy] at position p [cm]; false when p is outside the grid.
  bool sample(phys::Vec3 p_cm, double& dose_gy) const;
  // Same in continuous voxel-index coordinates (centre of voxel i at fx = i), with the
  // gradient with respect to (fx, fy, fz) [Gy per voxel].
  bool sample_index(double fx, double fy, double fz, double& dose_gy, double grad[3]) const;

 private:
  const phys::GridGeometry& grid_;
  const std::vector<double>& dose_;
};

// Computes the gamma map of `evaluated` against `reference` on the reference grid.
// Throws std::invalid_argument on inconsistent inputs (array sizes vs grid, non-positive
// criteria); the CLI validates user values before calling.
GammaResult compute_gamma(const DoseResult& reference, const DoseResult& evaluated,
                          const GammaCriteria& criteria);

}  // namespace sabre::compare
