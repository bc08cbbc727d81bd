// DICOM RT Plan (linac, photon) reading and writing with DCMTK. Host-only.
//
// Reading resolves DICOM's "only what changes" encoding: every ControlPoint returned here
// carries all values (gantry, collimator, couch, table pitch/roll, isocentre, energy,
// jaws, leaves), carried forward from earlier control points. Units are DICOM's: mm and
// degrees (convert to cm at the transport edge). Setup beams (TreatmentDeliveryType SETUP)
// are skipped and listed in Plan::skipped. Problems are InputErrors naming the file, the
// beam and the control point.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "beams/machine.hh"

namespace sabre::beams {

// One beam-limiting device of a beam: "X", "Y", "ASYMX", "ASYMY", "MLCX" or "MLCY".
struct LimitingDevice {
  std::string type;
  int pairs = 0;                       // NumberOfLeafJawPairs
  std::vector<double> boundaries_mm;   // LeafPositionBoundaries (pairs + 1), MLC only
};

struct ControlPoint {
  int index = 0;
  double cumulative_weight = 0;   // CumulativeMetersetWeight (as in the plan)
  double energy_mv = 0;           // NominalBeamEnergy [MV]
  double dose_rate = 0;           // DoseRateSet [MU/min], 0 when absent
  double gantry_deg = 0;
  std::string gantry_direction = "NONE";  // CW, CC, NONE
  double collimator_deg = 0;      // BeamLimitingDeviceAngle
  double couch_deg = 0;           // PatientSupportAngle
  double table_pitch_deg = 0;     // TableTopPitchAngle
  double table_roll_deg = 0;      // TableTopRollAngle
  std::array<double, 3> iso_mm{0, 0, 0};  // IsocenterPosition (patient LPS) [mm]
  std::array<double, 2> jaw_x_mm{0, 0};   // X1 (-), X2 (+) at isocentre [mm]
  std::array<double, 2> jaw_y_mm{0, 0};   // Y1, Y2 [mm]
  bool has_jaw_x = false, has_jaw_y = false;
  std::vector<double> mlc_mm;     // 2N leaf positions: bank A (N values) then bank B [mm]
};

struct Beam {
  int number = 0;
  std::string name;
  std::string machine_name;     // TreatmentMachineName
  std::string manufacturer_model;
  std::string type = "STATIC";  // STATIC or DYNAMIC
  std::string radiation = "PHOTON";
  std::string delivery = "TREATMENT";
  double sad_mm = 1000;
  bool fff = false;             // PrimaryFluenceModeSequence: NON_STANDARD / "FFF"
  std::string fluence_mode_id;  // "FFF", "SRS", ... ("" for STANDARD)
  double mu = 0;                // BeamMeterset of the first fraction group [MU]
  double final_weight = 1;      // FinalCumulativeMetersetWeight
  std::vector<LimitingDevice> devices;
  std::string patient_position = "HFS";  // from PatientSetupSequence (0018,5100)
  std::vector<ControlPoint> control_points;

  const LimitingDevice* mlc() const;  // the MLCX (or MLCY) device, or nullptr
};

struct Plan {
  std::string path;
  std::string label, name;
  std::string sop_instance_uid;
  std::string frame_of_reference_uid;
  std::string patient_id, patient_name;
  std::string study_instance_uid;
  std::string structure_set_uid;   // ReferencedStructureSetSequence, "" when absent
  int fractions_planned = 0;
  std::vector<Beam> beams;          // treatment beams, in plan order
  std::vector<std::string> skipped; // "beam 3 'SETUP kV': setup beam" etc.
};

Plan read_rtplan(const std::string& path);

// Writes `plan` as an RT Plan (explicit VR little endian, via a temporary name). Values are
// written in the first control point and after it only where they change. New UIDs are
// made for the plan; frame_of_reference_uid / study_instance_uid / structure_set_uid are
// used when set. Throws RuntimeError when the file cannot be written, InputError (naming
// `path`) for an inconsistent plan.
void write_rtplan(const Plan& plan, const std::string& path);

// The machine model for a beam, among `machines`: TreatmentMachineName must match one of a
// model's match_names, the beam's energy and FFF flag one of its beams, and, when the plan
// has an MLC, its narrowest leaf width the model's central_leaf_width_cm (0.1 mm). When no
// model matches, throws InputError naming the plan file, the beam and what was looked for.
struct MachineChoice {
  const Machine* machine = nullptr;
  const BeamModel* beam = nullptr;
};
MachineChoice select_machine(const Beam& beam, const std::vector<Machine>& machines,
                             const std::string& plan_path);

}  // namespace sabre::beams
