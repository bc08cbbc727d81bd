// The native plan form of a tomotherapy machine: a TOML file, format "sabre-tomo-plan/1"
// (docs/tomo-plans.md), holding one helical or fixed-angle delivery as a sinogram. Host
// only. Read into the plan model (one beam with Beam::helical set); written by
// `sabre plan tomo`.
//
//   format = "sabre-tomo-plan/1"
//   [plan]
//   machine = "TomoTherapy"         # TreatmentMachineName, matched to the machine files
//   label = "..."  fractions = 1    # optional
//   energy_mv = 6.0  fff = true     # optional
//   patient_position = "HFS"        # optional
//   frame_of_reference_uid = "..."  # optional
//   geometry = "HELICAL"            # HELICAL | FIXED_ANGLE
//   projection_time_s = 0.3
//   jaw_width_mm = 25.0             # field width at the axis; jaw_offset_mm optional (0)
//   iso_start_mm = [x, y, z]        # the beam plane's position at the start
//   gantry_start_deg = 0.0          # HELICAL
//   projections_per_rotation = 51   # optional (51)
//   pitch = 0.287                   # couch travel per rotation / jaw width (HELICAL) ...
//   couch_mm_per_projection = 0.14  # ... or the travel per projection directly (either)
//   fixed_gantry_deg = [...]        # FIXED_ANGLE: one per projection
//   leaf_latency = false            # optional: the machine's leaf-latency model
//   sinogram = [[...], [...], ...]  # one row per projection, one open fraction per leaf
//
// Errors are InputErrors naming the file and the key or projection.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

inline constexpr const char* kTomoPlanFormat = "sabre-tomo-plan/1";

// True when the TOML file at `path` declares the tomotherapy format (looked up cheaply).
bool is_tomo_plan_file(const std::string& path);

Plan read_tomo_plan(const std::string& path);

// The last step of every tomotherapy reader (native, DICOM private, DICOM standard): the
// sinogram's numbers rounded to fixed decimal precision (open fractions to 8 significant
// digits, nanoseconds of a projection; projection time [s], couch step, jaw width and
// offset [mm] to 10), so that one delivery read from any encoding is the same plan bit for
// bit whichever way each encoding spells it (a fraction or seconds, a pitch or a couch
// speed: the same number through different arithmetic differs in its last bits); then the
// beam-on time (`mu`, s) and the two control points (start and end isocentre,
// beams/plan.hh) from `iso_start_mm`, the beam plane at the start (patient LPS, mm).
void finish_helical_beam(Beam& b, const std::array<double, 3>& iso_start_mm, double energy_mv);
double canonical_open_fraction(double f);
double canonical_length(double v);
void write_tomo_plan(const Plan& plan, const std::string& path);

// A generated plan (`sabre plan tomo`): a helical delivery over `length_mm` of couch travel
// centred on `target_mm`, `rotations` from the pitch; in each projection the leaves whose
// slot at the axis crosses the sphere of `radius_mm` about the target (as seen from the
// gantry angle at the projection's middle, in the beam plane at that moment) open for
// `open_fraction`; radius_mm <= 0 opens every leaf (an all-open sinogram). FIXED_ANGLE
// with `fixed_angles` delivers the same over each listed angle in turn (TomoDirect).
struct TomoPlanSpec {
  std::string label = "sabre tomo";
  std::string machine_name;
  double energy_mv = 6;
  std::string geometry = "HELICAL";
  std::vector<double> fixed_angles;
  std::array<double, 3> target_mm{0, 0, 0};
  double radius_mm = 0;
  double length_mm = 0;     // couch travel; 0: the target's diameter plus the jaw width
  double jaw_width_mm = 25;
  double pitch = 0.287;
  double projection_time_s = 0.3;
  double open_fraction = 1.0;
  int projections_per_rotation = 51;
  bool leaf_latency = false;
  int fractions = 1;
  std::string patient_position = "HFS";
};
Plan make_tomo_plan(const Machine& m, const TomoPlanSpec& spec);

}  // namespace sabre::beams
