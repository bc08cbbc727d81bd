#include "engine/io/rtstruct.hh"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/io/dicom_util.hh"

namespace sabre::io {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const Roi* StructureSet::find(const std::string& name) const {
  for (const auto& r : rois)
    if (r.name == name) return &r;
  for (const auto& r : rois)
    if (upper(r.name) == upper(name)) return &r;
  return nullptr;
}

const Roi* StructureSet::body() const {
  for (const auto& r : rois)
    if (upper(r.interpreted_type) == "EXTERNAL") return &r;
  for (const char* n : {"BODY", "EXTERNAL", "OUTLINE", "SKIN"})
    if (const Roi* r = find(n)) return r;
  return nullptr;
}

StructureSet read_rtstruct(const std::string& path) {
  auto ff = dicom::load(path);
  DcmDataset& ds = *ff->getDataset();
  const std::string modality = dicom::str(ds, DCM_Modality);
  if (modality != "RTSTRUCT")
    throw InputError(path, "modality is '" + modality + "', not RTSTRUCT (RT Structure Set)");
  StructureSet rs;
  rs.label = dicom::str(ds, DCM_StructureSetLabel);
  rs.sop_instance_uid = dicom::str(ds, DCM_SOPInstanceUID);
  DcmItem* fr = nullptr;
  if (ds.findAndGetSequenceItem(DCM_ReferencedFrameOfReferenceSequence, fr, 0).good() && fr)
    rs.frame_of_reference_uid = dicom::str(*fr, DCM_FrameOfReferenceUID);

  std::map<int, std::size_t> by_number;
  DcmSequenceOfItems* seq = nullptr;
  if (ds.findAndGetSequence(DCM_StructureSetROISequence, seq).bad() || !seq)
    throw InputError(path, "no StructureSetROISequence (3006,0020)");
  const auto roi_items = dicom::sequence_items(*seq);
  for (unsigned long i = 0; i < roi_items.size(); ++i) {
    DcmItem* it = roi_items[i];
    Roi roi;
    Sint32 n = 0;
    if (it->findAndGetSint32(DCM_ROINumber, n).bad())
      throw InputError(path, "StructureSetROISequence item " + std::to_string(i + 1) + " has no ROINumber");
    roi.number = n;
    roi.name = dicom::str(*it, DCM_ROIName);
    by_number[n] = rs.rois.size();
    rs.rois.push_back(roi);
  }
  if (ds.findAndGetSequence(DCM_RTROIObservationsSequence, seq).good() && seq) {
    for (DcmItem* it : dicom::sequence_items(*seq)) {
      Sint32 n = 0;
      if (it->findAndGetSint32(DCM_ReferencedROINumber, n).good() && by_number.count(n))
        rs.rois[by_number[n]].interpreted_type = dicom::str(*it, DCM_RTROIInterpretedType);
    }
  }
  if (ds.findAndGetSequence(DCM_ROIContourSequence, seq).good() && seq) {
    const auto contour_items = dicom::sequence_items(*seq);
    for (unsigned long i = 0; i < contour_items.size(); ++i) {
      DcmItem* it = contour_items[i];
      Sint32 n = 0;
      if (it->findAndGetSint32(DCM_ReferencedROINumber, n).bad() || !by_number.count(n))
        throw InputError(path, "ROIContourSequence item " + std::to_string(i + 1) +
                                   " references no known ROINumber");
      Roi& roi = rs.rois[by_number[n]];
      const auto col = dicom::doubles(*it, DCM_ROIDisplayColor);
      if (col.size() == 3) roi.colour = {int(col[0]), int(col[1]), int(col[2])};
      DcmSequenceOfItems* cs = nullptr;
      if (it->findAndGetSequence(DCM_ContourSequence, cs).bad() || !cs) continue;
      const auto contours = dicom::sequence_items(*cs);
      for (unsigned long c = 0; c < contours.size(); ++c) {
        DcmItem* ci = contours[c];
        Contour con;
        con.geometric_type = dicom::str(*ci, DCM_ContourGeometricType);
        const auto data = dicom::finite_doubles(*ci, DCM_ContourData, path);
        Sint32 npts = 0;
        ci->findAndGetSint32(DCM_NumberOfContourPoints, npts);
        if (data.size() % 3 != 0 || (npts > 0 && data.size() != std::size_t(npts) * 3))
          throw InputError(path, "ROI '" + roi.name + "' contour " + std::to_string(c + 1) +
                                     ": ContourData has " + std::to_string(data.size()) +
                                     " values for " + std::to_string(npts) + " points");
        for (std::size_t p = 0; p + 2 < data.size(); p += 3)
          con.points_mm.push_back({data[p], data[p + 1], data[p + 2]});
        roi.contours.push_back(std::move(con));
      }
    }
  }
  return rs;
}

void write_rtstruct(const std::string& path, const StructureSet& rs, const CtImage& ct,
                    const std::string& uid_seed) {
  auto uid = [&](const std::string& role) {
    return uid_seed.empty() ? dicom::new_uid() : dicom::uid_from(uid_seed + "/" + role);
  };
  const auto& ids = ct.ids;
  DcmFileFormat ff;
  DcmDataset* d = ff.getDataset();
  auto put = [](DcmItem* it, const DcmTagKey& t, const std::string& v) {
    it->putAndInsertString(t, v.c_str());
  };
  put(d, DCM_SpecificCharacterSet, "ISO_IR 100");
  put(d, DCM_SOPClassUID, UID_RTStructureSetStorage);
  put(d, DCM_SOPInstanceUID, uid("rtstruct"));
  put(d, DCM_StudyDate, ids.study_date);
  put(d, DCM_StudyTime, ids.study_time);
  put(d, DCM_AccessionNumber, ids.accession_number);
  put(d, DCM_Modality, "RTSTRUCT");
  put(d, DCM_Manufacturer, "sabre");
  put(d, DCM_ReferringPhysicianName, ids.referring_physician);
  put(d, DCM_SeriesDescription, "sabre phantom structures");
  put(d, DCM_OperatorsName, "");
  put(d, DCM_ManufacturerModelName, "sabre phantom generator");
  put(d, DCM_SoftwareVersions, build::version());
  put(d, DCM_PatientName, ids.patient_name);
  put(d, DCM_PatientID, ids.patient_id);
  put(d, DCM_PatientBirthDate, ids.patient_birth_date);
  put(d, DCM_PatientSex, ids.patient_sex.empty() ? "O" : ids.patient_sex);
  put(d, DCM_StudyInstanceUID, ids.study_instance_uid);
  put(d, DCM_SeriesInstanceUID, uid("rtstruct-series"));
  put(d, DCM_StudyID, ids.study_id);
  put(d, DCM_SeriesNumber, "2");
  put(d, DCM_InstanceNumber, "1");
  put(d, DCM_FrameOfReferenceUID, ids.frame_of_reference_uid);
  put(d, DCM_PositionReferenceIndicator, "");
  put(d, DCM_StructureSetLabel, rs.label.empty() ? "PHANTOM" : rs.label);
  put(d, DCM_StructureSetDate, ids.study_date);
  put(d, DCM_StructureSetTime, ids.study_time);

  // Referenced frame of reference -> study -> series -> the CT slices.
  DcmItem* fr = nullptr;
  d->findOrCreateSequenceItem(DCM_ReferencedFrameOfReferenceSequence, fr, 0);
  put(fr, DCM_FrameOfReferenceUID, ids.frame_of_reference_uid);
  DcmItem* st = nullptr;
  fr->findOrCreateSequenceItem(DCM_RTReferencedStudySequence, st, 0);
  // Detached Study Management (retired), the class the RT Referenced Study Sequence names.
  put(st, DCM_ReferencedSOPClassUID, "1.2.840.10008.3.1.2.3.1");
  put(st, DCM_ReferencedSOPInstanceUID, ids.study_instance_uid);
  DcmItem* se = nullptr;
  st->findOrCreateSequenceItem(DCM_RTReferencedSeriesSequence, se, 0);
  put(se, DCM_SeriesInstanceUID, ct.series_instance_uid);
  for (std::size_t s = 0; s < ct.sop_instance_uids.size(); ++s) {
    DcmItem* im = nullptr;
    se->findOrCreateSequenceItem(DCM_ContourImageSequence, im, long(s));
    put(im, DCM_ReferencedSOPClassUID, UID_CTImageStorage);
    put(im, DCM_ReferencedSOPInstanceUID, ct.sop_instance_uids[s]);
  }

  for (std::size_t r = 0; r < rs.rois.size(); ++r) {
    const Roi& roi = rs.rois[r];
    DcmItem* it = nullptr;
    d->findOrCreateSequenceItem(DCM_StructureSetROISequence, it, long(r));
    put(it, DCM_ROINumber, std::to_string(roi.number));
    put(it, DCM_ReferencedFrameOfReferenceUID, ids.frame_of_reference_uid);
    put(it, DCM_ROIName, roi.name);
    put(it, DCM_ROIGenerationAlgorithm, "AUTOMATIC");

    DcmItem* rc = nullptr;
    d->findOrCreateSequenceItem(DCM_ROIContourSequence, rc, long(r));
    put(rc, DCM_ROIDisplayColor, std::to_string(roi.colour[0]) + "\\" +
                                     std::to_string(roi.colour[1]) + "\\" +
                                     std::to_string(roi.colour[2]));
    put(rc, DCM_ReferencedROINumber, std::to_string(roi.number));
    for (std::size_t c = 0; c < roi.contours.size(); ++c) {
      const Contour& con = roi.contours[c];
      DcmItem* ci = nullptr;
      rc->findOrCreateSequenceItem(DCM_ContourSequence, ci, long(c));
      // The CT slice this contour lies on, when there is one at its z.
      if (!con.points_mm.empty() && !ct.sop_instance_uids.empty()) {
        const double z_mm = con.points_mm[0][2];
        const auto& g = ct.grid;
        const int k = int(std::floor((z_mm / 10 - g.origin_cm.z) / g.spacing_cm.z));
        if (k >= 0 && k < g.nz) {
          const int s = ct.orientation.z() > 0 ? k : g.nz - 1 - k;
          DcmItem* im = nullptr;
          ci->findOrCreateSequenceItem(DCM_ContourImageSequence, im, 0);
          put(im, DCM_ReferencedSOPClassUID, UID_CTImageStorage);
          put(im, DCM_ReferencedSOPInstanceUID, ct.sop_instance_uids[s]);
        }
      }
      put(ci, DCM_ContourGeometricType, con.geometric_type);
      put(ci, DCM_NumberOfContourPoints, std::to_string(con.points_mm.size()));
      std::string data;
      for (const auto& p : con.points_mm)
        for (double v : p) data += (data.empty() ? "" : "\\") + dicom::ds(v);
      put(ci, DCM_ContourData, data);
    }
    DcmItem* ob = nullptr;
    d->findOrCreateSequenceItem(DCM_RTROIObservationsSequence, ob, long(r));
    put(ob, DCM_ObservationNumber, std::to_string(roi.number));
    put(ob, DCM_ReferencedROINumber, std::to_string(roi.number));
    put(ob, DCM_RTROIInterpretedType, roi.interpreted_type);
    put(ob, DCM_ROIInterpreter, "");
  }
  dicom::save(ff, path);
}

RoiPlanes::RoiPlanes(const Roi& roi, const std::string& source, double single_plane_half_mm)
    : single_half_(single_plane_half_mm) {
  // Closed planar contours grouped by plane z [mm] (rounded to 1 um).
  std::map<long, std::vector<const Contour*>> planes;
  for (const auto& c : roi.contours) {
    if (c.geometric_type != "CLOSED_PLANAR" || c.points_mm.size() < 3) continue;
    const double z = c.points_mm[0][2];
    for (const auto& p : c.points_mm)
      if (std::abs(p[2] - z) > 1e-3)
        throw InputError(source, "ROI '" + roi.name +
                                     "' has a contour that is not axial (z varies); only axial "
                                     "contours are supported");
    planes[std::lround(z * 1000)].push_back(&c);
  }
  for (auto& [key, v] : planes) {
    zs_.push_back(key / 1000.0);
    contours_.push_back(std::move(v));
  }
}

double RoiPlanes::half_below(std::size_t k) const {
  if (zs_.size() == 1) return single_half_;
  return 0.5 * (k > 0 ? zs_[k] - zs_[k - 1] : zs_[k + 1] - zs_[k]);
}

double RoiPlanes::half_above(std::size_t k) const {
  if (zs_.size() == 1) return single_half_;
  return 0.5 * (k + 1 < zs_.size() ? zs_[k + 1] - zs_[k] : zs_[k] - zs_[k - 1]);
}

const std::vector<const Contour*>* RoiPlanes::at(double z) const {
  if (zs_.empty()) return nullptr;
  const auto it = std::lower_bound(zs_.begin(), zs_.end(), z);
  std::size_t best = it == zs_.end() ? zs_.size() - 1 : std::size_t(it - zs_.begin());
  if (best > 0 && std::abs(zs_[best - 1] - z) <= std::abs(zs_[best] - z)) --best;
  const double half = z < zs_[best] ? half_below(best) : half_above(best);
  if (std::abs(zs_[best] - z) > half + 1e-6) return nullptr;
  return &contours_[best];
}

std::vector<double> RoiPlanes::crossings(const std::vector<const Contour*>& contours, double yc) {
  std::vector<double> xs;
  for (const Contour* c : contours) {
    const auto& p = c->points_mm;
    for (std::size_t a = 0, b = p.size() - 1; a < p.size(); b = a++) {
      const double ya = p[a][1], yb = p[b][1];
      if ((ya > yc) != (yb > yc)) xs.push_back(p[a][0] + (yc - ya) * (p[b][0] - p[a][0]) / (yb - ya));
    }
  }
  std::sort(xs.begin(), xs.end());
  return xs;
}

std::vector<double> RoiPlanes::edges_mm() const {
  std::vector<double> e;
  for (std::size_t k = 0; k < zs_.size(); ++k) {
    e.push_back(zs_[k] - half_below(k));
    e.push_back(zs_[k] + half_above(k));
  }
  std::sort(e.begin(), e.end());
  e.erase(std::unique(e.begin(), e.end(), [](double a, double b) { return std::abs(a - b) < 1e-6; }), e.end());
  return e;
}

double RoiPlanes::volume_mm3() const {
  double v = 0;
  for (std::size_t k = 0; k < zs_.size(); ++k) {
    // Even-odd area: the signed areas' magnitudes, added for outer contours and taken
    // away for holes, found by the nesting depth of each contour's first vertex.
    double area = 0;
    for (const Contour* c : contours_[k]) {
      const auto& p = c->points_mm;
      double a = 0;
      for (std::size_t i = 0, j = p.size() - 1; i < p.size(); j = i++) a += p[j][0] * p[i][1] - p[i][0] * p[j][1];
      a = std::abs(0.5 * a);
      int depth = 0;
      for (const Contour* o : contours_[k]) {
        if (o == c) continue;
        const auto xs = crossings({o}, p[0][1]);
        for (double x : xs)
          if (x < p[0][0]) ++depth;
      }
      area += (depth % 2 == 0) ? a : -a;
    }
    v += area * (half_below(k) + half_above(k));
  }
  return v;
}

std::vector<std::uint8_t> rasterise(const Roi& roi, const phys::GridGeometry& g,
                                    const std::string& source) {
  std::vector<std::uint8_t> mask(g.size(), 0);
  const RoiPlanes planes(roi, source, 5 * g.spacing_cm.z);
  if (planes.empty()) return mask;
  for (int k = 0; k < g.nz; ++k) {
    const double zc_mm = 10 * (g.origin_cm.z + (k + 0.5) * g.spacing_cm.z);
    const auto* contours = planes.at(zc_mm);
    if (!contours) continue;
    for (int j = 0; j < g.ny; ++j) {
      const double yc = 10 * (g.origin_cm.y + (j + 0.5) * g.spacing_cm.y);
      // Even-odd crossings of this row with every contour edge: x of each crossing.
      const std::vector<double> xs = RoiPlanes::crossings(*contours, yc);
      for (std::size_t q = 0; q + 1 < xs.size(); q += 2) {
        // Voxel centres x_i = 10*(ox + (i+0.5)*dx) inside [xs[q], xs[q+1]).
        const double ox = 10 * g.origin_cm.x, dx = 10 * g.spacing_cm.x;
        const int i0 = std::max(0, int(std::ceil((xs[q] - ox) / dx - 0.5)));
        const int i1 = std::min(g.nx - 1, int(std::ceil((xs[q + 1] - ox) / dx - 0.5)) - 1);
        for (int i = i0; i <= i1; ++i) mask[g.index(i, j, k)] ^= 1;
      }
    }
  }
  return mask;
}

}  // namespace sabre::io
