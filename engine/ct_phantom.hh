// From DICOM to the voxel phantom in one call: CT series (+ optional RT Structure Set),
// calibration, overrides, air outside the body, dose grid. Used by `sabre ct` and meant
// for any command that transports in a CT (e.g. a future `sabre simulate --ct`).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/ct_calibration.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/rtstruct.hh"
#include "engine/phantom.hh"

namespace sabre {

struct CtPhantomOptions {
  std::string ct_path;                    // directory of slices (or one file)
  std::string structures_path;            // RT Structure Set file, "" = none
  std::string calibration = "schneider";  // name or CSV path (docs/ct-calibration.md)
  std::vector<StructureOverride> overrides;  // applied in order (parse_override for text)
  bool air_outside_body = false;
  std::string body_roi;                   // "" = automatic (EXTERNAL type, BODY...)
  double dose_grid_mm = 0;                // 0 = the CT grid, else cubic voxels of this size
};

struct CtPhantom {
  io::CtImage ct;
  std::optional<io::StructureSet> structures;
  CtCalibration calibration;
  Phantom phantom;  // on the dose grid
  // Provenance entries for outputs (ct_path, ct_series_uid, frame_of_reference_uid,
  // ct_calibration, structure_set, and the digests input_sha256:ct_series (SHA-256 of the
  // slices' SHA-256 hex digests, one per line, in slice order), input_sha256:ct_calibration,
  // input_sha256:structure_set). Copy them into DoseResult::provenance.
  std::map<std::string, std::string> provenance;
};

// Throws InputError (bad files), UsageError (overrides or air outside the body without a
// structure set). RunConfig (engine/run_config.hh) maps field by field onto the options.
CtPhantom load_ct_phantom(const CtPhantomOptions& opt);

// Writes the phantom (format "sabre-phantom" v1, docs/hdf5-output.md): /grid as in dose
// files, /phantom/material, /phantom/density_g_cm3, /phantom/material_names, /ct/hu on the
// CT grid, /provenance. Temporary name + rename.
void write_phantom_hdf5(const std::string& path, const CtPhantom& p);

}  // namespace sabre
