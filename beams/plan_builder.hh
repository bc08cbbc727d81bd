// Builders of simple plans for a C-arm machine model (for `sabre plan static|step-and-shoot|
// sliding-window|arc`, calibration, validation cases and tests): static fields,
// step-and-shoot segments, sliding windows and VMAT-style arcs. The beam-limiting devices
// and the MLC's leaf boundaries come from the machine file (plan_devices); the aperture is
// a rectangle at isocentre that the jaws (where the machine has them) and the MLC follow.
// Host-only; the result is a Beam of beams/plan.hh that engine/io's write_rtplan() turns
// into DICOM.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

// The beam-limiting devices a plan for `m` carries: one per collimator, named by its first
// DICOM type (ASYMX, ASYMY, MLCX, ...), with the MLC's leaf boundaries [mm at isocentre].
std::vector<LimitingDevice> plan_devices(const Machine& m);

struct FieldSpec {
  std::string machine_name;        // TreatmentMachineName
  std::vector<LimitingDevice> devices;  // plan_devices(machine): required
  double sad_mm = 1000;
  double energy_mv = 6;
  bool fff = true;
  double mu = 100;
  // Rectangle at isocentre [mm]: x along IEC X_b (the leaf motion of an MLCX).
  double x1_mm = -50, x2_mm = 50, y1_mm = -50, y2_mm = 50;
  double jaw_margin_mm = 0;   // jaws this much outside the MLC aperture (0: jaws = field)
  double gantry_deg = 0, collimator_deg = 0, couch_deg = 0;
  std::array<double, 3> iso_mm{0, 0, 0};
  std::string patient_position = "HFS";
  double dose_rate = 1400;    // MU/min (informational)
  // A cone [diameter at isocentre, mm] as the beam's applicator (0: none); its
  // ApplicatorType is the machine cone's first (field_for).
  double cone_mm = 0;
  std::string cone_applicator_type;
  bool iris = false;  // cone_mm is the Iris's size (applicator ID "IRIS <size> MM")
};

// The TreatmentMachineName sabre writes for `m` by default: its first match_names pattern
// with the wildcards removed (a pattern is not a name), or its name.
std::string default_machine_name(const Machine& m);

// A field for machine `m` and its beam `b`: name (the first match_names entry without
// wildcards), devices, SAD, energy, FFF flag and the cone's applicator type set; the rest
// at the defaults above.
FieldSpec field_for(const Machine& m, const BeamModel& b);

// The leaf positions (bank A then B) that open [x1, x2] for every pair whose centre lies in
// [y1, y2] and close the others (closed pairs meet at x = `park_mm`). x is the motion
// axis, y across the leaves.
std::vector<double> rectangle_leaves(const std::vector<double>& boundaries_mm, double x1_mm,
                                     double x2_mm, double y1_mm, double y2_mm, double park_mm);

// One static field: two control points (weights 0 and 1).
Beam make_static_beam(const FieldSpec& f, int number, const std::string& name);

// Step-and-shoot: `segments` nested rectangles shrinking toward the centre, equal MU each
// (2 control points per segment, leaves jump at equal cumulative weights).
Beam make_step_and_shoot_beam(const FieldSpec& f, int segments, int number, const std::string& name);

// Sliding window: every open pair's leaves sweep over the rectangle's extent along the
// leaf motion with a constant gap `gap_mm`, at constant speed over the meterset (uniform
// fluence over the rectangle).
Beam make_sliding_window_beam(const FieldSpec& f, double gap_mm, int control_points, int number,
                              const std::string& name);

// Arc from gantry_start to gantry_stop in direction "CW" or "CC" (or "NONE" with equal
// angles: a dynamic beam with no gantry motion), `control_points` equally spaced in
// meterset. modulation = 0 keeps the aperture fixed (the rectangle); > 0 narrows the
// opening along the leaf motion with gantry angle: scaled by
// 1 - modulation*(1 - cos(2*phase))/2.
Beam make_arc_beam(const FieldSpec& f, double gantry_start, double gantry_stop,
                   const std::string& direction, int control_points, double modulation,
                   int number, const std::string& name);

// A robotic machine's reference field: the cone of diameter `field_x_cm` (at the SAD). A
// tomotherapy machine's: one fixed projection at gantry 0 of `mu` seconds, the leaves within
// |x| < field_x_cm / 2 open, the jaws at field_y_cm (at most their widest).
// Otherwise: a plan with one static field `field_x_cm` x `field_y_cm` at isocentre, gantry 0,
// isocentre at `iso_cm` (patient frame, cm), `mu` MU, for calibration and validation runs.
// The field is set by the jaws where the machine has them: an MLC whose motion axis has
// jaws is retracted 1 cm behind them (pairs within 1 cm of the field open 1 cm beyond the
// jaws, the others closed under jaw 1); along an axis without jaws the MLC defines the
// field (the rectangle).
Plan reference_field_plan(const Machine& machine, const BeamModel& beam, double field_x_cm, double field_y_cm,
                          const std::array<double, 3>& iso_cm, double mu = 100);

}  // namespace sabre::beams
