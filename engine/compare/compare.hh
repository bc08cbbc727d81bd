// `sabre compare`: load two dose files (DICOM RT Dose or sabre HDF5, on any axis-aligned
// grids), compute the gamma map and dose-difference statistics on the reference grid, write
// the requested outputs, and report. The CLI (cli/cmd_compare.cc) only parses into
// CompareInputs and prints the report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/compare/gamma.hh"
#include "engine/dose_result.hh"

namespace sabre::compare {

struct LoadedDose {
  DoseResult dose;
  std::string format;  // "dicom-rtdose" or "sabre-hdf5"
};

// Reads a dose file, recognised by its content (HDF5 signature, or DICOM "DICM" preamble).
// Throws InputError naming `path` when it is missing, is neither format, is not an RT Dose,
// is not in Gy (RT Dose DoseUnits RELATIVE), or holds non-finite or negative doses.
LoadedDose load_dose_file(const std::string& path);

struct CompareInputs {
  std::string reference_path, evaluated_path;
  GammaCriteria criteria;
  std::string output_h5;   // "" = none
  std::string output_png;  // "" = none
};

struct CompareReport {
  CompareInputs inputs;
  std::string reference_format, evaluated_format, dose_unit;
  GammaResult gamma;
  int png_slice = -1;  // axial slice index of the PNG (-1 when none written)
};

// Loads, checks (units must match; grids must overlap), computes and writes the outputs.
// Output paths are checked before any work; outputs appear whole or not at all.
CompareReport run_compare(const CompareInputs& in);

nlohmann::json report_json(const CompareReport& r);
std::string report_text(const CompareReport& r);

}  // namespace sabre::compare
