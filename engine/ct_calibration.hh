// CT calibration: HU -> mass density (piecewise-linear curve) -> material (density bins),
// from a calibration file (CSV, docs/ct-calibration.md): the built-in "schneider" (default)
// and "ramp4" live in physics/data/calibration/. Then the voxel phantom from a CT image,
// with density/material overrides by RT Structure Set ROI and air outside the body.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/io/ct_series.hh"
#include "engine/io/rtstruct.hh"
#include "engine/phantom.hh"
#include "engine/run_config.hh"  // StructureOverride

namespace sabre {

struct CtCalibration {
  std::string source;                       // the file it came from
  std::vector<double> hu;                   // curve points, strictly increasing [HU]
  std::vector<double> density_g_cm3;        // at those points [g/cm^3]
  std::vector<double> bin_upper_g_cm3;      // material bins: upper density limits (last inf)
  std::vector<std::string> bin_material;    // material name of each bin

  double density(double hu_value) const;    // linear between points, clamped outside
  int material_bin(double density) const;   // index into bin_material

  // `name_or_path`: "schneider" or "ramp4" (physics/data/calibration/<name>.csv under the
  // data directory) or a CSV file. Throws InputError naming the file (and line) on error.
  static CtCalibration load(const std::string& name_or_path);
};

// StructureOverride (roi, material, density_g_cm3) is the run file's, engine/run_config.hh;
// here the ROI name matches exactly, else case-insensitively.

// Parses "ROI=density:1.0", "ROI=material:water", "ROI=material:water,density:1.0"
// (the ROI name may contain spaces). Throws UsageError.
StructureOverride parse_override(const std::string& text);

struct PhantomBuildOptions {
  std::vector<StructureOverride> overrides;  // applied in order (later wins)
  bool air_outside_body = false;             // voxels outside the body ROI become air
  std::string body_roi;                      // "" = the EXTERNAL-type ROI or BODY/EXTERNAL...
  std::string air_material = "air";
  double air_density_g_cm3 = 0.00121;
};

// The voxel phantom on the CT grid. `rs` (with its file name `rs_path` for messages) is
// needed for overrides and air_outside_body; an override's ROI missing from it, a missing
// body ROI, or a structure set on another frame of reference is an InputError naming rs_path.
// Material names come from the calibration (plus overrides), in first-use order.
Phantom build_phantom(const io::CtImage& ct, const CtCalibration& cal, const io::StructureSet* rs,
                      const std::string& rs_path, const PhantomBuildOptions& opt = {});

// A dose grid over the same region as `ct` with voxel size `spacing_mm` on every axis (or
// the CT grid itself when spacing_mm <= 0): same lower corner, n = ceil(extent / spacing),
// so it covers the CT and overhangs it by less than one voxel on the upper side.
phys::GridGeometry dose_grid(const phys::GridGeometry& ct, double spacing_mm);

// The phantom resampled onto `grid` by nearest neighbour (each new voxel takes the
// material and density of the phantom voxel containing its centre; centres outside the
// phantom get `outside_material` (added to the names if needed) and `outside_density`).
Phantom resample_phantom(const Phantom& p, const phys::GridGeometry& grid,
                         const std::string& outside_material = "air",
                         double outside_density_g_cm3 = 0.00121);

}  // namespace sabre
