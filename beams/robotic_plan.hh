// The native plan form of a robotic (CyberKnife) machine: a TOML file, format
// "sabre-robotic-plan/1" (docs/robotic-plans.md), listing nodes with their source and
// target in patient coordinates, collimator and MU. Host only. Read into the plan model of
// beams/plan.hh (one beam per node, Beam::node set), so that `sabre run` and `sabre linac`
// treat it like an RT Plan; written by `sabre plan cyberknife`.
//
//   format = "sabre-robotic-plan/1"
//   [plan]
//   label = "CK lung"                 # optional
//   machine = "CyberKnife"            # TreatmentMachineName, matched to the machine files
//   energy_mv = 6.0                   # optional (6); fff = true optional (true)
//   fractions = 3                     # optional (1)
//   frame_of_reference_uid = "..."    # optional: checked against the CT when given
//   [[node]]
//   source_mm = [x, y, z]             # patient (DICOM LPS) coordinates [mm]
//   target_mm = [x, y, z]
//   collimator = "cone"               # cone | iris | mlc
//   size_mm = 7.5                     # cone or Iris: nominal diameter at 80 cm [mm]
//   mu = 42.0                         # > 0; a node of 0 MU is skipped (Plan::skipped)
//   roll_deg = 0.0                    # optional: collimator roll about the axis
//   leaves_a_mm = [...]               # mlc: bank A and B tip positions at 80 cm [mm],
//   leaves_b_mm = [...]               #      one per leaf pair of the machine's MLC
//
// A cone node becomes an applicator of type STEREOTACTIC, ID "CONE <size> MM"; an Iris
// node an applicator with ID "IRIS <size> MM"; an MLC node an MLCX device (the machine
// file's leaf boundaries). Errors are InputErrors naming the file and the node.
#pragma once

#include <array>
#include <string>

#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

inline constexpr const char* kRoboticPlanFormat = "sabre-robotic-plan/1";

// True when `path` names a native robotic plan (extension .toml).
bool is_robotic_plan_path(const std::string& path);

Plan read_robotic_plan(const std::string& path);

// A generated plan for tests and examples (`sabre plan cyberknife`): `nodes` nodes whose
// sources lie `distance_mm` from the target, in directions spread evenly (a Fibonacci
// spiral: equal solid angle per node) over the cap within `max_angle_deg` of `toward`
// (unit vector from the target, patient frame; default anterior for a supine patient,
// -y). Every node has the same collimator and MU; an "mlc" node opens a size_mm x size_mm
// square on the machine's MLC (pairs outside it closed at the axis).
struct RoboticPlanSpec {
  std::string label = "sabre cyberknife";
  std::string machine_name;  // TreatmentMachineName ("" : the machine's first pattern)
  double energy_mv = 6;
  bool fff = true;
  std::array<double, 3> target_mm{0, 0, 0};
  std::array<double, 3> toward{0, -1, 0};
  int nodes = 100;
  double distance_mm = 800;
  double max_angle_deg = 70;
  std::string collimator = "cone";  // cone | iris | mlc
  double size_mm = 10;
  double mu = 50;                   // per node
  int fractions = 1;
};
// UsageError for a spec the machine cannot deliver (no such collimator or size, ...).
Plan make_robotic_plan(const Machine& m, const RoboticPlanSpec& spec);

// Writes the plan's node beams (Beam::node) in the native form (via a temporary name).
void write_robotic_plan(const Plan& plan, const std::string& path);

}  // namespace sabre::beams
