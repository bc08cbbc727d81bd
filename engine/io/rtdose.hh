// DICOM RT Dose: writer (from a DoseResult, in the CT's stored orientation and frame of
// reference) and reader (for `sabre compare` and tests), and the few RT Plan identifiers an
// RT Dose references. See docs/dicom.md for what is written and checked.
#pragma once

#include <string>

#include "engine/dose_result.hh"
#include "engine/io/ct_series.hh"

namespace sabre::io {

inline constexpr const char* kRtPlanStorageUid = "1.2.840.10008.5.1.4.1.1.481.5";
inline constexpr const char* kRtDoseStorageUid = "1.2.840.10008.5.1.4.1.1.481.2";

struct RtDoseOptions {
  AxialOrientation orientation;  // stored orientation: use the CT's (CtImage::orientation)
  DicomPatientStudy ids;         // patient, study and FrameOfReferenceUID (from the CT)
  std::string summation_type = "PLAN";  // DoseSummationType: PLAN or BEAM
  std::string plan_sop_instance_uid;    // the RT Plan used ("" when none: no reference)
  int beam_number = 0;                  // for BEAM: the plan's ReferencedBeamNumber
  std::string series_description = "sabre Monte Carlo dose";
  // Pixel depth: 16 (default) or 32 bits. The maximum dose maps to 65000 (4e9): a step of
  // 1.5e-5 of the maximum at 16 bits, far below Monte Carlo noise. 16 is the default
  // because Debian 12's dciodvfy aborts on 32-bit pixel data (any file, pydicom's too).
  int bits_allocated = 16;
};

// Writes `dose` (dose_gy on dose.grid) as an RT Dose file: unsigned pixels with
// DoseGridScaling, DoseUnits GY when dose.dose_unit is "Gy" (RELATIVE otherwise, with the
// unit in DoseComment), DoseType PHYSICAL, frames stacked along the slice normal of
// `opt.orientation` with GridFrameOffsetVector relative to the first frame. Dose to medium
// or to water is stated in DoseComment. Temporary name + rename.
// Throws UsageError for a summation type other than PLAN/BEAM (or BEAM without a beam),
// InputError if the frame of reference UID is empty, RuntimeError when it cannot write.
void write_rtdose(const std::string& path, const DoseResult& dose, const RtDoseOptions& opt);

struct RtDose {
  DoseResult dose;               // grid (axis-aligned, cm) and dose_gy (x DoseGridScaling);
                                 // dose_unit "Gy" (DoseUnits GY) or "relative"
  AxialOrientation orientation;  // as stored
  std::string frame_of_reference_uid, dose_type, summation_type, plan_sop_instance_uid,
      comment;
};

// Reads an RT Dose file (axial orientation; 16- or 32-bit pixels; compressed transfer
// syntaxes DCMTK can decode). Throws InputError naming `path` for anything else.
RtDose read_rtdose(const std::string& path);

struct RtPlanReference {
  std::string sop_instance_uid, frame_of_reference_uid, label;
};
// The identifiers of an RT Plan file (what an RT Dose's ReferencedRTPlanSequence needs).
RtPlanReference read_rtplan_reference(const std::string& path);

}  // namespace sabre::io
