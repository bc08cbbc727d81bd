#include "engine/io/rtplan.hh"
#include "beams/robotic_plan.hh"
#include "beams/tomo_plan.hh"

#include "engine/io/dicom_util.hh"  // DCMTK first
#include "engine/io/plan_items.hh"
#include "engine/io/rtplan_tomo.hh"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/errors.hh"

namespace sabre::io {
using beams::Beam;
using beams::ControlPoint;
using beams::LimitingDevice;
using beams::Plan;
using beams::is_jaw_type;
using beams::is_mlc_type;

namespace {

using detail::get_str;
using detail::has;
using detail::get_doubles;
using detail::get_double;
using detail::items;

std::string fmt_ds(double v) { return dicom::ds(v); }

std::string ds_list(const double* v, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (i ? "\\" : "") + fmt_ds(v[i]);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------
Plan read_rtplan(const std::string& path) {
  const auto ff = dicom::load(path);
  DcmDataset& ds = *ff->getDataset();

  const std::string modality = get_str(ds, DCM_Modality);
  const std::string sop_class = get_str(ds, DCM_SOPClassUID);
  if (sop_class == UID_TomotherapeuticRadiationStorage) return read_tomo_standard(ds, path);
  if (sop_class == UID_RTIonPlanStorage || has(ds, DCM_IonBeamSequence))
    throw InputError(path, "an RT Ion Plan: only photon (linac) plans are supported");
  if (modality != "RTPLAN" && sop_class != UID_RTPlanStorage)
    throw InputError(path, "not an RT Plan (Modality '" + modality + "', SOP class '" + sop_class + "')");

  Plan plan;
  plan.path = path;
  plan.label = get_str(ds, DCM_RTPlanLabel);
  plan.name = get_str(ds, DCM_RTPlanName);
  plan.sop_instance_uid = get_str(ds, DCM_SOPInstanceUID);
  plan.frame_of_reference_uid = get_str(ds, DCM_FrameOfReferenceUID);
  plan.patient_id = get_str(ds, DCM_PatientID);
  plan.patient_name = get_str(ds, DCM_PatientName);
  plan.study_instance_uid = get_str(ds, DCM_StudyInstanceUID);
  for (DcmItem* it : items(ds, DCM_ReferencedStructureSetSequence)) {
    plan.structure_set_uid = get_str(*it, DCM_ReferencedSOPInstanceUID);
    break;
  }

  // Patient setups: number -> position.
  std::map<int, std::string> setups;
  for (DcmItem* it : items(ds, DCM_PatientSetupSequence)) {
    const int n = int(get_double(*it, DCM_PatientSetupNumber, path, 0));
    setups[n] = get_str(*it, DCM_PatientPosition);
  }

  // Fraction group 1: MU per beam number.
  std::map<int, double> mu_of;
  const auto fgs = items(ds, DCM_FractionGroupSequence);
  if (fgs.empty()) throw InputError(path, "no FractionGroupSequence (300A,0070): beam MU unknown");
  plan.fractions_planned = int(get_double(*fgs[0], DCM_NumberOfFractionsPlanned, path, 0));
  for (DcmItem* rb : items(*fgs[0], DCM_ReferencedBeamSequence)) {
    const int n = int(get_double(*rb, DCM_ReferencedBeamNumber, path, -1));
    if (has(*rb, DCM_BeamMeterset)) mu_of[n] = get_double(*rb, DCM_BeamMeterset, path, 0);
  }

  const auto beam_items = items(ds, DCM_BeamSequence);
  if (beam_items.empty()) throw InputError(path, "no BeamSequence (300A,00B0)");

  for (DcmItem* bi : beam_items) {
    Beam b;
    b.number = int(get_double(*bi, DCM_BeamNumber, path, 0));
    b.name = get_str(*bi, DCM_BeamName);
    const std::string where = path + ": beam " + std::to_string(b.number) + " '" + b.name + "'";
    b.delivery = get_str(*bi, DCM_TreatmentDeliveryType);
    if (b.delivery.empty()) b.delivery = "TREATMENT";
    if (b.delivery == "SETUP") {
      plan.skipped.push_back("beam " + std::to_string(b.number) + " '" + b.name + "': setup beam");
      continue;
    }
    b.radiation = get_str(*bi, DCM_RadiationType);
    if (!b.radiation.empty() && b.radiation != "PHOTON")
      throw InputError(where + ": radiation type " + b.radiation + " is not supported (PHOTON only)");
    b.machine_name = get_str(*bi, DCM_TreatmentMachineName);
    b.manufacturer_model = get_str(*bi, DCM_ManufacturerModelName);
    b.type = get_str(*bi, DCM_BeamType);
    if (b.type.empty()) b.type = "STATIC";
    b.sad_mm = get_double(*bi, DCM_SourceAxisDistance, where, 1000.0);
    if (!(b.sad_mm > 0)) throw InputError(where + ": SourceAxisDistance must be > 0");
    const std::string unit = get_str(*bi, DCM_PrimaryDosimeterUnit);
    // Accuray's tomotherapy plans state their meterset in minutes of beam-on time.
    if (!unit.empty() && unit != "MU" && !(unit == "MINUTE" && has_tomo_private_block(*bi)))
      throw InputError(where + ": PrimaryDosimeterUnit " + unit + " is not supported (MU only)");
    for (DcmItem* fm : items(*bi, DCM_PrimaryFluenceModeSequence)) {
      const std::string mode = get_str(*fm, DCM_FluenceMode);
      const std::string id = get_str(*fm, DCM_FluenceModeID);
      if (mode == "NON_STANDARD") {
        b.fluence_mode_id = id;
        b.fff = (id == "FFF");
      }
    }
    b.final_weight = get_double(*bi, DCM_FinalCumulativeMetersetWeight, where, 1.0);
    if (!(b.final_weight > 0)) throw InputError(where + ": FinalCumulativeMetersetWeight must be > 0");
    const auto mu_it = mu_of.find(b.number);
    if (mu_it == mu_of.end())
      throw InputError(where + ": no BeamMeterset in the fraction group's ReferencedBeamSequence");
    b.mu = mu_it->second;
    if (!(b.mu >= 0)) throw InputError(where + ": negative BeamMeterset");
    const int setup = int(get_double(*bi, DCM_ReferencedPatientSetupNumber, where, -1));
    if (setups.count(setup) && !setups[setup].empty()) b.patient_position = setups[setup];
    else if (setups.size() == 1 && !setups.begin()->second.empty()) b.patient_position = setups.begin()->second;
    if (b.patient_position != "HFS" && b.patient_position != "HFP" && b.patient_position != "FFS" &&
        b.patient_position != "FFP")
      throw InputError(where + ": patient position " + b.patient_position +
                       " is not supported (HFS, HFP, FFS, FFP)");
    if (has_tomo_private_block(*bi)) {  // Accuray's private sinogram (engine/io/rtplan_tomo.hh)
      read_tomo_private_beam(*bi, b, where);
      plan.beams.push_back(std::move(b));
      continue;
    }

    for (DcmItem* di : items(*bi, DCM_BeamLimitingDeviceSequence)) {
      LimitingDevice d;
      d.type = get_str(*di, DCM_RTBeamLimitingDeviceType);
      d.pairs = int(get_double(*di, DCM_NumberOfLeafJawPairs, where, 0));
      if (!is_jaw_type(d.type) && !is_mlc_type(d.type))
        throw InputError(where + ": unknown beam limiting device type '" + d.type + "'");
      if (b.device(d.type)) throw InputError(where + ": device " + d.type + " listed twice");
      if (d.pairs <= 0) throw InputError(where + ": device " + d.type + " has no NumberOfLeafJawPairs");
      if (is_jaw_type(d.type) && d.pairs != 1)
        throw InputError(where + ": jaw device " + d.type + " has " + std::to_string(d.pairs) +
                         " pairs (NumberOfLeafJawPairs must be 1)");
      if (is_mlc_type(d.type)) {
        d.boundaries_mm = get_doubles(*di, DCM_LeafPositionBoundaries, where);
        if (int(d.boundaries_mm.size()) != d.pairs + 1)
          throw InputError(where + ": " + d.type + " has " + std::to_string(d.boundaries_mm.size()) +
                           " LeafPositionBoundaries for " + std::to_string(d.pairs) +
                           " leaf pairs (needs pairs + 1)");
        for (std::size_t i = 1; i < d.boundaries_mm.size(); ++i)
          if (!(d.boundaries_mm[i] > d.boundaries_mm[i - 1]))
            throw InputError(where + ": LeafPositionBoundaries must increase");
      }
      b.devices.push_back(d);
    }
    const auto apps = items(*bi, DCM_ApplicatorSequence);
    if (apps.size() > 1)
      throw InputError(where + ": " + std::to_string(apps.size()) + " applicators (ApplicatorSequence): one at most");
    if (!apps.empty()) {
      b.has_applicator = true;
      beams::Applicator& a = b.applicator;
      a.id = get_str(*apps[0], DCM_ApplicatorID);
      a.type = get_str(*apps[0], DCM_ApplicatorType);
      a.description = get_str(*apps[0], DCM_ApplicatorDescription);
      const auto geo = items(*apps[0], DCM_ApplicatorGeometrySequence);
      if (!geo.empty()) {
        a.aperture_shape = get_str(*geo[0], DCM_ApplicatorApertureShape);
        a.opening_mm = get_double(*geo[0], DCM_ApplicatorOpening, where, 0);
        if (a.opening_mm < 0) throw InputError(where + ": negative ApplicatorOpening");
      }
    }

    const auto cps = items(*bi, DCM_ControlPointSequence);
    if (cps.empty()) throw InputError(where + ": no ControlPointSequence");
    ControlPoint cur;
    double last_weight = -1;
    for (std::size_t k = 0; k < cps.size(); ++k) {
      DcmItem& c = *cps[k];
      const std::string cw = where + ", control point " + std::to_string(k);
      ControlPoint p = cur;  // carry everything forward
      p.index = int(get_double(c, DCM_ControlPointIndex, cw, double(k)));
      if (!has(c, DCM_CumulativeMetersetWeight))
        throw InputError(cw + ": missing CumulativeMetersetWeight");
      p.cumulative_weight = get_double(c, DCM_CumulativeMetersetWeight, cw, 0);
      if (p.cumulative_weight < last_weight - 1e-9)
        throw InputError(cw + ": CumulativeMetersetWeight decreases (" + fmt_ds(last_weight) + " -> " +
                         fmt_ds(p.cumulative_weight) + ")");
      last_weight = p.cumulative_weight;
      auto take = [&](const DcmTagKey& tag, double& out, bool required_first) {
        if (has(c, tag)) out = get_double(c, tag, cw, out);
        else if (k == 0 && required_first)
          throw InputError(cw + ": the first control point lacks " + DcmTag(tag).getTagName());
      };
      take(DCM_NominalBeamEnergy, p.energy_mv, true);
      take(DCM_DoseRateSet, p.dose_rate, false);
      take(DCM_GantryAngle, p.gantry_deg, true);
      take(DCM_BeamLimitingDeviceAngle, p.collimator_deg, false);
      take(DCM_PatientSupportAngle, p.couch_deg, false);
      take(DCM_TableTopPitchAngle, p.table_pitch_deg, false);
      take(DCM_TableTopRollAngle, p.table_roll_deg, false);
      if (has(c, DCM_GantryRotationDirection)) p.gantry_direction = get_str(c, DCM_GantryRotationDirection);
      if (has(c, DCM_IsocenterPosition)) {
        const auto iso = get_doubles(c, DCM_IsocenterPosition, cw);
        if (iso.size() != 3) throw InputError(cw + ": IsocenterPosition needs 3 values");
        p.iso_mm = {iso[0], iso[1], iso[2]};
      } else if (k == 0) {
        throw InputError(cw + ": the first control point lacks IsocenterPosition");
      }
      for (DcmItem* pi : items(c, DCM_BeamLimitingDevicePositionSequence)) {
        const std::string t = get_str(*pi, DCM_RTBeamLimitingDeviceType);
        const auto pos = get_doubles(*pi, DCM_LeafJawPositions, cw);
        const LimitingDevice* dev = nullptr;
        for (const auto& d : b.devices)
          if (d.type == t) dev = &d;
        if (!dev) throw InputError(cw + ": positions for device '" + t + "' not in BeamLimitingDeviceSequence");
        if (int(pos.size()) != 2 * dev->pairs)
          throw InputError(cw + ": " + t + " has " + std::to_string(pos.size()) + " LeafJawPositions, needs " +
                           std::to_string(2 * dev->pairs));
        for (int i = 0; i < dev->pairs; ++i)
          if (pos[i] > pos[i + dev->pairs] + 1e-6)
            throw InputError(cw + ": " + t + " pair " + std::to_string(i + 1) + " overlaps (A " +
                             fmt_ds(pos[i]) + " mm > B " + fmt_ds(pos[i + dev->pairs]) + " mm)");
        p.positions_mm[t] = pos;
      }
      // A jaw pair without positions is open (as before a first value); a leaf bank must
      // be positioned from the first control point on.
      if (k == 0 && b.mlc() && !p.positions(b.mlc()->type))
        throw InputError(cw + ": the first control point lacks the " + b.mlc()->type + " positions");
      cur = p;
      b.control_points.push_back(p);
    }
    if (std::abs(b.control_points.back().cumulative_weight - b.final_weight) > 1e-6 * b.final_weight)
      throw InputError(where + ": last CumulativeMetersetWeight " +
                       fmt_ds(b.control_points.back().cumulative_weight) +
                       " differs from FinalCumulativeMetersetWeight " + fmt_ds(b.final_weight));
    if (b.control_points.size() == 1 && b.mu > 0)
      throw InputError(where + ": a single control point cannot deliver MU (needs at least 2)");
    plan.beams.push_back(std::move(b));
  }
  return plan;
}

// ---------------------------------------------------------------------------------------
void write_rtplan(const Plan& plan, const std::string& path) {
  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  auto put = [&](DcmItem& it, const DcmTagKey& tag, const std::string& v) {
    if (it.putAndInsertString(tag, v.c_str()).bad())
      throw RuntimeError(path + ": cannot set " + DcmTag(tag).getTagName());
  };
  auto new_item = [&](DcmItem& parent, const DcmTagKey& seq) -> DcmItem& {
    DcmItem* it = nullptr;
    if (parent.findOrCreateSequenceItem(seq, it, -2).bad() || !it)
      throw RuntimeError(path + ": cannot create " + DcmTag(seq).getTagName());
    return *it;
  };
  const std::string sop_uid = dicom::new_uid();
  put(ds, DCM_SOPClassUID, UID_RTPlanStorage);
  put(ds, DCM_SOPInstanceUID, sop_uid);
  put(ds, DCM_Modality, "RTPLAN");
  put(ds, DCM_Manufacturer, "sabre");
  put(ds, DCM_PatientName, plan.patient_name.empty() ? "SABRE^PHANTOM" : plan.patient_name);
  put(ds, DCM_PatientID, plan.patient_id.empty() ? "SABRE" : plan.patient_id);
  put(ds, DCM_StudyInstanceUID, plan.study_instance_uid.empty() ? dicom::new_uid() : plan.study_instance_uid);
  put(ds, DCM_SeriesInstanceUID, dicom::new_uid());
  put(ds, DCM_FrameOfReferenceUID, plan.frame_of_reference_uid.empty() ? dicom::new_uid() : plan.frame_of_reference_uid);
  put(ds, DCM_RTPlanLabel, plan.label.empty() ? "SABRE" : plan.label.substr(0, 16));
  if (!plan.name.empty()) put(ds, DCM_RTPlanName, plan.name);
  put(ds, DCM_RTPlanGeometry, plan.structure_set_uid.empty() ? "TREATMENT_DEVICE" : "PATIENT");
  if (!plan.structure_set_uid.empty()) {
    DcmItem& r = new_item(ds, DCM_ReferencedStructureSetSequence);
    put(r, DCM_ReferencedSOPClassUID, UID_RTStructureSetStorage);
    put(r, DCM_ReferencedSOPInstanceUID, plan.structure_set_uid);
  }
  put(ds, DCM_ApprovalStatus, "UNAPPROVED");

  // Patient setups: one per distinct position.
  std::vector<std::string> positions;
  for (const auto& b : plan.beams)
    if (std::find(positions.begin(), positions.end(), b.patient_position) == positions.end())
      positions.push_back(b.patient_position);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    DcmItem& s = new_item(ds, DCM_PatientSetupSequence);
    put(s, DCM_PatientPosition, positions[i]);
    put(s, DCM_PatientSetupNumber, std::to_string(i + 1));
  }

  DcmItem& fg = new_item(ds, DCM_FractionGroupSequence);
  put(fg, DCM_FractionGroupNumber, "1");
  put(fg, DCM_NumberOfFractionsPlanned, std::to_string(std::max(1, plan.fractions_planned)));
  put(fg, DCM_NumberOfBeams, std::to_string(plan.beams.size()));
  put(fg, DCM_NumberOfBrachyApplicationSetups, "0");
  for (const auto& b : plan.beams) {
    DcmItem& rb = new_item(fg, DCM_ReferencedBeamSequence);
    put(rb, DCM_BeamMeterset, fmt_ds(b.mu));
    put(rb, DCM_ReferencedBeamNumber, std::to_string(b.number));
  }

  for (const auto& b : plan.beams) {
    const std::string where = path + ": beam " + std::to_string(b.number);
    if (b.control_points.size() < 2) throw InputError(where + ": needs at least 2 control points");
    DcmItem& bi = new_item(ds, DCM_BeamSequence);
    put(bi, DCM_TreatmentMachineName, b.machine_name);
    put(bi, DCM_PrimaryDosimeterUnit, "MU");
    put(bi, DCM_SourceAxisDistance, fmt_ds(b.sad_mm));
    for (const auto& d : b.devices) {
      DcmItem& di = new_item(bi, DCM_BeamLimitingDeviceSequence);
      put(di, DCM_RTBeamLimitingDeviceType, d.type);
      put(di, DCM_NumberOfLeafJawPairs, std::to_string(d.pairs));
      if (is_mlc_type(d.type)) put(di, DCM_LeafPositionBoundaries, ds_list(d.boundaries_mm.data(), d.boundaries_mm.size()));
    }
    if (b.has_applicator) {
      DcmItem& ai = new_item(bi, DCM_ApplicatorSequence);
      put(ai, DCM_ApplicatorID, b.applicator.id);
      put(ai, DCM_ApplicatorType, b.applicator.type);
      if (!b.applicator.description.empty()) put(ai, DCM_ApplicatorDescription, b.applicator.description);
      if (!b.applicator.aperture_shape.empty()) {
        DcmItem& gi = new_item(ai, DCM_ApplicatorGeometrySequence);
        put(gi, DCM_ApplicatorApertureShape, b.applicator.aperture_shape);
        put(gi, DCM_ApplicatorOpening, fmt_ds(b.applicator.opening_mm));
      }
    }
    put(bi, DCM_BeamNumber, std::to_string(b.number));
    put(bi, DCM_BeamName, b.name);
    put(bi, DCM_BeamType, b.type);
    put(bi, DCM_RadiationType, "PHOTON");
    {
      DcmItem& fm = new_item(bi, DCM_PrimaryFluenceModeSequence);
      put(fm, DCM_FluenceMode, b.fff ? "NON_STANDARD" : "STANDARD");
      if (b.fff) put(fm, DCM_FluenceModeID, "FFF");
    }
    put(bi, DCM_TreatmentDeliveryType, b.delivery);
    put(bi, DCM_NumberOfWedges, "0");
    put(bi, DCM_NumberOfCompensators, "0");
    put(bi, DCM_NumberOfBoli, "0");
    put(bi, DCM_NumberOfBlocks, "0");
    put(bi, DCM_FinalCumulativeMetersetWeight, fmt_ds(b.final_weight));
    put(bi, DCM_NumberOfControlPoints, std::to_string(b.control_points.size()));
    const auto pos_it = std::find(positions.begin(), positions.end(), b.patient_position);
    put(bi, DCM_ReferencedPatientSetupNumber, std::to_string(pos_it - positions.begin() + 1));
    const ControlPoint* prev = nullptr;
    for (std::size_t k = 0; k < b.control_points.size(); ++k) {
      const ControlPoint& p = b.control_points[k];
      DcmItem& c = new_item(bi, DCM_ControlPointSequence);
      put(c, DCM_ControlPointIndex, std::to_string(k));
      auto changed = [&](double a, double bb) { return !prev || a != bb; };
      if (changed(p.energy_mv, prev ? prev->energy_mv : 0)) put(c, DCM_NominalBeamEnergy, fmt_ds(p.energy_mv));
      if (p.dose_rate > 0 && changed(p.dose_rate, prev ? prev->dose_rate : 0))
        put(c, DCM_DoseRateSet, fmt_ds(p.dose_rate));
      // Positions: only devices that changed (all in the first control point).
      for (const auto& d : b.devices) {
        static const std::vector<double> none;
        const std::vector<double>& v = p.positions(d.type) ? *p.positions(d.type) : none;
        const std::vector<double>& pv = prev && prev->positions(d.type) ? *prev->positions(d.type) : none;
        if (int(v.size()) != 2 * d.pairs)
          throw InputError(where + ", control point " + std::to_string(k) + ": " + d.type + " needs " +
                           std::to_string(2 * d.pairs) + " positions");
        if (prev && v == pv) continue;
        DcmItem& pi = new_item(c, DCM_BeamLimitingDevicePositionSequence);
        put(pi, DCM_RTBeamLimitingDeviceType, d.type);
        put(pi, DCM_LeafJawPositions, ds_list(v.data(), v.size()));
      }
      if (changed(p.gantry_deg, prev ? prev->gantry_deg : 0)) put(c, DCM_GantryAngle, fmt_ds(p.gantry_deg));
      if (!prev || p.gantry_direction != prev->gantry_direction) put(c, DCM_GantryRotationDirection, p.gantry_direction);
      if (changed(p.collimator_deg, prev ? prev->collimator_deg : 0)) {
        put(c, DCM_BeamLimitingDeviceAngle, fmt_ds(p.collimator_deg));
        put(c, DCM_BeamLimitingDeviceRotationDirection, "NONE");
      }
      if (changed(p.couch_deg, prev ? prev->couch_deg : 0)) {
        put(c, DCM_PatientSupportAngle, fmt_ds(p.couch_deg));
        put(c, DCM_PatientSupportRotationDirection, "NONE");
      }
      if (changed(p.table_pitch_deg, prev ? prev->table_pitch_deg : 0)) {
        put(c, DCM_TableTopPitchAngle, fmt_ds(p.table_pitch_deg));
        put(c, DCM_TableTopPitchRotationDirection, "NONE");
      }
      if (changed(p.table_roll_deg, prev ? prev->table_roll_deg : 0)) {
        put(c, DCM_TableTopRollAngle, fmt_ds(p.table_roll_deg));
        put(c, DCM_TableTopRollRotationDirection, "NONE");
      }
      if (!prev || p.iso_mm != prev->iso_mm) put(c, DCM_IsocenterPosition, ds_list(p.iso_mm.data(), 3));
      put(c, DCM_CumulativeMetersetWeight, fmt_ds(p.cumulative_weight));
      prev = &p;
    }
  }

  dicom::save(ff, path);
}

beams::Plan read_plan(const std::string& path) {
  if (!beams::is_robotic_plan_path(path)) return read_rtplan(path);
  return beams::is_tomo_plan_file(path) ? beams::read_tomo_plan(path) : beams::read_robotic_plan(path);
}

}  // namespace sabre::io
