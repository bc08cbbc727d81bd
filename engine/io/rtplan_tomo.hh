// Tomotherapy deliveries from DICOM, in the two encodings that exist (docs/tomo-plans.md,
// "DICOM"): Accuray's private sinogram in an RT Plan (private creator TOMO_HA_01 in group
// 300D of the beam) and the standard Tomotherapeutic Radiation object (SOP class
// 1.2.840.10008.5.1.4.1.1.481.14: tomotherapeutic control points with leaf open durations
// in seconds). Both end in the same plan model (beams/plan.hh: one beam with a Sinogram) by
// the same last step (beams::finish_helical_beam), so one delivery read from either gives
// the same dose bit for bit. Host only; DCMTK. Every problem is an InputError naming the
// file, the beam or control point and the attribute.
#pragma once

#include "engine/io/dicom_util.hh"  // DCMTK first

#include <string>

#include "beams/plan.hh"

namespace sabre::io {

// True when a BeamSequence item carries Accuray's private tomotherapy block.
bool has_tomo_private_block(DcmItem& beam);

// Completes `b` (its number, name, machine, patient position and MU already read from the
// RT Plan's common attributes) from the private block and the control points of `beam`.
void read_tomo_private_beam(DcmItem& beam, beams::Beam& b, const std::string& where);

// A Tomotherapeutic Radiation object (the whole file).
beams::Plan read_tomo_standard(DcmDataset& ds, const std::string& path);

}  // namespace sabre::io
