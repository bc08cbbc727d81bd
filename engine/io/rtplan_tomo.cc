#include "engine/io/rtplan_tomo.hh"

#include "engine/io/plan_items.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "beams/iec61217.hh"
#include "beams/tomo_plan.hh"
#include "core/errors.hh"

namespace sabre::io {
using beams::Beam;
using beams::Plan;
using beams::Sinogram;
using detail::get_double;
using detail::get_doubles;
using detail::get_str;
using detail::has;
using detail::items;

namespace {

constexpr const char* kAccurayCreator = "TOMO_HA_01";
// Offsets in Accuray's private block (group 300D).
constexpr Uint16 kGantryPeriod = 0x40;  // beam: seconds per rotation
constexpr Uint16 kPitch = 0x60;         // beam: couch travel per rotation / field width
constexpr Uint16 kCouchSpeed = 0x80;    // beam: mm/s
constexpr Uint16 kGeometry = 0xA4;      // beam: HELICAL | FIXED_ANGLE
constexpr Uint16 kSinogram = 0xA7;      // control point: one open fraction per leaf

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

// The block (0x10..0xFF) whose creator in group 300D of `item` is Accuray's, or 0.
Uint16 accuray_block(DcmItem& item) {
  for (Uint16 e = 0x10; e <= 0xFF; ++e) {
    const DcmTagKey creator(0x300D, e);
    if (!has(item, creator)) continue;
    if (get_str(item, creator) == kAccurayCreator) return e;
  }
  return 0;
}

DcmTagKey priv(Uint16 block, Uint16 offset) { return DcmTagKey(0x300D, Uint16((block << 8) | offset)); }

std::string priv_name(Uint16 offset) {
  char b[48];
  std::snprintf(b, sizeof b, "private (300D,xx%02X) of %s", unsigned(offset), kAccurayCreator);
  return b;
}

// The angle from a to b, turning forward, in [0, 360).
double forward_deg(double a, double b) {
  double d = std::fmod(b - a, 360.0);
  if (d < 0) d += 360;
  return d;
}

// What the control points of one delivery say, in either encoding: n + 1 control points
// for n projections (the last one ends the delivery).
struct TomoControlPoints {
  std::vector<double> gantry_deg;               // per control point
  std::vector<std::vector<double>> open;        // per projection, open fraction per leaf
  std::vector<double> couch_mm;                 // per control point, along the travel; empty: not given
  std::vector<std::array<double, 3>> iso_mm;    // per control point (carried forward); may be empty
};

// Projections since the gantry angle last changed (FIXED_ANGLE) or since the start
// (HELICAL), at each control point (the last one: one past its projection).
std::vector<double> couch_index(const Sinogram& s, int n_cp) {
  std::vector<double> c(std::size_t(n_cp), 0.0);
  const int n = n_cp - 1;
  for (int k = 0; k < n; ++k) {
    if (s.geometry == "HELICAL") c[std::size_t(k)] = k;
    else c[std::size_t(k)] = (k > 0 && s.fixed_gantry_deg[std::size_t(k)] == s.fixed_gantry_deg[std::size_t(k - 1)])
                                 ? c[std::size_t(k - 1)] + 1
                                 : 0;
  }
  c[std::size_t(n)] = n > 0 ? c[std::size_t(n - 1)] + 1 : 0;
  return c;
}

// The gantry of the sinogram from the control points' angles. `geometry` "" infers it: a
// gantry that stands still between two control points is FIXED_ANGLE.
void set_gantry(Sinogram& s, const std::vector<double>& a, std::string geometry, const std::string& where,
                const std::string& angle_name) {
  const int n = int(a.size()) - 1;
  if (geometry.empty()) {
    geometry = "HELICAL";
    for (int k = 1; k < n; ++k)
      if (a[std::size_t(k)] == a[std::size_t(k - 1)]) geometry = "FIXED_ANGLE";
    if (n == 1 && a[0] == a[1]) geometry = "FIXED_ANGLE";
  }
  s.geometry = geometry;
  if (geometry == "FIXED_ANGLE") {
    s.fixed_gantry_deg.assign(a.begin(), a.begin() + n);
    s.gantry_start_deg = 0;
    return;
  }
  const double step = forward_deg(a[0], a[1]);
  if (!(step > 0))
    throw InputError(where + ": a HELICAL delivery's gantry must turn (" + angle_name + " " + num(a[0]) + " then " +
                     num(a[1]) + " deg)");
  const double per_rot = 360.0 / step;
  const double ppr = std::round(per_rot);
  if (ppr < 1 || std::abs(per_rot - ppr) > 1e-3 * ppr)
    throw InputError(where + ": the gantry turns " + num(step) + " deg per control point, not a whole number of "
                     "projections per rotation");
  s.projections_per_rotation = int(ppr);
  s.gantry_start_deg = a[0];
  for (int k = 1; k <= n; ++k) {
    const double want = std::fmod(a[0] + k * 360.0 / ppr, 360.0);
    double d = std::abs(std::fmod(a[std::size_t(k)], 360.0) - want);
    d = std::min(d, 360 - d);
    if (d > 0.01)
      throw InputError(where + ", control point " + std::to_string(k) + ": " + angle_name + " " +
                       num(a[std::size_t(k)]) + " deg, a gantry turning " + num(360.0 / ppr) +
                       " deg per projection (clockwise) is at " + num(want) + " deg");
  }
}

// The couch positions along the travel at each control point against a couch moving the
// sinogram's step per projection (FIXED_ANGLE: back to the start at each new angle).
void check_couch(const Sinogram& s, const TomoControlPoints& cp, const std::string& pos_name,
                 const std::string& where) {
  if (cp.couch_mm.empty()) return;
  const std::vector<double> c = couch_index(s, int(cp.gantry_deg.size()));
  const double step = s.couch_mm_per_projection;
  for (std::size_t k = 0; k < c.size(); ++k) {
    const double got = cp.couch_mm[k] - cp.couch_mm[0], want = c[k] * step;
    if (std::abs(got - want) > 0.01)
      throw InputError(where + ", control point " + std::to_string(k) + ": " + pos_name + " " + num(cp.couch_mm[k]) +
                       " mm, " + num(got) + " mm from the start where a couch moving " + num(step) +
                       " mm per projection is " + num(want) + " mm from it");
  }
}

// Leaf open fractions per projection: `values` are fractions (scale 1) or seconds (scale =
// the projection time); the last control point must open nothing.
std::vector<double> open_row(const std::vector<double>& values, double scale, int n_leaves, const std::string& cw,
                             const std::string& name) {
  if (int(values.size()) != n_leaves)
    throw InputError(cw + ": " + name + " has " + std::to_string(values.size()) + " values, the first control point " +
                     std::to_string(n_leaves));
  std::vector<double> f(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    double x = values[i] / scale;
    if (x > 1 && x < 1 + 1e-9) x = 1;  // seconds that equal the projection time up to rounding
    if (!(x >= 0 && x <= 1))
      throw InputError(cw + ": " + name + ", leaf " + std::to_string(i + 1) + ": " + num(values[i]) +
                       (scale == 1 ? " is outside [0, 1]" : " s is outside [0, the projection time " + num(scale) + " s]"));
    f[i] = x;
  }
  return f;
}

void check_last_closed(const std::vector<double>& values, const std::string& cw, const std::string& name) {
  for (double v : values)
    if (v != 0)
      throw InputError(cw + ": the last control point ends the delivery, yet its " + name + " opens a leaf");
}

// The beam plane's motion per projection in the patient (beams/helical.hh: the couch
// carries the patient into the bore, the plane moves along -Y of the table top).
std::array<double, 3> plane_direction(const std::string& patient_position) {
  const beams::PatientPosition pos = beams::patient_position_from(patient_position);
  const beams::Vec3 d = beams::patient_to_table_top(pos).transposed() * beams::Vec3{0, -1, 0};
  return {d.x, d.y, d.z};
}

// Later IsocenterPositions: a repeat of the first, or where the couch has carried the plane.
void check_isocentres(const Sinogram& s, const TomoControlPoints& cp, const std::string& patient_position,
                      const std::string& where) {
  if (cp.iso_mm.empty()) return;
  const std::vector<double> c = couch_index(s, int(cp.gantry_deg.size()));
  const auto dir = plane_direction(patient_position);
  const auto& i0 = cp.iso_mm.front();
  for (std::size_t k = 1; k < cp.iso_mm.size(); ++k) {
    const auto& ik = cp.iso_mm[k];
    if (ik == i0) continue;
    double err = 0;
    for (int j = 0; j < 3; ++j) err = std::max(err, std::abs(ik[j] - i0[j] - c[k] * s.couch_mm_per_projection * dir[j]));
    if (err > 0.1)
      throw InputError(where + ", control point " + std::to_string(k) + ": IsocenterPosition [" + num(ik[0]) + ", " +
                       num(ik[1]) + ", " + num(ik[2]) + "] mm is " + num(err) +
                       " mm from where the couch speed puts the beam plane");
  }
}

}  // namespace

bool has_tomo_private_block(DcmItem& beam) { return accuray_block(beam) != 0; }

// ---------------------------------------------------------------------------------------
void read_tomo_private_beam(DcmItem& bi, Beam& b, const std::string& where) {
  const Uint16 blk = accuray_block(bi);
  auto beam_number = [&](Uint16 off, bool required) {
    const DcmTagKey tag = priv(blk, off);
    const auto v = get_doubles(bi, tag, where + ": " + priv_name(off));
    if (v.empty()) {
      if (required) throw InputError(where + ": missing " + priv_name(off));
      return std::nan("");
    }
    return v[0];
  };
  Sinogram& s = b.sinogram;
  const std::string geometry = get_str(bi, priv(blk, kGeometry));
  if (geometry.empty()) throw InputError(where + ": missing " + priv_name(kGeometry) + " (HELICAL or FIXED_ANGLE)");
  if (geometry != "HELICAL" && geometry != "FIXED_ANGLE")
    throw InputError(where + ": " + priv_name(kGeometry) + " is '" + geometry + "', not HELICAL or FIXED_ANGLE");
  const double period = beam_number(kGantryPeriod, true);
  if (!(period > 0)) throw InputError(where + ": " + priv_name(kGantryPeriod) + " (gantry period) must be > 0 s");
  const double speed = beam_number(kCouchSpeed, true);
  if (!(speed >= 0)) throw InputError(where + ": " + priv_name(kCouchSpeed) + " (couch speed) must be >= 0 mm/s");
  const double pitch = beam_number(kPitch, false);

  const auto cps = items(bi, DCM_ControlPointSequence);
  if (cps.size() < 2)
    throw InputError(where + ": " + std::to_string(cps.size()) +
                     " control points: a sinogram needs one per projection and one to end it");
  TomoControlPoints cp;
  double energy = 0, jaw1 = 0, jaw2 = 0;
  bool has_jaws = false;
  std::array<double, 3> iso{0, 0, 0};
  int n_leaves = -1;
  std::vector<std::vector<double>> raw;  // per control point; empty: closed
  for (std::size_t k = 0; k < cps.size(); ++k) {
    DcmItem& c = *cps[k];
    const std::string cw = where + ", control point " + std::to_string(k);
    if (k == 0) {
      if (!has(c, DCM_NominalBeamEnergy)) throw InputError(cw + ": the first control point lacks NominalBeamEnergy");
      energy = get_double(c, DCM_NominalBeamEnergy, cw, 0);
      if (!has(c, DCM_GantryAngle)) throw InputError(cw + ": the first control point lacks GantryAngle");
      if (!has(c, DCM_IsocenterPosition)) throw InputError(cw + ": the first control point lacks IsocenterPosition");
    }
    const double g = has(c, DCM_GantryAngle) ? get_double(c, DCM_GantryAngle, cw, 0) : cp.gantry_deg.back();
    cp.gantry_deg.push_back(g);
    if (has(c, DCM_IsocenterPosition)) {
      const auto v = get_doubles(c, DCM_IsocenterPosition, cw);
      if (v.size() != 3) throw InputError(cw + ": IsocenterPosition needs 3 values");
      iso = {v[0], v[1], v[2]};
    }
    cp.iso_mm.push_back(iso);
    for (DcmItem* pi : items(c, DCM_BeamLimitingDevicePositionSequence)) {
      const std::string t = get_str(*pi, DCM_RTBeamLimitingDeviceType);
      if (t != "Y" && t != "ASYMY") continue;
      const auto pos = get_doubles(*pi, DCM_LeafJawPositions, cw);
      if (pos.size() != 2 || !(pos[1] > pos[0]))
        throw InputError(cw + ": the " + t + " jaws need two LeafJawPositions, the first below the second");
      if (has_jaws && (pos[0] != jaw1 || pos[1] != jaw2))
        throw InputError(cw + ": the jaws move (" + num(jaw1) + ", " + num(jaw2) + " -> " + num(pos[0]) + ", " +
                         num(pos[1]) + " mm): dynamic jaws are not read");
      if (!has_jaws && k > 0) throw InputError(cw + ": jaw positions appear after the first control point");
      jaw1 = pos[0];
      jaw2 = pos[1];
      has_jaws = true;
    }
    std::vector<double> row;
    const Uint16 cblk = accuray_block(c);
    if (cblk != 0) row = get_doubles(c, priv(cblk, kSinogram), cw + ": " + priv_name(kSinogram));
    else if (has(c, priv(blk, kSinogram)))
      throw InputError(cw + ": " + priv_name(kSinogram) + " without its private creator in the control point");
    if (!row.empty() && n_leaves < 0) n_leaves = int(row.size());
    raw.push_back(row);
  }
  if (n_leaves <= 0) throw InputError(where + ": no control point carries a sinogram (" + priv_name(kSinogram) + ")");
  const int n = int(cps.size()) - 1;
  s.n_leaves = n_leaves;
  for (int k = 0; k < n; ++k) {
    const std::string cw = where + ", control point " + std::to_string(k);
    const std::vector<double> r =
        raw[std::size_t(k)].empty() ? std::vector<double>(std::size_t(n_leaves), 0.0)
                                    : open_row(raw[std::size_t(k)], 1.0, n_leaves, cw, priv_name(kSinogram));
    s.open_fraction.insert(s.open_fraction.end(), r.begin(), r.end());
  }
  check_last_closed(raw.back(), where + ", control point " + std::to_string(n), priv_name(kSinogram));

  set_gantry(s, cp.gantry_deg, geometry, where, "GantryAngle");
  if (geometry == "HELICAL" && s.projections_per_rotation != 51)
    throw InputError(where + ": the gantry turns " + num(360.0 / s.projections_per_rotation) +
                     " deg per control point; a TomoTherapy projection is 360/51 deg");
  s.projection_time_s = period / 51.0;
  s.couch_mm_per_projection = speed * s.projection_time_s;
  if (has_jaws) {
    s.jaw_width_mm = jaw2 - jaw1;
    s.jaw_offset_mm = 0.5 * (jaw1 + jaw2);
  } else {
    if (!(pitch > 0) || !(speed > 0))
      throw InputError(where + ": no Y jaw positions, and no pitch and couch speed to find the field width from");
    s.jaw_width_mm = speed * period / pitch;
  }
  check_isocentres(s, cp, b.patient_position, where);
  s.leaf_latency = false;
  b.type = "DYNAMIC";
  b.fff = true;
  b.fluence_mode_id = "FFF";
  b.sad_mm = has(bi, DCM_SourceAxisDistance) ? b.sad_mm : 0;
  b.devices.clear();
  beams::finish_helical_beam(b, cp.iso_mm.front(), energy);
}

// ---------------------------------------------------------------------------------------
Plan read_tomo_standard(DcmDataset& ds, const std::string& path) {
  Plan plan;
  plan.path = path;
  plan.label = get_str(ds, DCM_UserContentLabel);
  plan.name = plan.label;
  plan.sop_instance_uid = get_str(ds, DCM_SOPInstanceUID);
  plan.frame_of_reference_uid = get_str(ds, DCM_FrameOfReferenceUID);
  plan.patient_id = get_str(ds, DCM_PatientID);
  plan.patient_name = get_str(ds, DCM_PatientName);
  plan.study_instance_uid = get_str(ds, DCM_StudyInstanceUID);
  plan.fractions_planned = int(get_double(ds, DCM_IntendedNumberOfFractions, path, 1));
  const std::string where = path + ": tomotherapeutic radiation";

  Beam b;
  b.number = 1;
  b.name = plan.label.empty() ? "tomo" : plan.label;
  b.machine_name = get_str(ds, DCM_TreatmentMachineName);
  if (b.machine_name.empty())
    for (DcmItem* it : items(ds, DCM_TreatmentDeviceIdentificationSequence)) {
      b.machine_name = get_str(*it, DCM_DeviceLabel);
      break;
    }
  if (b.machine_name.empty())
    throw InputError(where + ": no TreatmentMachineName, nor a DeviceLabel in TreatmentDeviceIdentificationSequence");
  b.manufacturer_model = get_str(ds, DCM_ManufacturerModelName);
  std::string position = get_str(ds, DCM_PatientPosition);
  for (DcmItem* it : items(ds, DCM_TreatmentPositionSequence)) {
    if (position.empty()) position = get_str(*it, DCM_PatientPosition);
    break;
  }
  if (!position.empty()) b.patient_position = position;
  if (b.patient_position != "HFS" && b.patient_position != "HFP" && b.patient_position != "FFS" &&
      b.patient_position != "FFP")
    throw InputError(where + ": patient position " + b.patient_position + " is not supported (HFS, HFP, FFS, FFP)");
  b.sad_mm = get_double(ds, DCM_RadiationSourceAxisDistance, where, 0);
  if (b.sad_mm < 0) throw InputError(where + ": RadiationSourceAxisDistance must be > 0");

  const auto modes = items(ds, DCM_RadiationGenerationModeSequence);
  if (modes.size() != 1)
    throw InputError(where + ": " + std::to_string(modes.size()) +
                     " items in RadiationGenerationModeSequence (one is read)");
  if (!has(*modes[0], DCM_NominalEnergy))
    throw InputError(where + ": RadiationGenerationModeSequence lacks NominalEnergy");
  const double energy = get_double(*modes[0], DCM_NominalEnergy, where, 0);

  const auto units = items(ds, DCM_RadiationDosimeterUnitSequence);
  if (units.empty() || get_str(*units[0], DCM_CodeValue) != "s" ||
      get_str(*units[0], DCM_CodingSchemeDesignator) != "UCUM")
    throw InputError(where + ": the meterset must be in seconds (RadiationDosimeterUnitSequence: code 's', UCUM)");

  // The devices: the jaws (one pair of delimiters) and the MLC (one delimiter per leaf).
  int jaw_index = -1, mlc_index = -1, n_leaves = 0;
  for (DcmItem* d : items(ds, DCM_RTBeamLimitingDeviceDefinitionSequence)) {
    const int idx = int(get_double(*d, DCM_DeviceIndex, where, -1));
    const auto par = items(*d, DCM_ParallelRTBeamDelimiterDeviceSequence);
    if (par.size() != 1) continue;
    const int count = int(get_double(*par[0], DCM_NumberOfParallelRTBeamDelimiters, where, 0));
    const auto bounds = get_doubles(*par[0], DCM_ParallelRTBeamDelimiterBoundaries, where);
    if (count == 1) {
      if (jaw_index >= 0) throw InputError(where + ": two jaw devices (one pair of delimiters each)");
      jaw_index = idx;
    } else if (count > 1) {
      if (mlc_index >= 0) throw InputError(where + ": two leaf devices");
      if (int(bounds.size()) != count + 1)
        throw InputError(where + ": the MLC has " + std::to_string(bounds.size()) +
                         " ParallelRTBeamDelimiterBoundaries for " + std::to_string(count) + " leaves (needs leaves + 1)");
      for (std::size_t i = 1; i < bounds.size(); ++i)
        if (!(bounds[i] > bounds[i - 1])) throw InputError(where + ": ParallelRTBeamDelimiterBoundaries must increase");
      mlc_index = idx;
      n_leaves = count;
    }
  }
  if (mlc_index < 0)
    throw InputError(where + ": no MLC in RTBeamLimitingDeviceDefinitionSequence (a device with one parallel "
                     "delimiter per leaf)");
  if (jaw_index < 0)
    throw InputError(where + ": no jaws in RTBeamLimitingDeviceDefinitionSequence (a device with one pair of "
                     "parallel delimiters)");

  const auto cps = items(ds, DCM_TomotherapeuticControlPointSequence);
  if (cps.size() < 2)
    throw InputError(where + ": " + std::to_string(cps.size()) +
                     " items in TomotherapeuticControlPointSequence: one per projection and one to end it");
  TomoControlPoints cp;
  std::vector<double> meterset;
  std::vector<std::vector<double>> durations;
  double jaw1 = 0, jaw2 = 0;
  std::array<double, 3> iso{0, 0, 0};
  bool couch_given = false;
  double couch = 0;
  for (std::size_t k = 0; k < cps.size(); ++k) {
    DcmItem& c = *cps[k];
    const std::string cw = where + ", control point " + std::to_string(k);
    if (!has(c, DCM_CumulativeMeterset)) throw InputError(cw + ": missing CumulativeMeterset (s)");
    meterset.push_back(get_double(c, DCM_CumulativeMeterset, cw, 0));
    if (k == 0) {
      if (!has(c, DCM_SourceRollAngle)) throw InputError(cw + ": the first control point lacks SourceRollAngle");
      if (!has(c, DCM_IsocenterPosition)) throw InputError(cw + ": the first control point lacks IsocenterPosition");
      const auto v = get_doubles(c, DCM_IsocenterPosition, cw);
      if (v.size() != 3) throw InputError(cw + ": IsocenterPosition needs 3 values");
      iso = {v[0], v[1], v[2]};
      couch_given = has(c, DCM_TableTopLongitudinalPosition);
    } else if (has(c, DCM_IsocenterPosition)) {
      throw InputError(cw + ": IsocenterPosition after the first control point (the couch moves the patient: "
                       "TableTopLongitudinalPosition)");
    }
    cp.gantry_deg.push_back(has(c, DCM_SourceRollAngle) ? get_double(c, DCM_SourceRollAngle, cw, 0)
                                                         : cp.gantry_deg.back());
    if (has(c, DCM_TableTopLongitudinalPosition)) {
      if (!couch_given) throw InputError(cw + ": TableTopLongitudinalPosition appears after the first control point");
      couch = get_double(c, DCM_TableTopLongitudinalPosition, cw, 0);
    }
    if (couch_given) cp.couch_mm.push_back(couch);
    for (DcmItem* o : items(c, DCM_RTBeamLimitingDeviceOpeningSequence)) {
      const int ref = int(get_double(*o, DCM_ReferencedDefinedDeviceIndex, cw, -1));
      if (ref != jaw_index) continue;
      const auto pos = get_doubles(*o, DCM_ParallelRTBeamDelimiterPositions, cw);
      if (pos.size() != 2 || !(pos[1] > pos[0]))
        throw InputError(cw + ": the jaws need two ParallelRTBeamDelimiterPositions, the first below the second");
      if (k > 0 && (pos[0] != jaw1 || pos[1] != jaw2))
        throw InputError(cw + ": the jaws move (" + num(jaw1) + ", " + num(jaw2) + " -> " + num(pos[0]) + ", " +
                         num(pos[1]) + " mm): dynamic jaws are not read");
      jaw1 = pos[0];
      jaw2 = pos[1];
    }
    if (k == 0 && !(jaw2 > jaw1))
      throw InputError(cw + ": the first control point lacks the jaw opening (RTBeamLimitingDeviceOpeningSequence)");
    durations.push_back(get_doubles(c, DCM_TomotherapeuticLeafOpenDurations, cw));
  }
  const int n = int(cps.size()) - 1;
  Sinogram& s = b.sinogram;
  const double t = meterset[1] - meterset[0];
  if (!(t > 0)) throw InputError(where + ", control point 1: CumulativeMeterset does not advance");
  for (int k = 1; k <= n; ++k) {
    const double dt = meterset[std::size_t(k)] - meterset[std::size_t(k - 1)];
    if (std::abs(dt - t) > 1e-6 * t + 1e-9)
      throw InputError(where + ", control point " + std::to_string(k) + ": CumulativeMeterset advances " + num(dt) +
                       " s, the first projection " + num(t) + " s (projections must last the same time)");
  }
  s.projection_time_s = (meterset[std::size_t(n)] - meterset[0]) / n;
  s.n_leaves = n_leaves;
  for (int k = 0; k < n; ++k) {
    const std::string cw = where + ", control point " + std::to_string(k);
    const auto& d = durations[std::size_t(k)];
    if (d.empty()) throw InputError(cw + ": missing TomotherapeuticLeafOpenDurations");
    const auto r = open_row(d, s.projection_time_s, n_leaves, cw, "TomotherapeuticLeafOpenDurations");
    DcmItem& c = *cps[std::size_t(k)];
    if (has(c, DCM_TomotherapeuticLeafInitialClosedDurations)) {
      const auto closed = get_doubles(c, DCM_TomotherapeuticLeafInitialClosedDurations, cw);
      if (int(closed.size()) != n_leaves)
        throw InputError(cw + ": TomotherapeuticLeafInitialClosedDurations has " + std::to_string(closed.size()) +
                         " values for " + std::to_string(n_leaves) + " leaves");
      for (int i = 0; i < n_leaves; ++i) {
        if (d[std::size_t(i)] == 0) continue;
        const double centred = 0.5 * (s.projection_time_s - d[std::size_t(i)]);
        if (std::abs(closed[std::size_t(i)] - centred) > 1e-6)
          throw InputError(cw + ": leaf " + std::to_string(i + 1) + " opens " + num(closed[std::size_t(i)]) +
                           " s into the projection, not centred (" + num(centred) +
                           " s): off-centre openings are not modelled");
      }
    }
    s.open_fraction.insert(s.open_fraction.end(), r.begin(), r.end());
  }
  check_last_closed(durations.back(), where + ", control point " + std::to_string(n),
                    "TomotherapeuticLeafOpenDurations");
  set_gantry(s, cp.gantry_deg, "", where, "SourceRollAngle");
  // The couch step: from the start to the control point furthest along its pass.
  if (couch_given) {
    const std::vector<double> c = couch_index(s, n + 1);
    std::size_t far = 0;
    for (std::size_t k = 0; k < c.size(); ++k)
      if (c[k] > c[far]) far = k;
    s.couch_mm_per_projection = (cp.couch_mm[far] - cp.couch_mm[0]) / c[far];
    if (s.couch_mm_per_projection < -1e-9)
      throw InputError(where + ": TableTopLongitudinalPosition decreases: a couch moving out of the bore is not read");
    if (s.couch_mm_per_projection < 0) s.couch_mm_per_projection = 0;
    check_couch(s, cp, "TableTopLongitudinalPosition", where);
  }
  s.jaw_width_mm = jaw2 - jaw1;
  s.jaw_offset_mm = 0.5 * (jaw1 + jaw2);
  s.leaf_latency = false;
  b.type = "DYNAMIC";
  b.fff = true;
  b.fluence_mode_id = "FFF";
  beams::finish_helical_beam(b, iso, energy);
  plan.beams.push_back(std::move(b));
  return plan;
}

}  // namespace sabre::io
