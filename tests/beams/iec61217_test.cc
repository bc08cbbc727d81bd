// IEC 61217 chain against hand-worked cases (derivations in beams/iec61217.hh).
#include <catch2/catch.hpp>

#include <cmath>

#include "beams/iec61217.hh"

using namespace sabre::beams;
using sabre::phys::Vec3;

namespace {
constexpr double kSad = 100.0;  // cm
constexpr double kTol = 1e-9;   // cm: exact rotations, rounding only

void check_vec(Vec3 a, Vec3 b, double tol = kTol) {
  CHECK(a.x == Approx(b.x).margin(tol));
  CHECK(a.y == Approx(b.y).margin(tol));
  CHECK(a.z == Approx(b.z).margin(tol));
}
double norm(Vec3 v) { return std::sqrt(dot(v, v)); }
}  // namespace

TEST_CASE("HFS gantry 90 enters from the patient's left", "[iec61217]") {
  const Vec3 iso{1.0, -2.0, 3.0};  // cm
  BeamAngles a;
  a.gantry_deg = 90;
  const auto t = beam_to_patient(a, PatientPosition::HFS, iso);
  // Source (0,0,SAD) in b -> +X_f -> patient's left (+x).
  check_vec(t.point({0, 0, kSad}), {iso.x + kSad, iso.y, iso.z});
  // Central axis direction (0,0,-1) in b travels toward the patient's right (-x).
  check_vec(t.direction({0, 0, -1}), {-1, 0, 0});
}

TEST_CASE("HFS hand-worked gantry, collimator and couch cases", "[iec61217]") {
  const Vec3 o{0, 0, 0};
  BeamAngles a;
  // Gantry 0: source above the patient: anterior = -y for HFS.
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).point({0, 0, kSad}), {0, -kSad, 0});
  // Gantry 180: posterior.
  a.gantry_deg = 180;
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).point({0, 0, kSad}), {0, kSad, 0});
  // Gantry 270: patient's right.
  a.gantry_deg = 270;
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).point({0, 0, kSad}), {-kSad, 0, 0});
  // Gantry 0, collimator 0: +X_b (X2 jaw side) = +X_f = patient's left; +Y_b (toward the
  // gantry) = superior.
  a.gantry_deg = 0;
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).direction({1, 0, 0}), {1, 0, 0});
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).direction({0, 1, 0}), {0, 0, 1});
  // Collimator 90: Rz(90) turns +X_b onto +Y_g = +Y_f = superior.
  a.collimator_deg = 90;
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).direction({1, 0, 0}), {0, 0, 1});
  // Couch 90 (counter-clockwise seen from above) swings the head toward -X_f; gantry 90
  // puts the source at +X_f, which is now the patient's feet: source inferior (-z).
  a = BeamAngles{};
  a.gantry_deg = 90;
  a.couch_deg = 90;
  check_vec(beam_to_patient(a, PatientPosition::HFS, o).point({0, 0, kSad}), {0, 0, -kSad});
}

TEST_CASE("patient positions are proper rotations with the documented axes", "[iec61217]") {
  for (auto p : {PatientPosition::HFS, PatientPosition::HFP, PatientPosition::FFS, PatientPosition::FFP})
    CHECK(patient_to_table_top(p).det() == Approx(1.0));
  BeamAngles a;
  a.gantry_deg = 90;  // source at +X_f
  // HFP: patient's left at -X_t, so gantry 90 enters from the patient's right.
  check_vec(beam_to_patient(a, PatientPosition::HFP, {}).point({0, 0, kSad}), {-kSad, 0, 0});
  // FFS: left at -X_t too.
  check_vec(beam_to_patient(a, PatientPosition::FFS, {}).point({0, 0, kSad}), {-kSad, 0, 0});
  // FFP: left at +X_t.
  check_vec(beam_to_patient(a, PatientPosition::FFP, {}).point({0, 0, kSad}), {kSad, 0, 0});
  // Gantry 0 for prone patients: source above = posterior (+y).
  a.gantry_deg = 0;
  check_vec(beam_to_patient(a, PatientPosition::HFP, {}).point({0, 0, kSad}), {0, kSad, 0});
}

TEST_CASE("acceptance 4: the central axis passes through the isocentre within 0.5 mm", "[iec61217]") {
  // For every combination of gantry 0/90/180/270, collimator 0/90, couch 0/90, the line
  // from the source along the central axis passes the isocentre (off-centre iso, HFS).
  const Vec3 iso{12.3, -4.5, 67.8};  // cm
  for (double g : {0.0, 90.0, 180.0, 270.0})
    for (double c : {0.0, 90.0})
      for (double s : {0.0, 90.0}) {
        BeamAngles a;
        a.gantry_deg = g;
        a.collimator_deg = c;
        a.couch_deg = s;
        const auto t = beam_to_patient(a, PatientPosition::HFS, iso);
        const Vec3 src = t.point({0, 0, kSad});
        const Vec3 dir = t.direction({0, 0, -1});
        CHECK(norm(dir) == Approx(1.0));
        // Distance from iso to the line src + s*dir.
        const Vec3 w = iso - src;
        const Vec3 closest = src + dot(w, dir) * dir;
        const double miss_cm = norm(iso - closest);
        INFO("gantry " << g << " collimator " << c << " couch " << s << ": miss " << miss_cm * 10 << " mm");
        CHECK(miss_cm < 0.05);  // 0.5 mm
        CHECK(norm(src - iso) == Approx(kSad));
        // Round trip patient -> beam.
        check_vec(t.to_beam_point(src), {0, 0, kSad}, 1e-9);
      }
}

TEST_CASE("table top pitch and roll tilt the frame as right-handed rotations", "[iec61217]") {
  BeamAngles a;
  a.table_pitch_deg = 90;  // about X_t: +Y_t (superior, HFS) -> +Z ... seen in the fixed frame
  // Pitch rotates the table top: a patient's superior axis (+Y_t) maps in s to Rx(90)*(0,1,0)
  // = (0,0,1): the head tilts up. The source at gantry 0 (+Z_f) is then along +Y_t =
  // superior.
  check_vec(beam_to_patient(a, PatientPosition::HFS, {}).point({0, 0, kSad}), {0, 0, kSad});
  a = BeamAngles{};
  a.table_roll_deg = 90;  // about Y_t: +X_t (patient left) turns down, so the source above is on -X_t (right)
  check_vec(beam_to_patient(a, PatientPosition::HFS, {}).point({0, 0, kSad}), {-kSad, 0, 0});
}
