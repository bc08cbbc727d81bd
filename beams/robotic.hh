// Robotic (CyberKnife) delivery geometry, host side: each beam is a node with its own
// source position S and target point T (patient frame); the collimator is centred on the
// line from S through T and its geometry is given at the machine's SAD (80 cm) from the
// source, whatever |S - T| is. A node becomes a fixed-frame beam of beams/delivery.hh: the
// map from IEC b (source at (0, 0, SAD), axis along -z) to the patient is a rotation R and
// a point V = S - SAD a, with a = (S - T) / |S - T| (b's +z, toward the source).
//
// Two ways to give a node's frame:
// - native plan nodes (beams/robotic_plan.hh): S, T and a roll r. b's x axis is the
//   patient's +x (left) made orthogonal to a, or the patient's +z (superior) when a is
//   within 8 degrees of x; then rotated by r about a (right-handed about +a); y = a x x.
// - DICOM beams (engine/io/rtplan): the IEC 61217 chain of the beam's gantry, patient
//   support and beam-limiting-device angles gives R (beams/iec61217.hh); T is
//   IsocenterPosition and S = T + SourceAxisDistance a (the beam's own distance).
#pragma once

#include <array>
#include <string>

#include "beams/iec61217.hh"
#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

struct NodeFrame {
  Mat3 rot;          // IEC b -> patient
  Vec3 source_cm;    // S
  Vec3 target_cm;    // T
  Vec3 virtual_iso_cm;  // V = S - SAD a: the origin of b
  double distance_cm = 0;  // |S - T|
};

// The frame of a native node: source, target [cm], roll [deg]. InputError-free: the caller
// checks S != T.
Mat3 node_rotation(Vec3 source_cm, Vec3 target_cm, double roll_deg);

// The node frame of beam `b` of a robotic machine `m` (native node or DICOM beam: above).
// Throws InputError(where: ...) when the source coincides with the target, lies closer to
// it than the collimators' bottom, or the angles change within the beam.
NodeFrame node_frame(const Machine& m, const Beam& b, const std::string& where);

// A robotic machine's MLC moves along x of the node frame (MLCX). A beam that carries it as
// MLCY (leaves along y) is the same delivery seen with the collimator turned by 90 degrees:
// returns the beam with its MLCY device renamed MLCX, every control point's
// BeamLimitingDeviceAngle + 90, the leaf pairs in reverse order and the boundaries
// negated and reversed (b' = b rotated by +90 about z: x' = y, y' = -x). Other beams are
// returned unchanged.
Beam mlcy_as_mlcx(const Beam& b);

// True when machine `m` reads an MLCY device as its MLCX turned by 90 degrees (a robotic
// machine whose MLC serves MLCX only) and beam `b` carries one.
bool reads_mlcy_as_mlcx(const Machine& m, const Beam& b);

// Which collimator a beam's applicator selects (a cone by ApplicatorType, the Iris by
// ApplicatorID) and its size [cm at SAD]; an empty `why` when it is one of the machine's.
struct ApplicatorChoice {
  enum class Problem { none, no_collimator, no_geometry, no_size };
  Problem problem = Problem::none;
  const CollimatorSpec* collimator = nullptr;  // the cone or Iris (also for no_geometry, no_size)
  double size_cm = 0;
  std::string why;  // short: "no cone for applicator type X", "no 7.5 mm cone", ...; "" when chosen
};
ApplicatorChoice choose_applicator(const Machine& m, const Beam& b);

}  // namespace sabre::beams
