// sabre's native dose output: one HDF5 file per run holding dose [Gy], relative
// uncertainty, the grid geometry in patient (DICOM LPS) coordinates, the phantom's material
// map and density, and provenance. The layout (schema) is versioned and documented in
// docs/hdf5-output.md; readers check `schema_version` and refuse files they do not know.
//
// The file is written under a temporary name and renamed on success (no partial output);
// it is deterministic apart from the `created_utc` attribute (HDF5 object time stamps off).
#pragma once

#include <hdf5.h>

#include <functional>
#include <string>

#include "engine/dose_result.hh"

namespace sabre::io {

// Current schema version written by write_dose_hdf5 (docs/hdf5-output.md). Version 2:
// /dose/rel_uncertainty is the TOTAL relative 1-sigma (statistical and calibration in
// quadrature; the statistical part alone in /dose/rel_uncertainty_statistical, the
// calibration term in the /dose attribute calibration_rel_uncertainty). Version 1 files
// held the statistical part only, under /dose/rel_uncertainty.
inline constexpr int kDoseHdf5SchemaVersion = 3;  // written for non-uniform grids; uniform ones stay 2
// Value of the root attribute "format".
inline constexpr const char* kDoseHdf5Format = "sabre-dose";

// Writes `dose` to `path`. DoseResult::provenance entries become string attributes of the
// /provenance group (next to the fields sabre fills itself: version, commit, seed,
// histories, device, date...). Throws RuntimeError (exit 4) naming `path` when the file
// cannot be written, std::logic_error when `dose` is inconsistent (array sizes vs grid).
void write_dose_hdf5(const std::string& path, const DoseResult& dose);
// The same, calling `extra(file)` with the open file before it is closed and renamed into
// place (the tally of a part or checkpoint, engine/io/tally_hdf5.hh).
void write_dose_hdf5(const std::string& path, const DoseResult& dose, const std::function<void(hid_t)>& extra);

// Reads a file written by write_dose_hdf5 (any schema version up to the current one):
// DoseResult::rel_uncertainty gets the statistical part (version 1: /dose/rel_uncertainty,
// version 2: /dose/rel_uncertainty_statistical) and calibration_rel_uncertainty the
// calibration term (0 for version 1), so a file round-trips.
// Throws InputError naming `path` for a missing, unreadable or non-sabre file, or an
// unknown schema version.
DoseResult read_dose_hdf5(const std::string& path);

}  // namespace sabre::io
