// Debian's python3-pydicom ships real sample files (CT_small.dcm, rtstruct.dcm,
// rtdose.dcm, rtplan.dcm). sabre's readers must find in them what pydicom finds.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/io/ct_series.hh"
#include "engine/io/rtdose.hh"
#include "engine/io/rtstruct.hh"
#include "tests/support/skip.hh"

using namespace sabre;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

// pydicom's view of `file` as JSON; null (after skipping) when pydicom or the file is absent.
nlohmann::json pydicom_view(const std::string& file) {
  if (!fs::exists(kDir / file)) {
    test::skip("pydicom's sample " + file + " is not installed (python3-pydicom)");
    return nullptr;
  }
  const auto r = test::run("/usr/bin/python3 " + std::string(SABRE_SOURCE_DIR) +
                           "/tests/engine/io/pydicom_dump.py " + (kDir / file).string());
  if (r.status == 77) {
    test::skip(r.out);
    return nullptr;
  }
  INFO(r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("CT_small.dcm: geometry and HU as pydicom reads them", "[io][pydicom]") {
  const auto py = pydicom_view("CT_small.dcm");
  if (py.is_null()) return;
  const auto ct = io::read_ct_series((kDir / "CT_small.dcm").string());
  const auto& g = ct.grid;
  REQUIRE(g.nx == py["cols"].get<int>());
  REQUIRE(g.ny == py["rows"].get<int>());
  REQUIRE(g.nz == 1);
  const auto ipp = py["ipp"], ps = py["pixel_spacing"];
  // Its orientation is 1\0\0\0\1\0: the first pixel is the lowest corner's voxel centre.
  CHECK(py["iop"][0].get<double>() == 1.0);
  CHECK(py["iop"][4].get<double>() == 1.0);
  const auto c0 = g.voxel_centre(0, 0, 0);
  CHECK(10 * c0.x == Approx(ipp[0].get<double>()).margin(1e-4));
  CHECK(10 * c0.y == Approx(ipp[1].get<double>()).margin(1e-4));
  CHECK(10 * c0.z == Approx(ipp[2].get<double>()).margin(1e-4));
  CHECK(10 * g.spacing_cm.x == Approx(ps[1].get<double>()).epsilon(1e-9));
  CHECK(10 * g.spacing_cm.y == Approx(ps[0].get<double>()).epsilon(1e-9));
  CHECK(10 * g.spacing_cm.z == Approx(py["thickness"].get<double>()).epsilon(1e-9));  // one slice
  CHECK(ct.ids.frame_of_reference_uid == py["frame"].get<std::string>());
  CHECK(ct.patient_position == "FFS");  // as tagged; the cosines decide the geometry
  const auto rows = py["hu_first_rows"];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < g.nx; ++c) CHECK(ct.hu[g.index(c, r, 0)] == rows[r][c].get<double>());
  double sum = 0, lo = 1e9, hi = -1e9;
  for (float h : ct.hu) {
    sum += h;
    lo = std::min<double>(lo, h);
    hi = std::max<double>(hi, h);
  }
  CHECK(sum == py["hu_sum"].get<double>());
  CHECK(lo == py["hu_min"].get<double>());
  CHECK(hi == py["hu_max"].get<double>());
}

TEST_CASE("rtstruct.dcm: ROI names and contours as pydicom reads them", "[io][pydicom]") {
  const auto py = pydicom_view("rtstruct.dcm");
  if (py.is_null()) return;
  const auto rs = io::read_rtstruct((kDir / "rtstruct.dcm").string());
  CHECK(rs.frame_of_reference_uid == py["frame"].get<std::string>());
  REQUIRE(rs.rois.size() == py["rois"].size());
  for (const auto& pr : py["rois"]) {
    const io::Roi* roi = rs.find(pr["name"].get<std::string>());
    REQUIRE(roi != nullptr);
    CHECK(roi->number == pr["number"].get<int>());
    REQUIRE(roi->contours.size() == pr["contours"].size());
    for (std::size_t c = 0; c < roi->contours.size(); ++c) {
      const auto& pc = pr["contours"][c];
      CHECK(roi->contours[c].geometric_type == pc["type"].get<std::string>());
      const auto& pts = pc["points"];
      REQUIRE(roi->contours[c].points_mm.size() * 3 == pts.size());
      for (std::size_t p = 0; p < pts.size(); ++p)
        CHECK(roi->contours[c].points_mm[p / 3][p % 3] == pts[p].get<double>());
    }
  }
  CHECK(rs.find("patient") != nullptr);
  CHECK(rs.find("Isocenter 1")->contours.at(0).geometric_type == "POINT");
}

TEST_CASE("rtdose.dcm (plain, RLE, big endian): grid and dose values as pydicom reads them",
          "[io][pydicom]") {
  const std::string file = GENERATE("rtdose.dcm", "rtdose_rle.dcm", "rtdose_expb.dcm");
  INFO(file);
  const auto py = pydicom_view(file);
  if (py.is_null()) return;
  const auto rd = io::read_rtdose((kDir / file).string());
  const auto& g = rd.dose.grid;
  const auto shape = py["shape"];  // frames, rows, columns
  REQUIRE(g.nz == shape[0].get<int>());
  REQUIRE(g.ny == shape[1].get<int>());
  REQUIRE(g.nx == shape[2].get<int>());
  CHECK(rd.frame_of_reference_uid == py["frame"].get<std::string>());
  CHECK(rd.summation_type == py["summation"].get<std::string>());
  CHECK(rd.dose.dose_unit == (py["units"] == "GY" ? "Gy" : "relative"));
  const auto c0 = g.voxel_centre(0, 0, 0);
  CHECK(10 * c0.x == Approx(py["ipp"][0].get<double>()).margin(1e-4));
  CHECK(10 * c0.y == Approx(py["ipp"][1].get<double>()).margin(1e-4));
  CHECK(10 * c0.z == Approx(py["ipp"][2].get<double>()).margin(1e-4));
  CHECK(10 * g.spacing_cm.z ==
        Approx(py["offsets"][1].get<double>() - py["offsets"][0].get<double>()).margin(1e-6));
  // Orientation 1\0\0\0\1\0 and increasing offsets: stored order is the grid order.
  const auto& dose = py["dose"];
  REQUIRE(dose.size() == rd.dose.dose_gy.size());
  double maxdiff = 0;
  for (std::size_t v = 0; v < dose.size(); ++v)
    maxdiff = std::max(maxdiff, std::abs(rd.dose.dose_gy[v] - dose[v].get<double>()));
  CHECK(maxdiff < 1e-12);
}

TEST_CASE("rtplan.dcm: the identifiers an RT Dose references", "[io][pydicom]") {
  const auto py = pydicom_view("rtplan.dcm");
  if (py.is_null()) return;
  const auto plan = io::read_rtplan_reference((kDir / "rtplan.dcm").string());
  CHECK(plan.sop_instance_uid == py["sop"].get<std::string>());
  CHECK(plan.label == py["label"].get<std::string>());
  CHECK(plan.frame_of_reference_uid == py["frame"].get<std::string>());
}
