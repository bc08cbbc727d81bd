#include "engine/io/ct_series.hh"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "core/errors.hh"
#include "core/log.hh"
#include "engine/io/dicom_util.hh"

namespace sabre::io {

AxialOrientation AxialOrientation::from_position(const std::string& p) {
  if (p == "HFS") return {+1, +1};
  if (p == "FFS") return {-1, +1};
  if (p == "HFP") return {-1, -1};
  if (p == "FFP") return {+1, -1};
  throw std::invalid_argument("patient position '" + p + "' is not one of HFS, HFP, FFS, FFP");
}

namespace {

constexpr double kPositionTolMm = 0.01;   // slice positions and spacings [mm]
constexpr double kCosineTol = 1e-4;       // orientation cosines

struct Slice {
  std::string file;
  std::string series, frame, sop;
  std::array<double, 6> iop{};
  std::array<double, 3> ipp{};  // [mm]
  double row_spacing_mm = 0, col_spacing_mm = 0;  // PixelSpacing: between rows, between columns
  double thickness_mm = 0;
  int rows = 0, cols = 0;
  double along_mm = 0;  // position along the series normal
  std::vector<float> hu;  // [r*cols + c]
  DicomPatientStudy ids;
  std::string position;
};

std::string fmt_mm(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

// Reads one slice's header and pixels; returns false for RT objects to skip.
bool read_slice(const std::string& path, Slice& s) {
  auto ff = dicom::load(path);
  DcmDataset& ds = *ff->getDataset();
  const std::string modality = dicom::str(ds, DCM_Modality);
  if (modality.rfind("RT", 0) == 0 || modality == "REG" || modality == "SR" || modality == "KO" ||
      modality == "PR") {
    spdlog::debug("{}: skipped ({} object, not a CT slice)", path, modality);
    return false;
  }
  if (modality != "CT")
    throw InputError(path, "modality is '" + (modality.empty() ? std::string("none") : modality) +
                               "', not CT: sabre reads CT series only");
  if (dicom::str(ds, DCM_ImageType).find("LOCALIZER") != std::string::npos) {
    spdlog::debug("{}: skipped (a localizer / scout image)", path);
    return false;
  }
  s.file = path;
  s.series = dicom::require_str(ds, DCM_SeriesInstanceUID, path);
  s.frame = dicom::require_str(ds, DCM_FrameOfReferenceUID, path);
  s.sop = dicom::str(ds, DCM_SOPInstanceUID);
  s.position = dicom::str(ds, DCM_PatientPosition);
  s.ids.patient_name = dicom::str(ds, DCM_PatientName);
  s.ids.patient_id = dicom::str(ds, DCM_PatientID);
  s.ids.patient_birth_date = dicom::str(ds, DCM_PatientBirthDate);
  s.ids.patient_sex = dicom::str(ds, DCM_PatientSex);
  s.ids.study_instance_uid = dicom::str(ds, DCM_StudyInstanceUID);
  s.ids.study_id = dicom::str(ds, DCM_StudyID);
  s.ids.study_date = dicom::str(ds, DCM_StudyDate);
  s.ids.study_time = dicom::str(ds, DCM_StudyTime);
  s.ids.accession_number = dicom::str(ds, DCM_AccessionNumber);
  s.ids.referring_physician = dicom::str(ds, DCM_ReferringPhysicianName);
  s.ids.frame_of_reference_uid = s.frame;

  const auto iop = dicom::require_doubles(ds, DCM_ImageOrientationPatient, 6, path);
  std::copy_n(iop.begin(), 6, s.iop.begin());
  const auto ipp = dicom::require_doubles(ds, DCM_ImagePositionPatient, 3, path);
  std::copy_n(ipp.begin(), 3, s.ipp.begin());
  const auto ps = dicom::require_doubles(ds, DCM_PixelSpacing, 2, path);
  s.row_spacing_mm = ps[0];
  s.col_spacing_mm = ps[1];
  if (!(ps[0] > 0 && ps[1] > 0)) throw InputError(path, "PixelSpacing is not positive");
  const auto th = dicom::finite_doubles(ds, DCM_SliceThickness, path);
  s.thickness_mm = th.empty() ? 0 : th[0];

  const auto tilt = dicom::finite_doubles(ds, DCM_GantryDetectorTilt, path);
  if (!tilt.empty() && std::abs(tilt[0]) > 1e-3)
    throw InputError(path, "gantry tilt of " + fmt_mm(tilt[0]) +
                               " degrees: tilted CT series are not supported (reconstruct "
                               "without tilt or resample to an axial series first)");

  Uint16 rows = 0, cols = 0, spp = 1, bits_alloc = 0, bits_stored = 0, pixrep = 0;
  if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, cols).bad() ||
      rows == 0 || cols == 0)
    throw InputError(path, "missing or zero Rows/Columns");
  ds.findAndGetUint16(DCM_SamplesPerPixel, spp);
  ds.findAndGetUint16(DCM_BitsAllocated, bits_alloc);
  ds.findAndGetUint16(DCM_BitsStored, bits_stored);
  ds.findAndGetUint16(DCM_PixelRepresentation, pixrep);
  if (spp != 1) throw InputError(path, "SamplesPerPixel is " + std::to_string(spp) + ", not 1");
  if (bits_alloc != 16)
    throw InputError(path, "BitsAllocated is " + std::to_string(bits_alloc) +
                               "; CT slices with 16-bit pixels are supported");
  if (bits_stored == 0 || bits_stored > 16) bits_stored = 16;
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
    throw InputError(path, "multi-frame CT images (" + std::to_string(frames) +
                               " frames) are not supported: export single-slice CT");
  s.rows = rows;
  s.cols = cols;
  const auto slope_v = dicom::finite_doubles(ds, DCM_RescaleSlope, path);
  const auto icpt_v = dicom::finite_doubles(ds, DCM_RescaleIntercept, path);
  const double slope = slope_v.empty() ? 1.0 : slope_v[0];
  const double intercept = icpt_v.empty() ? 0.0 : icpt_v[0];

  // Decompress if needed.
  const E_TransferSyntax xfer = ds.getOriginalXfer();
  if (DcmXfer(xfer).isEncapsulated()) {
    dicom::register_codecs();
    if (ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !ds.canWriteXfer(EXS_LittleEndianExplicit))
      throw InputError(path, std::string("compressed transfer syntax '") + DcmXfer(xfer).getXferName() +
                                 "' cannot be decoded by this DCMTK");
  }
  const Uint16* px = nullptr;
  unsigned long count = 0;
  if (ds.findAndGetUint16Array(DCM_PixelData, px, &count).bad() || !px)
    throw InputError(path, "no pixel data");
  const unsigned long need = static_cast<unsigned long>(rows) * cols;
  if (count < need)
    throw InputError(path, "truncated: pixel data has " + std::to_string(count) + " of " +
                               std::to_string(need) + " pixels");
  s.hu.resize(need);
  const Uint16 mask = bits_stored >= 16 ? 0xFFFF : Uint16((1u << bits_stored) - 1);
  for (unsigned long p = 0; p < need; ++p) {
    const Uint16 raw = px[p] & mask;
    long v;
    if (pixrep == 1 && (raw & (1u << (bits_stored - 1))))
      v = long(raw) - (1L << bits_stored);  // two's complement within BitsStored
    else
      v = raw;
    s.hu[p] = float(slope * v + intercept);
  }
  return true;
}

// Round to an integer +-1 when close; 0 when close to 0; else NaN.
int unit_sign(double c) {
  if (std::abs(c - 1) < kCosineTol) return 1;
  if (std::abs(c + 1) < kCosineTol) return -1;
  return 0;
}

}  // namespace

CtImage read_ct_series(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "no such file or directory");
  std::vector<std::string> candidates;
  const bool is_dir = fs::is_directory(path, ec);
  if (is_dir) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (!e.is_regular_file()) continue;
      const std::string name = e.path().filename().string();
      if (name.empty() || name[0] == '.' || name == "DICOMDIR") continue;
      if (!dicom::has_dicm_magic(e.path().string())) {
        // A truncated file may lose even its preamble; anything with a .dcm name must be DICOM.
        if (e.path().extension() == ".dcm")
          throw InputError(e.path().string(), "not a DICOM file (no DICM preamble) or truncated");
        spdlog::debug("{}: skipped (not a DICOM Part 10 file)", e.path().string());
        continue;
      }
      candidates.push_back(e.path().string());
    }
    if (ec) throw InputError(path, "cannot list the directory: " + ec.message());
    std::sort(candidates.begin(), candidates.end());
  } else {
    candidates.push_back(path);
  }

  std::vector<Slice> slices;
  for (const auto& f : candidates) {
    Slice s;
    if (read_slice(f, s)) slices.push_back(std::move(s));
  }
  if (slices.empty()) throw InputError(path, "no CT slices found");

  // One series, one frame of reference.
  const Slice& ref = slices.front();
  for (const auto& s : slices) {
    if (s.series != ref.series) {
      const auto n_a = std::count_if(slices.begin(), slices.end(),
                                     [&](const Slice& x) { return x.series == ref.series; });
      throw InputError(path, "two CT series mixed: SeriesInstanceUID " + ref.series + " (" +
                                 std::to_string(n_a) + " slices, e.g. " + ref.file + ") and " +
                                 s.series + " (e.g. " + s.file + "); keep one series per directory");
    }
    if (s.frame != ref.frame)
      throw InputError(s.file, "FrameOfReferenceUID " + s.frame + " differs from " + ref.frame +
                                   " of " + ref.file);
  }
  // Orientation: axial, cosines +-1, the same on every slice.
  const int sx = unit_sign(ref.iop[0]), sy = unit_sign(ref.iop[4]);
  const bool axial = sx != 0 && sy != 0 && std::abs(ref.iop[1]) < kCosineTol &&
                     std::abs(ref.iop[2]) < kCosineTol && std::abs(ref.iop[3]) < kCosineTol &&
                     std::abs(ref.iop[5]) < kCosineTol;
  if (!axial) {
    std::string v;
    for (double c : ref.iop) v += (v.empty() ? "" : "\\") + dicom::ds(c);
    throw InputError(ref.file, "ImageOrientationPatient " + v +
                                   " is not axial (rows along +-x, columns along +-y): oblique, "
                                   "sagittal and coronal series are not supported");
  }
  for (const auto& s : slices) {
    for (int a = 0; a < 6; ++a)
      if (std::abs(s.iop[a] - ref.iop[a]) > kCosineTol)
        throw InputError(s.file, "ImageOrientationPatient differs from " + ref.file);
    if (s.rows != ref.rows || s.cols != ref.cols)
      throw InputError(s.file, "image size " + std::to_string(s.cols) + "x" + std::to_string(s.rows) +
                                   " differs from " + std::to_string(ref.cols) + "x" +
                                   std::to_string(ref.rows) + " of " + ref.file);
    if (std::abs(s.row_spacing_mm - ref.row_spacing_mm) > 1e-4 ||
        std::abs(s.col_spacing_mm - ref.col_spacing_mm) > 1e-4)
      throw InputError(s.file, "PixelSpacing differs from " + ref.file);
  }
  const AxialOrientation ori{sx, sy};
  const double nz = ori.z();  // normal = (0, 0, nz)
  for (auto& s : slices) s.along_mm = nz * s.ipp[2];
  std::sort(slices.begin(), slices.end(),
            [](const Slice& a, const Slice& b) { return a.along_mm < b.along_mm; });

  // Stacked along the normal: in-plane position constant (a shift means a tilted gantry).
  for (const auto& s : slices)
    if (std::abs(s.ipp[0] - slices[0].ipp[0]) > kPositionTolMm ||
        std::abs(s.ipp[1] - slices[0].ipp[1]) > kPositionTolMm)
      throw InputError(s.file, "ImagePositionPatient x/y moves between slices (" +
                                   fmt_mm(s.ipp[0]) + ", " + fmt_mm(s.ipp[1]) + " vs " +
                                   fmt_mm(slices[0].ipp[0]) + ", " + fmt_mm(slices[0].ipp[1]) +
                                   " mm): slices not stacked along the normal (gantry tilt?)");
  double dz_mm = 0;
  if (slices.size() == 1) {
    dz_mm = slices[0].thickness_mm;
    if (!(dz_mm > 0)) throw InputError(slices[0].file, "one slice and no SliceThickness: slice spacing unknown");
  } else {
    std::vector<double> gaps;
    for (std::size_t k = 1; k < slices.size(); ++k) {
      const double g = slices[k].along_mm - slices[k - 1].along_mm;
      if (g < kPositionTolMm)
        throw InputError(slices[k].file, "same slice position as " + slices[k - 1].file + " (" +
                                             fmt_mm(slices[k].ipp[2]) + " mm): duplicate slice");
      gaps.push_back(g);
    }
    auto sorted = gaps;
    std::sort(sorted.begin(), sorted.end());
    dz_mm = sorted[(sorted.size() - 1) / 2];  // the typical spacing: the (lower) median gap
    for (std::size_t k = 0; k < gaps.size(); ++k) {
      if (std::abs(gaps[k] - dz_mm) <= kPositionTolMm) continue;
      const double ratio = gaps[k] / dz_mm;
      const std::string where = "between " + slices[k].file + " (z " + fmt_mm(slices[k].ipp[2]) +
                                " mm) and " + slices[k + 1].file + " (z " +
                                fmt_mm(slices[k + 1].ipp[2]) + " mm)";
      if (std::abs(ratio - std::round(ratio)) * dz_mm <= kPositionTolMm && ratio > 1.5)
        throw InputError(path, "missing slice(s) " + where + ": gap " + fmt_mm(gaps[k]) +
                                   " mm where the spacing is " + fmt_mm(dz_mm) + " mm");
      throw InputError(path, "inconsistent slice spacing " + where + ": " + fmt_mm(gaps[k]) +
                                 " mm where the others are " + fmt_mm(dz_mm) +
                                 " mm; sabre needs a constant spacing (resample the series)");
    }
  }

  CtImage img;
  img.orientation = ori;
  img.patient_position = ref.position;
  img.ids = ref.ids;
  img.series_instance_uid = ref.series;
  const int nx = ref.cols, ny = ref.rows, nzs = int(slices.size());
  const double dx_mm = ref.col_spacing_mm, dy_mm = ref.row_spacing_mm;
  auto& g = img.grid;
  g.nx = nx;
  g.ny = ny;
  g.nz = nzs;
  g.spacing_cm = {dx_mm / 10, dy_mm / 10, dz_mm / 10};
  // Lowest voxel-centre coordinate on each axis, then the corner half a voxel below.
  const auto& p0 = slices.front().ipp;
  const double cx = sx > 0 ? p0[0] : p0[0] - (nx - 1) * dx_mm;
  const double cy = sy > 0 ? p0[1] : p0[1] - (ny - 1) * dy_mm;
  const double cz = std::min(slices.front().ipp[2], slices.back().ipp[2]);
  g.origin_cm = {(cx - dx_mm / 2) / 10, (cy - dy_mm / 2) / 10, (cz - dz_mm / 2) / 10};

  img.hu.resize(g.size());
  for (int s = 0; s < nzs; ++s) {
    const int k = nz > 0 ? s : nzs - 1 - s;
    const auto& src = slices[s].hu;
    for (int r = 0; r < ny; ++r) {
      const int j = sy > 0 ? r : ny - 1 - r;
      for (int c = 0; c < nx; ++c) {
        const int i = sx > 0 ? c : nx - 1 - c;
        img.hu[g.index(i, j, k)] = src[std::size_t(r) * nx + c];
      }
    }
    img.files.push_back(slices[s].file);
    img.sop_instance_uids.push_back(slices[s].sop);
  }
  spdlog::info("CT series {}: {} slices of {}x{}, spacing {} x {} x {} mm, orientation {}", path,
               nzs, nx, ny, dx_mm, dy_mm, dz_mm, ref.position.empty() ? "?" : ref.position);
  return img;
}

}  // namespace sabre::io
