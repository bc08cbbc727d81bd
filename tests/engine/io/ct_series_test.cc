// CT series reader: geometry in every patient position, and one clear InputError for each
// bad input (truncated slice, missing slice, two series, non-CT modality, uneven spacing,
// gantry tilt, oblique orientation).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/errors.hh"
#include "engine/ct_calibration.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/dicom_util.hh"
#include "tests/engine/io/io_test_util.hh"
#include "tests/support/skip.hh"

using namespace sabre;
namespace fs = std::filesystem;

namespace {

PhantomSpec small_thorax(const std::string& position) {
  PhantomSpec s;
  s.kind = "thorax";
  s.size_mm = {160, 100, 30};
  s.spacing_mm = 2.5;
  s.slice_mm = 3;
  s.position = position;
  return s;
}

// Edits one slice in place with DCMTK.
void edit(const fs::path& file, const std::function<void(DcmDataset&)>& change) {
  DcmFileFormat ff;
  REQUIRE(ff.loadFile(file.c_str()).good());
  ff.loadAllDataIntoMemory();  // the file is rewritten in place
  change(*ff.getDataset());
  REQUIRE(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit).good());
}

// Reads `dir` and returns the InputError message ("" when it did not throw one).
std::string error_of(const fs::path& dir) {
  try {
    io::read_ct_series(dir.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a generated CT series reads back with its exact grid and HU", "[io][ct]") {
  auto spec = small_thorax("HFS");
  const auto gen = generate_phantom(spec);
  const auto dir = test::io::write_phantom("ct_exact", spec);
  const auto ct = io::read_ct_series(dir.string());
  CHECK(ct.grid.nx == gen.ct.grid.nx);
  CHECK(ct.grid.ny == gen.ct.grid.ny);
  CHECK(ct.grid.nz == gen.ct.grid.nz);
  CHECK(ct.grid.origin_cm.x == Approx(gen.ct.grid.origin_cm.x).margin(1e-6));
  CHECK(ct.grid.origin_cm.y == Approx(gen.ct.grid.origin_cm.y).margin(1e-6));
  CHECK(ct.grid.origin_cm.z == Approx(gen.ct.grid.origin_cm.z).margin(1e-6));
  CHECK(ct.grid.spacing_cm.z == Approx(0.3).margin(1e-9));
  CHECK(ct.hu == gen.ct.hu);
  CHECK(ct.patient_position == "HFS");
  CHECK(ct.files.size() == std::size_t(ct.grid.nz));
  CHECK(!ct.ids.frame_of_reference_uid.empty());
}

TEST_CASE("HFS, FFS, HFP and FFP series give the same phantom in patient coordinates",
          "[io][ct][positions]") {
  const auto cal = CtCalibration::load("schneider");
  const auto ref_dir = test::io::write_phantom("pos_HFS", small_thorax("HFS"));
  const auto ref_ct = io::read_ct_series(ref_dir.string());
  const auto ref = build_phantom(ref_ct, cal, nullptr, "");
  for (const std::string pos : {"FFS", "HFP", "FFP"}) {
    INFO(pos);
    const auto dir = test::io::write_phantom("pos_" + pos, small_thorax(pos));
    const auto ct = io::read_ct_series(dir.string());
    // The files really are stored differently...
    const auto o = io::AxialOrientation::from_position(pos);
    CHECK(ct.orientation.x == o.x);
    CHECK(ct.orientation.y == o.y);
    // ...and give the same grid, HU, materials and densities at the same patient points.
    CHECK(ct.grid.origin_cm.x == Approx(ref_ct.grid.origin_cm.x).margin(1e-6));
    CHECK(ct.grid.origin_cm.y == Approx(ref_ct.grid.origin_cm.y).margin(1e-6));
    CHECK(ct.grid.origin_cm.z == Approx(ref_ct.grid.origin_cm.z).margin(1e-6));
    CHECK(ct.hu == ref_ct.hu);
    const auto ph = build_phantom(ct, cal, nullptr, "");
    CHECK(ph.material == ref.material);
    CHECK(ph.density_g_cm3 == ref.density_g_cm3);
  }
  // The lesion (GTV, HU 30) is in the patient's left lung (+x) whatever the position; the
  // generator scales the lung centres (65 mm, -5 mm for a 300 x 200 mm body) to the size.
  const double lx_cm = 6.5 * 160 / 300, ly_cm = -0.5 * 100 / 200;
  int i, j, k;
  REQUIRE(ref_ct.grid.locate({lx_cm, ly_cm, 0.1}, i, j, k));
  CHECK(ref_ct.hu[ref_ct.grid.index(i, j, k)] == 30.f);
  REQUIRE(ref_ct.grid.locate({-lx_cm, ly_cm, 0.1}, i, j, k));
  CHECK(ref_ct.hu[ref_ct.grid.index(i, j, k)] == -750.f);
}

TEST_CASE("localizer images and RT objects beside the slices are skipped", "[io][ct]") {
  const auto dir = test::io::write_phantom("ct_localizer", small_thorax("HFS"));
  const auto expected = io::read_ct_series(dir.string());  // RS.dcm is in the directory
  fs::copy_file(dir / "CT_0001.dcm", dir / "SCOUT.dcm");
  edit(dir / "SCOUT.dcm", [](DcmDataset& d) {
    d.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\LOCALIZER");
    d.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\0\\-1");
  });
  std::ofstream(dir / "README.txt") << "not DICOM";
  const auto ct = io::read_ct_series(dir.string());
  CHECK(ct.hu == expected.hu);
  CHECK(ct.files.size() == expected.files.size());
}

TEST_CASE("slices in any file order are sorted along the normal", "[io][ct]") {
  const auto dir = test::io::write_phantom("ct_shuffled", small_thorax("FFS"));
  const auto expected = io::read_ct_series(dir.string());
  // Rename so that the alphabetical order is reversed.
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("CT_", 0) == 0) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (std::size_t n = 0; n < files.size(); ++n)
    fs::rename(files[n], dir / ("X" + std::to_string(100 - n) + ".dcm"));
  const auto ct = io::read_ct_series(dir.string());
  CHECK(ct.hu == expected.hu);
}

TEST_CASE("bad CT series: one clear input error each", "[io][ct][bad]") {
  const auto spec = small_thorax("HFS");

  SECTION("truncated slice") {
    const auto dir = test::io::write_phantom("bad_truncated", spec);
    const auto f = dir / "CT_0005.dcm";
    fs::resize_file(f, fs::file_size(f) / 2);
    const auto msg = error_of(dir);
    CHECK(msg.rfind(f.string() + ": ", 0) == 0);
    CHECK(contains(msg, "truncated"));
  }
  SECTION("missing slice") {
    const auto dir = test::io::write_phantom("bad_missing", spec);
    fs::remove(dir / "CT_0004.dcm");
    const auto msg = error_of(dir);
    CHECK(contains(msg, "missing slice"));
    CHECK(contains(msg, "CT_0003.dcm"));
    CHECK(contains(msg, "CT_0005.dcm"));
    CHECK(contains(msg, "gap 6.000 mm where the spacing is 3.000 mm"));
  }
  SECTION("two series mixed") {
    const auto dir = test::io::write_phantom("bad_two_series", spec);
    auto other_spec = spec;
    other_spec.margin_mm = 12.5;  // another series (other UIDs)
    const auto other = test::io::write_phantom("bad_two_series_other", other_spec);
    fs::copy_file(other / "CT_0002.dcm", dir / "ZZ_other.dcm");
    const auto msg = error_of(dir);
    CHECK(msg.rfind(dir.string() + ": two CT series mixed", 0) == 0);
    CHECK(contains(msg, "ZZ_other.dcm"));
  }
  SECTION("non-CT modality") {
    const auto dir = test::io::write_phantom("bad_modality", spec);
    edit(dir / "CT_0003.dcm", [](DcmDataset& d) { d.putAndInsertString(DCM_Modality, "MR"); });
    const auto msg = error_of(dir);
    CHECK(msg == (dir / "CT_0003.dcm").string() + ": modality is 'MR', not CT: sabre reads CT series only");
  }
  SECTION("inconsistent slice spacing") {
    const auto dir = test::io::write_phantom("bad_spacing", spec);
    edit(dir / "CT_0006.dcm", [](DcmDataset& d) {
      const auto ipp = io::dicom::doubles(d, DCM_ImagePositionPatient);
      const std::string v = io::dicom::ds(ipp[0]) + "\\" + io::dicom::ds(ipp[1]) + "\\" +
                            io::dicom::ds(ipp[2] + 1.0);
      d.putAndInsertString(DCM_ImagePositionPatient, v.c_str());
    });
    const auto msg = error_of(dir);
    CHECK(contains(msg, "inconsistent slice spacing"));
    CHECK(contains(msg, "CT_0006.dcm"));
  }
  SECTION("inconsistent pixel spacing") {
    const auto dir = test::io::write_phantom("bad_pixel_spacing", spec);
    edit(dir / "CT_0002.dcm", [](DcmDataset& d) { d.putAndInsertString(DCM_PixelSpacing, "2\\2"); });
    const auto msg = error_of(dir);
    CHECK(msg == (dir / "CT_0002.dcm").string() + ": PixelSpacing differs from " + (dir / "CT_0001.dcm").string());
  }
  SECTION("rescale slope not a number") {
    // Before, an unparsable slope was dropped (slope 1 assumed) and "nan" was taken as read.
    for (const char* bad : {"abc", "nan", "1e999"}) {
      const auto dir = test::io::write_phantom(std::string("bad_slope_") + (bad[0] == '1' ? "big" : bad), spec);
      edit(dir / "CT_0004.dcm", [&](DcmDataset& d) { d.putAndInsertString(DCM_RescaleSlope, bad); });
      const auto msg = error_of(dir);
      CHECK(msg.rfind((dir / "CT_0004.dcm").string() + ": ", 0) == 0);
      CHECK(contains(msg, "RescaleSlope"));
      CHECK(contains(msg, "not a finite number"));
    }
  }
  SECTION("rescale intercept not a number") {
    const auto dir = test::io::write_phantom("bad_intercept", spec);
    edit(dir / "CT_0002.dcm", [](DcmDataset& d) { d.putAndInsertString(DCM_RescaleIntercept, "-10x24"); });
    const auto msg = error_of(dir);
    CHECK(msg.rfind((dir / "CT_0002.dcm").string() + ": ", 0) == 0);
    CHECK(contains(msg, "RescaleIntercept"));
  }
  SECTION("gantry tilt (tag)") {
    const auto dir = test::io::write_phantom("bad_tilt", spec);
    edit(dir / "CT_0001.dcm", [](DcmDataset& d) { d.putAndInsertString(DCM_GantryDetectorTilt, "15"); });
    const auto msg = error_of(dir);
    CHECK(msg.rfind((dir / "CT_0001.dcm").string() + ": gantry tilt of 15.000 degrees", 0) == 0);
  }
  SECTION("gantry tilt (geometry: slices sheared along y)") {
    const auto dir = test::io::write_phantom("bad_shear", spec);
    for (int s = 1; s <= 10; ++s) {
      char name[32];
      std::snprintf(name, sizeof name, "CT_%04d.dcm", s);
      edit(dir / name, [s](DcmDataset& d) {
        const auto ipp = io::dicom::doubles(d, DCM_ImagePositionPatient);
        const std::string v = io::dicom::ds(ipp[0]) + "\\" + io::dicom::ds(ipp[1] + 0.8 * s) +
                              "\\" + io::dicom::ds(ipp[2]);
        d.putAndInsertString(DCM_ImagePositionPatient, v.c_str());
      });
    }
    const auto msg = error_of(dir);
    CHECK(contains(msg, "not stacked along the normal (gantry tilt?)"));
  }
  SECTION("oblique orientation") {
    const auto dir = test::io::write_phantom("bad_oblique", spec);
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind("CT_", 0) == 0)
        edit(e.path(), [](DcmDataset& d) {
          d.putAndInsertString(DCM_ImageOrientationPatient, "0.9961947\\0.0871557\\0\\-0.0871557\\0.9961947\\0");
        });
    const auto msg = error_of(dir);
    CHECK(contains(msg, "is not axial"));
  }
  SECTION("not a directory of CT") {
    CHECK(contains(error_of(test::io::scratch_dir("bad_empty")), "no CT slices found"));
    CHECK(contains(error_of("/nonexistent/ct"), "no such file or directory"));
  }
}

TEST_CASE("compressed CT slices are decoded", "[io][ct]") {
  if (test::run("command -v dcmcjpeg").status != 0 ||
      test::run("command -v dcmcrle").status != 0) {
    test::skip("dcmcjpeg/dcmcrle (Debian package dcmtk) are not installed");
    return;
  }
  const auto dir = test::io::write_phantom("ct_compressed", small_thorax("HFS"));
  const auto plain = io::read_ct_series(dir.string());
  // In place: lossless JPEG (process 14, SV1), RLE and lossless JPEG-LS in turn.
  const bool jpls = test::run("command -v dcmcjpls").status == 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("CT_", 0) != 0) continue;
    const int n = std::stoi(name.substr(3, 4));
    const auto tmp = e.path().string() + ".c";
    const std::string tool = n % 3 == 0 ? "dcmcjpeg +e1 " : n % 3 == 1 || !jpls ? "dcmcrle " : "dcmcjpls ";
    const auto cmd = tool + e.path().string() + " " + tmp;
    REQUIRE(test::run(cmd).status == 0);
    fs::rename(tmp, e.path());
  }
  REQUIRE(test::run("dcmdump " + (dir / "CT_0003.dcm").string() + " | grep -q 'JPEG Lossless'").status == 0);
  REQUIRE(test::run("dcmdump " + (dir / "CT_0001.dcm").string() + " | grep -q 'RLE Lossless'").status == 0);
  if (jpls) REQUIRE(test::run("dcmdump " + (dir / "CT_0002.dcm").string() + " | grep -q 'JPEG-LS Lossless'").status == 0);
  const auto ct = io::read_ct_series(dir.string());
  CHECK(ct.hu == plain.hu);
}

TEST_CASE("rescale slope and intercept are applied per slice", "[io][ct]") {
  const auto dir = test::io::write_phantom("ct_rescale", small_thorax("HFS"));
  const auto plain = io::read_ct_series(dir.string());
  // Slice 2 along the normal: same stored values, HU = 2 * stored - 3072 instead of
  // stored - 1024, i.e. HU' = 2 * HU - 1024.
  edit(dir / "CT_0002.dcm", [](DcmDataset& d) {
    d.putAndInsertString(DCM_RescaleSlope, "2");
    d.putAndInsertString(DCM_RescaleIntercept, "-3072");
  });
  const auto ct = io::read_ct_series(dir.string());
  const auto& g = ct.grid;
  long changed = 0, same = 0;
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const auto v = g.index(i, j, k);
        if (k == 1) {
          changed += ct.hu[v] == 2 * plain.hu[v] - 1024;
        } else {
          same += ct.hu[v] == plain.hu[v];
        }
      }
  CHECK(changed == long(g.nx) * g.ny);
  CHECK(same == long(g.nx) * g.ny * (g.nz - 1));
}
