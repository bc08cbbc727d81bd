// Round trip: generated CT series -> phantom -> RT Dose (+ HDF5), checked by our reader and
// by independent tools (dciodvfy, pydicom, h5py) in every patient position.
#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include <dcmtk/dcmdata/dctk.h>

#include "core/errors.hh"
#include "engine/ct_calibration.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/rtdose.hh"
#include "tests/engine/io/io_test_util.hh"
#include "tests/support/skip.hh"

using namespace sabre;

namespace {

const std::string kPlanFile = "/usr/lib/python3/dist-packages/pydicom/data/test_files/rtplan.dcm";

// A smooth, asymmetric dose in patient coordinates (a geometry probe, not a transport
// result): any flip or shift of an axis changes it.
double probe_dose_gy(phys::Vec3 c_cm) {
  const double dx = c_cm.x - 6.5, dy = c_cm.y + 0.5, dz = c_cm.z - 1.0;
  return 2.0 * std::exp(-(dx * dx + 2 * dy * dy + 0.5 * dz * dz) / 50.0) + 0.01 * (c_cm.x + 20);
}

DoseResult probe_result(const Phantom& ph) {
  DoseResult r;
  r.grid = ph.grid;
  r.dose_unit = "Gy";
  for (int k = 0; k < ph.grid.nz; ++k)
    for (int j = 0; j < ph.grid.ny; ++j)
      for (int i = 0; i < ph.grid.nx; ++i) {
        r.dose_gy.push_back(probe_dose_gy(ph.grid.voxel_centre(i, j, k)));
        r.rel_uncertainty.push_back(0.01);
      }
  r.material = ph.material;
  r.density_g_cm3 = ph.density_g_cm3;
  r.material_names = ph.material_names;
  r.histories = 1000;
  r.batches = 10;
  r.seed = 1;
  r.device = "none (geometry probe)";
  return r;
}

}  // namespace

TEST_CASE("CT -> phantom -> RT Dose round trip in every patient position", "[io][rtdose]") {
  const std::string position = GENERATE("HFS", "FFS", "HFP", "FFP");
  PhantomSpec spec;
  spec.kind = "thorax";
  spec.size_mm = {200, 140, 60};
  spec.spacing_mm = 2.5;
  spec.slice_mm = 3;
  spec.position = position;
  const auto dir = test::io::write_phantom("roundtrip_" + position, spec);
  const auto ct = io::read_ct_series(dir.string());
  CHECK(ct.orientation.x == io::AxialOrientation::from_position(position).x);
  CHECK(ct.orientation.y == io::AxialOrientation::from_position(position).y);
  const auto ph = build_phantom(ct, CtCalibration::load("schneider"), nullptr, "");
  const auto result = probe_result(ph);

  io::RtDoseOptions opt;
  opt.orientation = ct.orientation;
  opt.ids = ct.ids;
  // A clinical RT Dose references its RT Plan (DoseSummationType PLAN requires it): a
  // static plan on this CT from `sabre plan static` (the dose here is a geometry probe).
  const auto rp_path = (dir.parent_path() / ("RP_" + position + ".dcm")).string();
  const auto plan_run = test::run(test::sabre_exe() + " --log-level warn plan static -o " + rp_path +
                                  " --ct " + dir.string() + " --field 3 3 --iso 43 -3 0 --mu 100 --position " +
                                  position);
  INFO(plan_run.err);
  REQUIRE(plan_run.status == 0);
  const auto plan = io::read_rtplan_reference(rp_path);
  CHECK(plan.frame_of_reference_uid == ct.ids.frame_of_reference_uid);
  opt.plan_sop_instance_uid = plan.sop_instance_uid;
  const auto rd_path = (dir.parent_path() / ("RD_" + position + ".dcm")).string();
  const auto h5_path = (dir.parent_path() / ("dose_" + position + ".h5")).string();
  io::write_rtdose(rd_path, result, opt);
  io::write_dose_hdf5(h5_path, result);

  // Our own reader gives back the grid and dose.
  const auto back = io::read_rtdose(rd_path);
  CHECK(back.frame_of_reference_uid == ct.ids.frame_of_reference_uid);
  CHECK(back.dose.dose_unit == "Gy");
  CHECK(back.dose.grid.nx == ct.grid.nx);
  CHECK(back.dose.grid.nz == ct.grid.nz);
  CHECK(std::abs(back.dose.grid.origin_cm.x - ct.grid.origin_cm.x) < 1e-4);
  CHECK(std::abs(back.dose.grid.origin_cm.y - ct.grid.origin_cm.y) < 1e-4);
  CHECK(std::abs(back.dose.grid.origin_cm.z - ct.grid.origin_cm.z) < 1e-4);
  CHECK(std::abs(back.dose.grid.spacing_cm.z - ct.grid.spacing_cm.z) < 1e-5);
  double maxdiff = 0, dmax = 0;
  for (std::size_t v = 0; v < result.dose_gy.size(); ++v) {
    maxdiff = std::max(maxdiff, std::abs(back.dose.dose_gy[v] - result.dose_gy[v]));
    dmax = std::max(dmax, result.dose_gy[v]);
  }
  CHECK(maxdiff <= dmax / 65000.0 * 0.51);  // half a 16-bit step (rounding)

  // Independent readers.
  const std::string script = std::string(SABRE_SOURCE_DIR) + "/tests/engine/io/check_rtdose.py";
  const auto res = test::run("/usr/bin/python3 " + script + " " + rd_path + " " + dir.string() + " " + h5_path);
  INFO(res.out << res.err);
  if (res.status == 77) {
    test::skip(res.out);
    return;
  }
  CHECK(res.status == 0);
  CHECK(res.out.rfind("OK", 0) == 0);

  // A third independent reader: plastimatch sees the RT Dose on the CT's geometry (origin,
  // size, spacing, direction).
  if (test::run("command -v plastimatch").status == 0) {
    auto geometry = [](const std::string& what) {
      const auto r = test::run("plastimatch header " + what + " 2>/dev/null | grep -E '^(Origin|Size|Spacing|Direction) = '");
      return r.out;
    };
    const auto ct_geometry = geometry(dir.string());
    CHECK(ct_geometry.find("Origin = ") != std::string::npos);
    CHECK(geometry(rd_path) == ct_geometry);
  }
}

TEST_CASE("RT Dose references the plan when one was used", "[io][rtdose]") {
  PhantomSpec spec;
  spec.size_mm = {40, 40, 30};
  spec.slice_mm = 5;
  spec.spacing_mm = 5;
  const auto dir = test::io::write_phantom("rtdose_plan", spec);
  const auto ct = io::read_ct_series(dir.string());
  const auto ph = build_phantom(ct, CtCalibration::load("ramp4"), nullptr, "");
  const std::string plan_file = kPlanFile;
  if (!std::filesystem::exists(plan_file)) {
    test::skip("pydicom's rtplan.dcm is not installed (python3-pydicom)");
    return;
  }
  const auto plan = io::read_rtplan_reference(plan_file);
  CHECK(plan.sop_instance_uid == "1.2.777.777.77.7.7777.7777.20030903150023");
  CHECK(plan.label == "Plan1");
  io::RtDoseOptions opt;
  opt.orientation = ct.orientation;
  opt.ids = ct.ids;
  opt.summation_type = "BEAM";
  opt.plan_sop_instance_uid = plan.sop_instance_uid;
  opt.beam_number = 1;
  const auto path = (dir / "RD.dcm").string();
  io::write_rtdose(path, probe_result(ph), opt);
  const auto back = io::read_rtdose(path);
  CHECK(back.plan_sop_instance_uid == plan.sop_instance_uid);
  CHECK(back.summation_type == "BEAM");
  CHECK(back.comment.find("dose to medium") != std::string::npos);
  const bool have_dciodvfy = test::run("command -v dciodvfy").status == 0;
  if (!have_dciodvfy) WARN("dciodvfy (dicom3tools) not installed: conformance not checked here");
  if (auto r = test::run("dciodvfy " + path); have_dciodvfy) {
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK((r.out + r.err).find("\nError") == std::string::npos);
    CHECK((r.out + r.err).rfind("Error", 0) != 0);
  }
  // 32-bit pixels read back too (dciodvfy cannot check those: it aborts on 32-bit data).
  opt.bits_allocated = 32;
  io::write_rtdose(path, probe_result(ph), opt);
  const auto wide = io::read_rtdose(path);
  const auto ref = probe_result(ph);
  double dmax = 0, maxdiff = 0;
  for (std::size_t v = 0; v < ref.dose_gy.size(); ++v) {
    dmax = std::max(dmax, ref.dose_gy[v]);
    maxdiff = std::max(maxdiff, std::abs(wide.dose.dose_gy[v] - ref.dose_gy[v]));
  }
  CHECK(maxdiff <= dmax / 4.0e9 * 0.51);
  opt.bits_allocated = 16;
  // Without a plan, DoseSummationType PLAN lacks its (type 1C) ReferencedRTPlanSequence:
  // dciodvfy reports exactly that, and nothing else (documented in docs/dicom.md).
  opt.summation_type = "PLAN";
  opt.plan_sop_instance_uid.clear();
  io::write_rtdose(path, probe_result(ph), opt);
  if (auto r = test::run("dciodvfy " + path + " 2>&1 | grep '^Error'"); have_dciodvfy) {
    CHECK(r.out == "Error - Missing attribute Type 1C Conditional Element=<ReferencedRTPlanSequence> Module=<RTDose>\n");
  }
  opt.summation_type = "BEAM";
  opt.plan_sop_instance_uid = plan.sop_instance_uid;
  // BEAM without a beam number and unknown summation types are refused.
  opt.beam_number = 0;
  CHECK_THROWS_AS(io::write_rtdose(path, probe_result(ph), opt), UsageError);
  opt.summation_type = "FRACTION";
  CHECK_THROWS_AS(io::write_rtdose(path, probe_result(ph), opt), UsageError);
}

TEST_CASE("reading a non-RT-Dose file as RT Dose is an input error naming it", "[io][rtdose]") {
  PhantomSpec spec;
  spec.size_mm = {20, 20, 10};
  spec.spacing_mm = 5;
  spec.slice_mm = 5;
  const auto dir = test::io::write_phantom("rtdose_notdose", spec);
  const auto f = (dir / "CT_0001.dcm").string();
  try {
    io::read_rtdose(f);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).rfind(f + ": modality is 'CT', not RTDOSE", 0) == 0);
  }
}

TEST_CASE("RT Dose on a user dose grid keeps its exact geometry", "[io][rtdose]") {
  PhantomSpec spec;
  spec.kind = "thorax";
  spec.size_mm = {160, 100, 30};
  spec.slice_mm = 2.5;
  spec.position = "FFS";
  const auto dir = test::io::write_phantom("rtdose_user_grid", spec);
  const auto ct = io::read_ct_series(dir.string());
  const auto ph = resample_phantom(build_phantom(ct, CtCalibration::load("ramp4"), nullptr, ""),
                                   dose_grid(ct.grid, 5.0));
  const auto r = probe_result(ph);
  io::RtDoseOptions opt;
  opt.orientation = ct.orientation;
  opt.ids = ct.ids;
  const auto path = (dir / "RD.dcm").string();
  io::write_rtdose(path, r, opt);
  const auto back = io::read_rtdose(path);
  const auto& a = back.dose.grid;
  const auto& b = ph.grid;
  CHECK(a.nx == b.nx);
  CHECK(a.ny == b.ny);
  CHECK(a.nz == b.nz);
  CHECK(std::abs(a.origin_cm.x - b.origin_cm.x) < 1e-5);
  CHECK(std::abs(a.origin_cm.y - b.origin_cm.y) < 1e-5);
  CHECK(std::abs(a.origin_cm.z - b.origin_cm.z) < 1e-5);
  CHECK(std::abs(a.spacing_cm.x - 0.5) < 1e-9);
  CHECK(std::abs(a.spacing_cm.z - 0.5) < 1e-9);
  double dmax = 0, maxdiff = 0;
  for (std::size_t v = 0; v < r.dose_gy.size(); ++v) {
    dmax = std::max(dmax, r.dose_gy[v]);
    maxdiff = std::max(maxdiff, std::abs(back.dose.dose_gy[v] - r.dose_gy[v]));
  }
  CHECK(maxdiff <= dmax / 65000.0 * 0.51);
}

TEST_CASE("an RT Dose whose scaling or frame offsets are not numbers is refused, naming the tag",
          "[io][rtdose][bad]") {
  // A planning system's dose read by `sabre check`: before, an unparsable DoseGridScaling was
  // dropped and the pixels taken as Gy (scaling 1).
  PhantomSpec spec;
  spec.size_mm = {20, 20, 15};
  spec.spacing_mm = 5;
  spec.slice_mm = 5;
  const auto dir = test::io::write_phantom("rtdose_bad_numbers", spec);
  const auto ct = io::read_ct_series(dir.string());
  const auto ph = build_phantom(ct, CtCalibration::load("ramp4"), nullptr, "");
  const auto path = (dir / "RD.dcm").string();
  io::RtDoseOptions opt;
  opt.orientation = ct.orientation;
  opt.ids = ct.ids;
  for (const auto& [tag, value] : std::vector<std::pair<DcmTagKey, const char*>>{
           {DCM_DoseGridScaling, "0.0001x"}, {DCM_DoseGridScaling, "NaN"}, {DCM_GridFrameOffsetVector, "0\\5\\abc"}}) {
    io::write_rtdose(path, probe_result(ph), opt);
    REQUIRE_NOTHROW(io::read_rtdose(path));
    DcmFileFormat ff;
    REQUIRE(ff.loadFile(path.c_str()).good());
    ff.loadAllDataIntoMemory();
    REQUIRE(ff.getDataset()->putAndInsertString(tag, value).good());
    REQUIRE(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    try {
      io::read_rtdose(path);
      FAIL("no exception for " << value);
    } catch (const InputError& e) {
      const std::string msg = e.what();
      CHECK(msg.rfind(path + ": ", 0) == 0);
      CHECK(msg.find(DcmTag(tag).getTagName()) != std::string::npos);
      CHECK(msg.find("not a finite number") != std::string::npos);
    }
  }
}
