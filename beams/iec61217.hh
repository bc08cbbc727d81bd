// IEC 61217 coordinate chain for a linac beam: beam-limiting device (b) -> gantry (g) ->
// fixed (f) -> patient support (s) -> table top (t) -> patient (DICOM LPS). Host and device.
//
// Conventions (IEC 61217, as DICOM RT uses them):
// - Fixed system f: origin at the isocentre, +Y_f from the isocentre toward the gantry,
//   +Z_f up (toward the source at gantry 0), +X_f completing a right-handed set: to the
//   right of an observer at the foot of the couch looking toward the gantry.
// - Every IEC rotation angle is positive CLOCKWISE when looking from the origin along the
//   positive axis it turns about; that is the right-hand rule about the positive axis.
//   So all rotations below are right-handed: Rx, Ry, Rz with the usual signs.
// - Gantry g: f rotated about Y_f by the gantry angle. b: g rotated about Z_g by the
//   collimator (beam-limiting device) angle. s: f rotated about Z_f by the patient support
//   angle. t: s rotated by table-top pitch (about X) then roll (about Y): R_top = Rx(pitch)
//   Ry(roll) (the order matters only at second order in these small angles).
// - In b (and g), the source is at (0, 0, SAD) and the central axis points along -Z.
//   The MLC (MLCX) and X jaws move along X_b, the Y jaws along Y_b.
//
// Patient to table top, for the patient positions of DICOM (0018,5100), with DICOM patient
// axes x = toward the patient's Left, y = Posterior, z = Superior:
//   HFS (head first supine): head toward the gantry (+Y_t = superior), face up (+Z_t =
//       anterior = -y), so the patient's left is +X_t:      (X,Y,Z)_t = ( x,  z, -y)
//   HFP (prone): face down (+Z_t = posterior = +y), left at -X_t: ( -x,  z,  y)
//   FFS (feet first supine): +Y_t = inferior, face up, left at -X_t: ( -x, -z, -y)
//   FFP (feet first prone): +Y_t = inferior, face down, left at +X_t: ( x, -z,  y)
// (each is a proper rotation, determinant +1; tested).
//
// Hand-worked check, HFS, gantry 90 (the acceptance case): the source in g is (0,0,SAD);
// Ry(90) takes it to f = (SAD, 0, 0), i.e. +X_f. For HFS +X_t = +X_f (couch 0) = patient
// left (+x). So at gantry 90 the source is on the patient's left and the beam enters from
// the patient's left, travelling toward -x (the patient's right).
#pragma once

#include <cmath>
#include <string>

#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"

namespace sabre::beams {

using phys::Vec3;

enum class PatientPosition : int { HFS = 0, HFP = 1, FFS = 2, FFP = 3 };

// DICOM PatientPosition (0018,5100) text -> PatientPosition; HFS for anything else (the plan
// readers refuse other values). Host only.
inline PatientPosition patient_position_from(const std::string& pp) {
  return pp == "HFP" ? PatientPosition::HFP : pp == "FFS" ? PatientPosition::FFS
       : pp == "FFP" ? PatientPosition::FFP : PatientPosition::HFS;
}

struct Mat3 {
  double m[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};

  SABRE_HD Vec3 operator*(Vec3 v) const {
    return {m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z,
            m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
            m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z};
  }
  SABRE_HD Mat3 operator*(const Mat3& o) const {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        r.m[i][j] = m[i][0] * o.m[0][j] + m[i][1] * o.m[1][j] + m[i][2] * o.m[2][j];
    return r;
  }
  SABRE_HD Mat3 transposed() const {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) r.m[i][j] = m[j][i];
    return r;
  }
  SABRE_HD double det() const {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  }
};

SABRE_HD_INLINE double deg_to_rad(double deg) { return deg * (phys::kPi / 180.0); }

// Right-handed rotations about the positive axes by `deg` degrees.
SABRE_HD_INLINE Mat3 rot_x(double deg) {
  const double c = std::cos(deg_to_rad(deg)), s = std::sin(deg_to_rad(deg));
  Mat3 r;
  r.m[1][1] = c; r.m[1][2] = -s;
  r.m[2][1] = s; r.m[2][2] = c;
  return r;
}
SABRE_HD_INLINE Mat3 rot_y(double deg) {
  const double c = std::cos(deg_to_rad(deg)), s = std::sin(deg_to_rad(deg));
  Mat3 r;
  r.m[0][0] = c; r.m[0][2] = s;
  r.m[2][0] = -s; r.m[2][2] = c;
  return r;
}
SABRE_HD_INLINE Mat3 rot_z(double deg) {
  const double c = std::cos(deg_to_rad(deg)), s = std::sin(deg_to_rad(deg));
  Mat3 r;
  r.m[0][0] = c; r.m[0][1] = -s;
  r.m[1][0] = s; r.m[1][1] = c;
  return r;
}

// Patient (LPS) -> table top, per the table in the header comment.
SABRE_HD_INLINE Mat3 patient_to_table_top(PatientPosition p) {
  Mat3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = 0;
  switch (p) {
    case PatientPosition::HFS: r.m[0][0] = 1;  r.m[1][2] = 1;  r.m[2][1] = -1; break;
    case PatientPosition::HFP: r.m[0][0] = -1; r.m[1][2] = 1;  r.m[2][1] = 1;  break;
    case PatientPosition::FFS: r.m[0][0] = -1; r.m[1][2] = -1; r.m[2][1] = -1; break;
    case PatientPosition::FFP: r.m[0][0] = 1;  r.m[1][2] = -1; r.m[2][1] = 1;  break;
  }
  return r;
}

// Machine angles of one instant of a delivery [degrees, as in DICOM].
struct BeamAngles {
  double gantry_deg = 0;
  double collimator_deg = 0;
  double couch_deg = 0;        // PatientSupportAngle
  double table_pitch_deg = 0;  // TableTopPitchAngle
  double table_roll_deg = 0;   // TableTopRollAngle
};

// The affine map from beam-limiting-device coordinates (cm, origin at the isocentre, source
// at (0,0,SAD)) to DICOM patient coordinates (cm): p_patient = rot * p_b + iso_cm.
struct BeamToPatient {
  Mat3 rot;
  Vec3 iso_cm;

  SABRE_HD Vec3 point(Vec3 p_b_cm) const { return rot * p_b_cm + iso_cm; }
  SABRE_HD Vec3 direction(Vec3 d_b) const { return rot * d_b; }
  // Inverse (patient -> beam-limiting device).
  SABRE_HD Vec3 to_beam_point(Vec3 p_cm) const { return rot.transposed() * (p_cm - iso_cm); }
  SABRE_HD Vec3 to_beam_direction(Vec3 d) const { return rot.transposed() * d; }
};

// b -> g: Rz(coll); g -> f: Ry(gantry); f -> s: Rz(couch)^T; s -> t: R_top^T;
// t -> patient: patient_to_table_top^T.
SABRE_HD_INLINE BeamToPatient beam_to_patient(const BeamAngles& a, PatientPosition pos,
                                              Vec3 iso_patient_cm) {
  const Mat3 b_to_f = rot_y(a.gantry_deg) * rot_z(a.collimator_deg);
  const Mat3 f_to_s = rot_z(a.couch_deg).transposed();
  const Mat3 s_to_t = (rot_x(a.table_pitch_deg) * rot_y(a.table_roll_deg)).transposed();
  const Mat3 t_to_p = patient_to_table_top(pos).transposed();
  BeamToPatient r;
  r.rot = t_to_p * (s_to_t * (f_to_s * b_to_f));
  r.iso_cm = iso_patient_cm;
  return r;
}

}  // namespace sabre::beams
