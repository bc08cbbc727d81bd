#include "engine/io/rtdose.hh"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/io/dicom_util.hh"

namespace sabre::io {
namespace {

std::string join_ds(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : "\\") + dicom::ds(x);
  return s;
}

void now_date_time(std::string& date, std::string& time) {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char d[16], h[16];
  std::strftime(d, sizeof d, "%Y%m%d", &tm);
  std::strftime(h, sizeof h, "%H%M%S", &tm);
  date = d;
  time = h;
}

}  // namespace

void write_rtdose(const std::string& path, const DoseResult& r, const RtDoseOptions& opt) {
  const auto& g = r.grid;
  SABRE_EXPECT(g.size() > 0 && static_cast<std::int64_t>(r.dose_gy.size()) == g.size(),
               "dose array does not match its grid");
  if (opt.summation_type != "PLAN" && opt.summation_type != "BEAM")
    throw UsageError("RT Dose summation type '" + opt.summation_type + "' is not PLAN or BEAM");
  if (opt.summation_type == "BEAM" && (opt.plan_sop_instance_uid.empty() || opt.beam_number <= 0))
    throw UsageError("RT Dose summation type BEAM needs the plan and the beam number");
  if (opt.ids.frame_of_reference_uid.empty())
    throw InputError(path, "cannot write RT Dose: no FrameOfReferenceUID (the CT's is needed)");
  if (g.nx > 65535 || g.ny > 65535) throw UsageError("RT Dose grid too wide for DICOM rows/columns");

  const auto ori = opt.orientation;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  if (opt.bits_allocated != 16 && opt.bits_allocated != 32)
    throw UsageError("RT Dose pixels must be 16 or 32 bits, not " + std::to_string(opt.bits_allocated));
  const bool wide = opt.bits_allocated == 32;
  // Scaling: the largest dose maps to 65000 or 4e9, below the type's maximum whatever the
  // DS rounding of the scaling does.
  const double top = wide ? 4.0e9 : 65000.0, type_max = wide ? 4294967295.0 : 65535.0;
  double dmax = 0;
  for (double d : r.dose_gy) dmax = std::max(dmax, std::isfinite(d) ? d : 0.0);
  std::string scaling_ds = dicom::ds(dmax > 0 ? dmax / top : 1.0);
  const double scaling = std::stod(scaling_ds);
  std::vector<Uint32> px(static_cast<std::size_t>(g.size()));
  std::size_t p = 0;
  for (int f = 0; f < nz; ++f) {
    const int k = ori.z() > 0 ? f : nz - 1 - f;
    for (int row = 0; row < ny; ++row) {
      const int j = ori.y > 0 ? row : ny - 1 - row;
      for (int col = 0; col < nx; ++col) {
        const int i = ori.x > 0 ? col : nx - 1 - col;
        const double d = r.dose_gy[g.index(i, j, k)];
        px[p++] = (std::isfinite(d) && d > 0) ? Uint32(std::min(type_max, std::round(d / scaling))) : 0;
      }
    }
  }
  const auto first = g.voxel_centre(ori.x > 0 ? 0 : nx - 1, ori.y > 0 ? 0 : ny - 1, ori.z() > 0 ? 0 : nz - 1);
  std::vector<double> offsets(nz);
  for (int f = 0; f < nz; ++f) offsets[f] = f * g.spacing_cm.z * 10;
  std::string date, time;
  now_date_time(date, time);

  const auto& ids = opt.ids;
  DcmFileFormat ff;
  DcmDataset* d = ff.getDataset();
  auto put = [](DcmItem* it, const DcmTagKey& t, const std::string& v) {
    it->putAndInsertString(t, v.c_str());
  };
  const std::string study_uid = ids.study_instance_uid.empty() ? dicom::new_uid() : ids.study_instance_uid;
  put(d, DCM_SpecificCharacterSet, "ISO_IR 100");
  put(d, DCM_InstanceCreationDate, date);
  put(d, DCM_InstanceCreationTime, time);
  put(d, DCM_SOPClassUID, kRtDoseStorageUid);
  put(d, DCM_SOPInstanceUID, dicom::new_uid());
  put(d, DCM_StudyDate, ids.study_date);
  put(d, DCM_StudyTime, ids.study_time);
  put(d, DCM_ContentDate, date);
  put(d, DCM_ContentTime, time);
  put(d, DCM_AccessionNumber, ids.accession_number);
  put(d, DCM_Modality, "RTDOSE");
  put(d, DCM_Manufacturer, "sabre");
  put(d, DCM_ReferringPhysicianName, ids.referring_physician);
  put(d, DCM_SeriesDescription, opt.series_description);
  put(d, DCM_OperatorsName, "");
  put(d, DCM_ManufacturerModelName, "sabre Monte Carlo dose engine");
  put(d, DCM_PatientName, ids.patient_name);
  put(d, DCM_PatientID, ids.patient_id);
  put(d, DCM_PatientBirthDate, ids.patient_birth_date);
  put(d, DCM_PatientSex, ids.patient_sex);
  put(d, DCM_SliceThickness, dicom::ds(g.spacing_cm.z * 10));
  put(d, DCM_SoftwareVersions, std::string(build::version()) + " " + build::git_commit());
  put(d, DCM_StudyInstanceUID, study_uid);
  put(d, DCM_SeriesInstanceUID, dicom::new_uid());
  put(d, DCM_StudyID, ids.study_id);
  put(d, DCM_SeriesNumber, "1");
  put(d, DCM_InstanceNumber, "1");
  put(d, DCM_ImagePositionPatient, join_ds({first.x * 10, first.y * 10, first.z * 10}));
  const auto c = ori.cosines();
  put(d, DCM_ImageOrientationPatient, join_ds(std::vector<double>(c.begin(), c.end())));
  put(d, DCM_FrameOfReferenceUID, ids.frame_of_reference_uid);
  put(d, DCM_PositionReferenceIndicator, "");
  d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  put(d, DCM_PhotometricInterpretation, "MONOCHROME2");
  put(d, DCM_NumberOfFrames, std::to_string(nz));
  d->putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_GridFrameOffsetVector);
  d->putAndInsertUint16(DCM_Rows, Uint16(ny));
  d->putAndInsertUint16(DCM_Columns, Uint16(nx));
  put(d, DCM_PixelSpacing, dicom::ds(g.spacing_cm.y * 10) + "\\" + dicom::ds(g.spacing_cm.x * 10));
  d->putAndInsertUint16(DCM_BitsAllocated, Uint16(opt.bits_allocated));
  d->putAndInsertUint16(DCM_BitsStored, Uint16(opt.bits_allocated));
  d->putAndInsertUint16(DCM_HighBit, Uint16(opt.bits_allocated - 1));
  d->putAndInsertUint16(DCM_PixelRepresentation, 0);
  const bool gy = r.dose_unit == "Gy";
  put(d, DCM_DoseUnits, gy ? "GY" : "RELATIVE");
  put(d, DCM_DoseType, "PHYSICAL");
  std::string comment = std::string(r.quantity()) +
                        ", Monte Carlo (sabre)";
  if (!gy) comment += ", values in " + r.dose_unit;
  put(d, DCM_DoseComment, comment.substr(0, 64));
  put(d, DCM_DoseSummationType, opt.summation_type);
  put(d, DCM_GridFrameOffsetVector, join_ds(offsets));
  put(d, DCM_DoseGridScaling, scaling_ds);
  put(d, DCM_TissueHeterogeneityCorrection, "IMAGE");
  if (!opt.plan_sop_instance_uid.empty()) {
    DcmItem* pl = nullptr;
    d->findOrCreateSequenceItem(DCM_ReferencedRTPlanSequence, pl, 0);
    put(pl, DCM_ReferencedSOPClassUID, kRtPlanStorageUid);
    put(pl, DCM_ReferencedSOPInstanceUID, opt.plan_sop_instance_uid);
    if (opt.summation_type == "BEAM") {
      DcmItem* fg = nullptr;
      pl->findOrCreateSequenceItem(DCM_ReferencedFractionGroupSequence, fg, 0);
      put(fg, DCM_ReferencedFractionGroupNumber, "1");
      DcmItem* bm = nullptr;
      fg->findOrCreateSequenceItem(DCM_ReferencedBeamSequence, bm, 0);
      put(bm, DCM_ReferencedBeamNumber, std::to_string(opt.beam_number));
    }
  }
  if (wide) {
    // 32-bit pixels as OW: pairs of 16-bit words, little-endian (the host order on x86/ARM).
    d->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(px.data()), px.size() * 2);
  } else {
    std::vector<Uint16> px16(px.begin(), px.end());
    d->putAndInsertUint16Array(DCM_PixelData, px16.data(), px16.size());
  }
  dicom::save(ff, path);
}

RtDose read_rtdose(const std::string& path) {
  auto ff = dicom::load(path);
  DcmDataset& ds = *ff->getDataset();
  const std::string modality = dicom::str(ds, DCM_Modality);
  if (modality != "RTDOSE") throw InputError(path, "modality is '" + modality + "', not RTDOSE");
  RtDose out;
  out.frame_of_reference_uid = dicom::str(ds, DCM_FrameOfReferenceUID);
  out.dose_type = dicom::str(ds, DCM_DoseType);
  out.summation_type = dicom::str(ds, DCM_DoseSummationType);
  out.comment = dicom::str(ds, DCM_DoseComment);
  DcmItem* pl = nullptr;
  if (ds.findAndGetSequenceItem(DCM_ReferencedRTPlanSequence, pl, 0).good() && pl)
    out.plan_sop_instance_uid = dicom::str(*pl, DCM_ReferencedSOPInstanceUID);
  const auto iop = dicom::require_doubles(ds, DCM_ImageOrientationPatient, 6, path);
  auto sgn = [](double v) { return std::abs(v - 1) < 1e-4 ? 1 : std::abs(v + 1) < 1e-4 ? -1 : 0; };
  const int sx = sgn(iop[0]), sy = sgn(iop[4]);
  if (sx == 0 || sy == 0 || std::abs(iop[1]) > 1e-4 || std::abs(iop[2]) > 1e-4 ||
      std::abs(iop[3]) > 1e-4 || std::abs(iop[5]) > 1e-4)
    throw InputError(path, "ImageOrientationPatient is not axial: only axial RT Dose grids are supported");
  out.orientation = {sx, sy};
  const auto ipp = dicom::require_doubles(ds, DCM_ImagePositionPatient, 3, path);
  const auto ps = dicom::require_doubles(ds, DCM_PixelSpacing, 2, path);
  Uint16 rows = 0, cols = 0, bits = 0, pixrep = 0;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, cols);
  ds.findAndGetUint16(DCM_BitsAllocated, bits);
  ds.findAndGetUint16(DCM_PixelRepresentation, pixrep);
  Sint32 frames = 1;
  ds.findAndGetSint32(DCM_NumberOfFrames, frames);
  if (rows == 0 || cols == 0 || frames < 1) throw InputError(path, "missing Rows/Columns/NumberOfFrames");
  if (bits != 16 && bits != 32)
    throw InputError(path, "BitsAllocated " + std::to_string(bits) + " (RT Dose needs 16 or 32)");
  auto offsets = dicom::finite_doubles(ds, DCM_GridFrameOffsetVector, path);
  if (frames == 1 && offsets.empty()) offsets = {0};
  if (int(offsets.size()) != frames)
    throw InputError(path, "GridFrameOffsetVector has " + std::to_string(offsets.size()) +
                               " values for " + std::to_string(frames) + " frames");
  const auto sc = dicom::finite_doubles(ds, DCM_DoseGridScaling, path);
  const double scaling = sc.empty() ? 1.0 : sc[0];
  const std::string units = dicom::str(ds, DCM_DoseUnits);

  // Frame positions along z (normal = (0, 0, sx*sy)); relative offsets unless the first
  // offset is non-zero, in which case they are absolute along the normal (PS3.3 C.8.8.3.2).
  const double nz_sign = sx * sy;
  std::vector<double> z(frames);
  for (int f = 0; f < frames; ++f)
    z[f] = offsets[0] == 0 ? ipp[2] + nz_sign * offsets[f] : nz_sign * offsets[f];
  double dz = 0;
  if (frames > 1) {
    dz = std::abs(z[1] - z[0]);
    for (int f = 1; f < frames; ++f)
      if (std::abs(std::abs(z[f] - z[f - 1]) - dz) > 1e-3 || dz < 1e-6 ||
          (z[f] - z[f - 1]) * (z[1] - z[0]) < 0)
        throw InputError(path, "GridFrameOffsetVector is not evenly spaced: only uniform dose grids are supported");
  } else {
    const auto th = dicom::finite_doubles(ds, DCM_SliceThickness, path);
    dz = th.empty() || !(th[0] > 0) ? 1.0 : th[0];
  }
  const bool frames_up = frames == 1 || z[1] > z[0];

  const E_TransferSyntax xfer = ds.getOriginalXfer();
  if (DcmXfer(xfer).isEncapsulated()) {
    dicom::register_codecs();
    if (ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad())
      throw InputError(path, std::string("cannot decode transfer syntax ") + DcmXfer(xfer).getXferName());
  }
  const std::size_t n = std::size_t(rows) * cols * frames;
  const Uint16* w = nullptr;
  unsigned long words = 0;
  if (ds.findAndGetUint16Array(DCM_PixelData, w, &words).bad() || !w) throw InputError(path, "no pixel data");
  if (words * 16 < n * bits)
    throw InputError(path, "truncated: pixel data has " + std::to_string(words * 2) + " of " +
                               std::to_string(n * bits / 8) + " bytes");

  auto& r = out.dose;
  auto& g = r.grid;
  g.nx = cols;
  g.ny = rows;
  g.nz = frames;
  g.spacing_cm = {ps[1] / 10, ps[0] / 10, dz / 10};
  const double cx = sx > 0 ? ipp[0] : ipp[0] - (cols - 1) * ps[1];
  const double cy = sy > 0 ? ipp[1] : ipp[1] - (rows - 1) * ps[0];
  const double cz = *std::min_element(z.begin(), z.end());
  g.origin_cm = {(cx - ps[1] / 2) / 10, (cy - ps[0] / 2) / 10, (cz - dz / 2) / 10};
  r.dose_gy.assign(g.size(), 0);
  r.rel_uncertainty.assign(g.size(), 0);
  r.dose_unit = units == "GY" ? "Gy" : "relative";
  r.dose_to_water = out.comment.find("dose to water") != std::string::npos;
  r.provenance["frame_of_reference_uid"] = out.frame_of_reference_uid;
  r.provenance["dose_summation_type"] = out.summation_type;
  // DCMTK hands OW pixel data over as 16-bit words in host order; a 32-bit value is two
  // words, low word first for little-endian files, high word first for big-endian ones.
  const bool big_endian = DcmXfer(xfer).getByteOrder() == EBO_BigEndian;
  auto u32 = [&](std::size_t q) {
    const Uint32 a = w[2 * q], b = w[2 * q + 1];
    return big_endian ? (a << 16) | b : (b << 16) | a;
  };
  std::size_t p = 0;
  for (int f = 0; f < frames; ++f) {
    const int k = frames_up ? f : frames - 1 - f;
    for (int row = 0; row < rows; ++row) {
      const int j = sy > 0 ? row : rows - 1 - row;
      for (int col = 0; col < cols; ++col, ++p) {
        const int i = sx > 0 ? col : cols - 1 - col;
        double v;
        if (bits == 32)
          v = pixrep == 1 ? double(Sint32(u32(p))) : double(u32(p));
        else
          v = pixrep == 1 ? double(Sint16(w[p])) : double(w[p]);
        r.dose_gy[g.index(i, j, k)] = v * scaling;
      }
    }
  }
  return out;
}

RtPlanReference read_rtplan_reference(const std::string& path) {
  auto ff = dicom::load(path);
  DcmDataset& ds = *ff->getDataset();
  const std::string modality = dicom::str(ds, DCM_Modality);
  if (modality != "RTPLAN") throw InputError(path, "modality is '" + modality + "', not RTPLAN");
  RtPlanReference ref;
  ref.sop_instance_uid = dicom::require_str(ds, DCM_SOPInstanceUID, path);
  ref.frame_of_reference_uid = dicom::str(ds, DCM_FrameOfReferenceUID);
  ref.label = dicom::str(ds, DCM_RTPlanLabel);
  return ref;
}

}  // namespace sabre::io
