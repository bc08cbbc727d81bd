// A treatment plan as sabre's beam models read it: beams, beam-limiting devices and control
// points, with every value carried forward (DICOM's "only what changes" resolved). Host
// only. Read from and written to DICOM RT Plans by engine/io/rtplan.hh; built for tests,
// examples and calibration by beams/plan_builder.hh.
//
// Units are DICOM's: mm at the isocentre and degrees (converted to cm at the transport
// edge, beams/delivery_build.hh).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

namespace sabre::beams {

// One beam-limiting device of a beam, as RT Plans name them: RTBeamLimitingDeviceType "X",
// "Y", "ASYMX", "ASYMY" (jaw pairs), "MLCX", "MLCY" (leaf banks).
struct LimitingDevice {
  std::string type;
  int pairs = 0;                       // NumberOfLeafJawPairs
  std::vector<double> boundaries_mm;   // LeafPositionBoundaries (pairs + 1), MLC only
};

bool is_jaw_type(const std::string& type);   // X, Y, ASYMX, ASYMY
bool is_mlc_type(const std::string& type);   // MLCX, MLCY

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
  // LeafJawPositions per device type [mm at isocentre]: a jaw pair as {1, 2} (negative
  // side first), a leaf bank as the N positions of bank A then the N of bank B.
  std::map<std::string, std::vector<double>> positions_mm;

  // The positions of `type`, or nullptr when the control point has none.
  const std::vector<double>* positions(const std::string& type) const;
};

// The beam's applicator (ApplicatorSequence, one item): for photon beams a stereotactic
// cone. `opening_mm` is ApplicatorGeometrySequence's ApplicatorOpening for a SYM_CIRCULAR
// aperture, taken as the cone's diameter at the isocentre (0: not given).
struct Applicator {
  std::string id;           // ApplicatorID
  std::string type;         // ApplicatorType: STEREOTACTIC, PHOTON_CIRC, ...
  std::string description;  // ApplicatorDescription
  std::string aperture_shape;  // ApplicatorApertureShape: SYM_CIRCULAR, ... ("" when absent)
  double opening_mm = 0;
};

// A tomotherapy delivery (beams/helical.hh): projections of equal duration, in each the
// open fraction of every binary leaf (the sinogram), the leaf open for that fraction of the
// projection time, centred in it. HELICAL: the gantry turns continuously, 360 degrees per
// `projections_per_rotation` projections, from `gantry_start_deg`; FIXED_ANGLE (TomoDirect):
// the gantry stands at `fixed_gantry_deg[projection]`. In both the couch moves the patient
// into the bore continuously, `couch_mm_per_projection` per projection (the beam plane
// starts at the control point's isocentre). Jaws fixed at +-jaw_width_mm / 2 about the
// beam plane (jaw_offset_mm shifts both).
struct Sinogram {
  int n_leaves = 0;
  std::vector<double> open_fraction;     // [projection * n_leaves + leaf], in [0, 1]
  double projection_time_s = 0;
  double jaw_width_mm = 0;               // at the axis, longitudinal
  double jaw_offset_mm = 0;
  std::string geometry = "HELICAL";      // HELICAL | FIXED_ANGLE
  double gantry_start_deg = 0;
  int projections_per_rotation = 51;
  std::vector<double> fixed_gantry_deg;  // FIXED_ANGLE: one per projection
  double couch_mm_per_projection = 0;
  bool leaf_latency = false;             // apply the machine's leaf latency (beams/helical.hh)
  int n_projections() const { return n_leaves > 0 ? int(open_fraction.size()) / n_leaves : 0; }
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
  bool has_applicator = false;
  Applicator applicator;        // when has_applicator
  std::string patient_position = "HFS";  // from PatientSetupSequence (0018,5100)
  std::vector<ControlPoint> control_points;
  // A robotic node from a native plan (beams/robotic_plan.hh): the source position in the
  // patient (DICOM LPS) [mm] and the collimator's roll about the beam axis [deg]; the
  // target is the control points' isocentre and the angles are unused. A robotic beam
  // read from DICOM has node = false: its direction comes from its gantry, patient support
  // and collimator angles and its source lies sad_mm from the isocentre (beams/robotic.hh).
  bool node = false;
  std::array<double, 3> source_mm{0, 0, 0};
  double roll_deg = 0;
  // A tomotherapy beam (native plan, beams/tomo_plan.hh): its sinogram; `mu` is its beam-on
  // time [s] (projections x projection time); control point 0 holds the start isocentre
  // (where the delivery starts), control point 1 the end of the couch travel (information).
  bool helical = false;
  Sinogram sinogram;

  const LimitingDevice* device(const std::string& type) const;  // nullptr when absent
  const LimitingDevice* mlc() const;  // the first MLCX or MLCY device, or nullptr
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

}  // namespace sabre::beams
