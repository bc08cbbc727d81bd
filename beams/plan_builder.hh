// Builders of simple linac plans (for `sabre plan static|step-and-shoot|sliding-window|arc`,
// validation cases and tests): static fields, step-and-shoot segments, sliding windows and
// VMAT-style arcs on an HD120 or Millennium 120 MLC. Host-only; the result is a Beam of
// rtplan.hh that write_rtplan() turns into DICOM.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "beams/rtplan.hh"

namespace sabre::beams {

// LeafPositionBoundaries [mm at isocentre] of a Varian MLC model: "HD120" (14 x 5, 32 x 2.5,
// 14 x 5 mm) or "Millennium120" (10 x 10, 40 x 5, 10 x 10 mm) (docs/machines.md). Throws
// UsageError for another name.
std::vector<double> mlc_boundaries_mm(const std::string& mlc_model);

struct FieldSpec {
  std::string machine_name = "TrueBeam";  // TreatmentMachineName
  std::string mlc_model = "HD120";
  double energy_mv = 6;
  bool fff = true;
  double mu = 100;
  // Rectangle at isocentre [mm]: x along the leaf motion.
  double x1_mm = -50, x2_mm = 50, y1_mm = -50, y2_mm = 50;
  double jaw_margin_mm = 0;   // jaws this much outside the MLC aperture (0: jaws = field)
  double gantry_deg = 0, collimator_deg = 0, couch_deg = 0;
  std::array<double, 3> iso_mm{0, 0, 0};
  std::string patient_position = "HFS";
  double dose_rate = 1400;    // MU/min (informational)
};

// The leaf positions (bank A then B) that open [x1, x2] for every pair whose centre lies in
// [y1, y2] and close the others (closed pairs meet at x = `park_mm`, under the jaws).
std::vector<double> rectangle_leaves(const std::vector<double>& boundaries_mm, double x1_mm,
                                     double x2_mm, double y1_mm, double y2_mm, double park_mm);

// One static field: two control points (weights 0 and 1).
Beam make_static_beam(const FieldSpec& f, int number, const std::string& name);

// Step-and-shoot: `segments` nested rectangles shrinking toward the centre, equal MU each
// (2 control points per segment, leaves jump at equal cumulative weights).
Beam make_step_and_shoot_beam(const FieldSpec& f, int segments, int number, const std::string& name);

// Sliding window: every open pair's leaves sweep from x1 to x2 with a constant gap
// `gap_mm`, at constant speed over the meterset (uniform fluence over [x1, x2]).
Beam make_sliding_window_beam(const FieldSpec& f, double gap_mm, int control_points, int number,
                              const std::string& name);

// Arc from gantry_start to gantry_stop in direction "CW" or "CC" (or "NONE" with equal
// angles: a dynamic beam with no gantry motion), `control_points` equally spaced in
// meterset. modulation = 0 keeps the aperture fixed (the rectangle); > 0 narrows the
// opening with gantry angle: x-extent scaled by 1 - modulation*(1 - cos(2*phase))/2.
Beam make_arc_beam(const FieldSpec& f, double gantry_start, double gantry_stop,
                   const std::string& direction, int control_points, double modulation,
                   int number, const std::string& name);

}  // namespace sabre::beams
