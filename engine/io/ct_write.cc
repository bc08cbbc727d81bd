#include "engine/io/ct_write.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/io/dicom_util.hh"

namespace sabre::io {

void write_ct_series(const std::string& dir, CtImage& img, const CtWriteOptions& opt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) throw RuntimeError(dir + ": cannot create the output directory");
  const auto& g = img.grid;
  SABRE_EXPECT(static_cast<std::int64_t>(img.hu.size()) == g.size(), "CT HU array does not match grid");
  auto uid = [&](const std::string& role) {
    return opt.uid_seed.empty() ? dicom::new_uid() : dicom::uid_from(opt.uid_seed + "/" + role);
  };
  auto& ids = img.ids;
  if (ids.study_instance_uid.empty()) ids.study_instance_uid = uid("study");
  if (ids.frame_of_reference_uid.empty()) ids.frame_of_reference_uid = uid("frame");
  if (img.series_instance_uid.empty()) img.series_instance_uid = uid("ct-series");
  if (ids.patient_name.empty()) ids.patient_name = "SABRE^PHANTOM";
  if (ids.patient_id.empty()) ids.patient_id = "SABRE-PHANTOM";
  if (ids.study_id.empty()) ids.study_id = "1";
  if (ids.study_date.empty()) ids.study_date = "20250101";
  if (ids.study_time.empty()) ids.study_time = "120000";
  img.files.clear();
  img.sop_instance_uids.clear();

  const auto ori = img.orientation;
  const auto cos6 = ori.cosines();
  std::string iop;
  for (double c : cos6) iop += (iop.empty() ? "" : "\\") + dicom::ds(c);
  const double dx_mm = g.spacing_cm.x * 10, dy_mm = g.spacing_cm.y * 10, dz_mm = g.spacing_cm.z * 10;
  const int nx = g.nx, ny = g.ny, nz = g.nz;
  std::vector<Uint16> px(std::size_t(nx) * ny);

  for (int s = 0; s < nz; ++s) {
    const int k = ori.z() > 0 ? s : nz - 1 - s;
    const int i0 = ori.x > 0 ? 0 : nx - 1, j0 = ori.y > 0 ? 0 : ny - 1;
    const auto c0 = g.voxel_centre(i0, j0, k);  // the file's first pixel [cm]
    for (int r = 0; r < ny; ++r) {
      const int j = ori.y > 0 ? r : ny - 1 - r;
      for (int c = 0; c < nx; ++c) {
        const int i = ori.x > 0 ? c : nx - 1 - c;
        const double hu = std::clamp<double>(std::lround(img.hu[g.index(i, j, k)]), -1024, 3071);
        px[std::size_t(r) * nx + c] = Uint16(hu + 1024);
      }
    }
    const std::string sop = uid("ct-slice-" + std::to_string(s));
    DcmFileFormat ff;
    DcmDataset* d = ff.getDataset();
    auto put = [&](const DcmTagKey& t, const std::string& v) { d->putAndInsertString(t, v.c_str()); };
    put(DCM_SpecificCharacterSet, "ISO_IR 100");
    put(DCM_ImageType, "DERIVED\\SECONDARY\\AXIAL");
    put(DCM_SOPClassUID, UID_CTImageStorage);
    put(DCM_SOPInstanceUID, sop);
    put(DCM_StudyDate, ids.study_date);
    put(DCM_StudyTime, ids.study_time);
    put(DCM_ContentDate, ids.study_date);
    put(DCM_ContentTime, ids.study_time);
    put(DCM_AccessionNumber, ids.accession_number);
    put(DCM_Modality, "CT");
    put(DCM_Manufacturer, "sabre");
    put(DCM_ReferringPhysicianName, ids.referring_physician);
    put(DCM_SeriesDescription, opt.series_description);
    put(DCM_Laterality, "");
    put(DCM_ManufacturerModelName, "sabre phantom generator");
    put(DCM_SoftwareVersions, build::version());
    put(DCM_PatientName, ids.patient_name);
    put(DCM_PatientID, ids.patient_id);
    put(DCM_PatientBirthDate, ids.patient_birth_date);
    put(DCM_PatientSex, ids.patient_sex.empty() ? "O" : ids.patient_sex);
    put(DCM_SliceThickness, dicom::ds(dz_mm));
    put(DCM_KVP, "120");
    put(DCM_GantryDetectorTilt, "0");
    put(DCM_PatientPosition, img.patient_position);
    put(DCM_StudyInstanceUID, ids.study_instance_uid);
    put(DCM_SeriesInstanceUID, img.series_instance_uid);
    put(DCM_StudyID, ids.study_id);
    put(DCM_SeriesNumber, "1");
    put(DCM_AcquisitionNumber, "1");
    put(DCM_InstanceNumber, std::to_string(s + 1));
    put(DCM_ImagePositionPatient,
        dicom::ds(c0.x * 10) + "\\" + dicom::ds(c0.y * 10) + "\\" + dicom::ds(c0.z * 10));
    put(DCM_ImageOrientationPatient, iop);
    put(DCM_FrameOfReferenceUID, ids.frame_of_reference_uid);
    put(DCM_PositionReferenceIndicator, "");
    put(DCM_SliceLocation, dicom::ds(c0.z * 10));
    d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    put(DCM_PhotometricInterpretation, "MONOCHROME2");
    d->putAndInsertUint16(DCM_Rows, Uint16(ny));
    d->putAndInsertUint16(DCM_Columns, Uint16(nx));
    put(DCM_PixelSpacing, dicom::ds(dy_mm) + "\\" + dicom::ds(dx_mm));
    d->putAndInsertUint16(DCM_BitsAllocated, 16);
    d->putAndInsertUint16(DCM_BitsStored, 12);
    d->putAndInsertUint16(DCM_HighBit, 11);
    d->putAndInsertUint16(DCM_PixelRepresentation, 0);
    put(DCM_WindowCenter, "40");
    put(DCM_WindowWidth, "400");
    put(DCM_RescaleIntercept, "-1024");
    put(DCM_RescaleSlope, "1");
    put(DCM_RescaleType, "HU");
    d->putAndInsertUint16Array(DCM_PixelData, px.data(), px.size());
    char name[32];
    std::snprintf(name, sizeof name, "CT_%04d.dcm", s + 1);
    const std::string path = (fs::path(dir) / name).string();
    dicom::save(ff, path);
    img.files.push_back(path);
    img.sop_instance_uids.push_back(sop);
  }
}

}  // namespace sabre::io
