// Gamma map outputs: an HDF5 file (format "sabre-gamma", documented in docs/compare.md) and
// a PNG picture of the axial slice through the reference maximum.
#pragma once

#include <string>

#include "engine/compare/gamma.hh"
#include "engine/dose_result.hh"

namespace sabre::compare {

inline constexpr const char* kGammaHdf5Format = "sabre-gamma";
inline constexpr int kGammaHdf5SchemaVersion = 1;

// Writes the gamma map, pass mask, dose difference, grid, criteria and summary to `path`
// (temporary name + rename). `reference_file` / `evaluated_file` are recorded as given.
// Throws RuntimeError naming `path` when it cannot be written.
void write_gamma_hdf5(const std::string& path, const GammaResult& gamma,
                      const std::string& reference_file, const std::string& evaluated_file);

// Writes a PNG of the axial slice (constant k) through the reference maximum: gamma in the
// "gamma" colour map (0..2, pass blue, fail yellow to red) where evaluated, the reference
// dose in grey elsewhere, and a colour bar (gamma 0..2, white mark at 1) along the bottom.
// Image x is the patient x (L) axis to the right, image y the patient y (P) axis down;
// pixels are square (the voxel aspect ratio is kept). Throws RuntimeError naming `path`.
void write_gamma_png(const std::string& path, const GammaResult& gamma,
                     const DoseResult& reference);

// The slice index k written by write_gamma_png.
int gamma_png_slice(const GammaResult& gamma);

}  // namespace sabre::compare
