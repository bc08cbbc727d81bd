// DICOM RT Plan (linac, photon) reading and writing with DCMTK. Host-only; the plan model
// itself (Plan, Beam, ControlPoint) is beams/plan.hh.
//
// Reading resolves DICOM's "only what changes" encoding: every ControlPoint returned here
// carries all values (gantry, collimator, couch, table pitch/roll, isocentre, energy, and
// the positions of every beam-limiting device), carried forward from earlier control
// points. Device types read: X, Y, ASYMX, ASYMY, MLCX, MLCY; whether a machine model has
// them is decided when a model is chosen (beams/machine_select.hh). Units are DICOM's: mm
// and degrees. Setup beams (TreatmentDeliveryType SETUP) are skipped and listed in
// Plan::skipped. Problems are InputErrors naming the file, the beam and the control point.
#pragma once

#include <string>

#include "beams/plan.hh"

namespace sabre::io {

beams::Plan read_rtplan(const std::string& path);

// A plan file of any form: a native robotic or tomotherapy plan (.toml, by its format key:
// beams/robotic_plan.hh, beams/tomo_plan.hh) or a DICOM RT Plan (anything else).
beams::Plan read_plan(const std::string& path);

// Writes `plan` as an RT Plan (explicit VR little endian, via a temporary name). Values are
// written in the first control point and after it only where they change. New UIDs are
// made for the plan; frame_of_reference_uid / study_instance_uid / structure_set_uid are
// used when set. Throws RuntimeError when the file cannot be written, InputError (naming
// `path`) for an inconsistent plan.
void write_rtplan(const beams::Plan& plan, const std::string& path);

}  // namespace sabre::io
