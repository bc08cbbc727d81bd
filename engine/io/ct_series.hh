// DICOM CT series reader: a directory of CT slices (in any order) -> one HU volume on an
// axis-aligned grid in DICOM patient coordinates (LPS), cm inside sabre.
//
// Checked (each failure is an InputError naming a file and the problem): one series, one
// frame of reference, modality CT, the same orientation, pixel spacing, rows and columns on
// every slice; an axial orientation whose cosines are +-1 (HFS, HFP, FFS, FFP; oblique
// refused); no gantry tilt (tag and geometry); slices stacked along the normal at a constant
// spacing (a missing slice or uneven spacing is refused; no resampling); complete pixel
// data. Rescale slope and intercept are applied per slice. Compressed transfer syntaxes are
// decoded when DCMTK has a decoder (JPEG, JPEG-LS, RLE). See docs/dicom.md.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "physics/geometry/voxel_grid.hh"

namespace sabre::io {

// How the stored image axes run in the patient frame: axial images only, so the row
// direction (increasing column index) is +-x, the column direction (increasing row index)
// is +-y, and the slice normal (row x column) is +-z.
//   HFS: (+1,+1,+1)  FFS: (-1,+1,-1)  HFP: (-1,-1,+1)  FFP: (+1,-1,-1)
struct AxialOrientation {
  int x = 1;  // sign of the row direction cosine along x
  int y = 1;  // sign of the column direction cosine along y
  int z() const { return x * y; }  // sign of the normal (row x column) along z
  // ImageOrientationPatient: row cosines then column cosines.
  std::array<double, 6> cosines() const { return {double(x), 0, 0, 0, double(y), 0}; }
  // From a patient position code "HFS", "HFP", "FFS", "FFP" (throws std::invalid_argument).
  static AxialOrientation from_position(const std::string& position);
};

// Identification carried from the CT to outputs that must reference it (RT Dose, RT Struct).
struct DicomPatientStudy {
  std::string patient_name, patient_id, patient_birth_date, patient_sex;
  std::string study_instance_uid, study_id, study_date, study_time, accession_number,
      referring_physician;
  std::string frame_of_reference_uid;
};

struct CtImage {
  phys::GridGeometry grid;       // axis-aligned, coordinates increasing with i, j, k [cm]
  std::vector<float> hu;         // [voxel] Hounsfield units on `grid` (index i + nx*(j+ny*k))
  AxialOrientation orientation;  // how the files stored the image
  std::string patient_position;  // PatientPosition (0018,5100) as found ("" when absent)
  DicomPatientStudy ids;
  std::string series_instance_uid;
  std::vector<std::string> files;              // slices, sorted along the slice normal
  std::vector<std::string> sop_instance_uids;  // same order
};

// Reads a CT series from a directory (every regular file in it; files that are not DICOM
// Part 10 and RT objects (RTSTRUCT, RTPLAN, RTDOSE...) are skipped) or from one file
// (a one-slice series, which needs SliceThickness).
CtImage read_ct_series(const std::string& path);

}  // namespace sabre::io
