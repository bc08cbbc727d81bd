// Acceptance 3: the same phantom stored as HFS, FFS, HFP and FFP gives the same dose
// distribution in patient coordinates, through a real (small) transport run and the RT
// Dose written in each CT's own orientation, read back by sabre and by pydicom.
// The transport uses the hand-made test tables (tests/physics/photon/hand_tables.hh: two
// materials, water-like and bone-like) and local deposition of electrons: this test is
// about geometry, not physics data.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "beams/source.hh"
#include "engine/ct_calibration.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/rtdose.hh"
#include "engine/simulation.hh"
#include "tests/engine/io/io_test_util.hh"
#include "tests/physics/photon/hand_tables.hh"
#include "tests/support/skip.hh"

using namespace sabre;
using namespace sabre::phys;

namespace {

struct DepositChargedHere {  // TEST DOUBLE: electrons and positrons deposit where created
  template <class Scorer, class Stack>
  static void transport(const TransportParams& tp, Particle& p, Rng&, Scorer& scorer, Stack&) {
    const std::int64_t v = voxel_clamped(tp.phantom.grid, p.pos_cm);
    if (p.type == ParticleType::positron) {
      scorer.rest_mass(2 * kElectronMassMeV);
      scorer.deposit(v, p.energy_mev + 2 * kElectronMassMeV);
    } else {
      scorer.deposit(v, p.energy_mev);
    }
  }
};

struct Run {
  io::CtImage ct;
  DoseResult dose;
  std::string rtdose;
};

Run run_position(const std::string& position, const test::HandTables& tables) {
  PhantomSpec spec;
  spec.kind = "thorax";
  spec.size_mm = {160, 100, 45};
  spec.spacing_mm = 5;
  spec.slice_mm = 5;
  spec.position = position;
  const auto dir = test::io::write_phantom("transport_" + position, spec);
  Run r;
  r.ct = io::read_ct_series(dir.string());
  auto ph = build_phantom(r.ct, CtCalibration::load("ramp4"), nullptr, "");
  // Two test materials: bone-like above 1.2 g/cm^3, water-like below (densities kept).
  for (std::size_t v = 0; v < ph.material.size(); ++v) ph.material[v] = ph.density_g_cm3[v] > 1.2f ? 1 : 0;
  ph.material_names = {"water-like", "bone-like"};
  TransportParams tp;
  tp.phantom = ph.view();
  tp.materials = tables.data;
  // An anterior 6 MeV photon field (from -y towards +y) aimed at the left-lung lesion.
  beams::SimpleSource src;
  src.position_cm = {3.5, -100, 0};
  src.field_centre_cm = {3.5, 0, 0};
  src.u_dir = {1, 0, 0};
  src.v_dir = {0, 0, 1};
  src.u_min_cm = src.v_min_cm = -2;
  src.u_max_cm = src.v_max_cm = 2;
  src.mono_energy_mev = 6;
  SimulationSettings s;
  s.histories = 5000;
  s.batches = 10;
  s.seed = 2024;
  s.threads = 2;
  r.dose = simulate<DepositChargedHere>(tp, src, s).dose;
  r.dose.material = ph.material;
  r.dose.density_g_cm3 = ph.density_g_cm3;
  r.dose.material_names = ph.material_names;
  io::RtDoseOptions opt;
  opt.orientation = r.ct.orientation;
  opt.ids = r.ct.ids;
  r.rtdose = (dir.parent_path() / ("RD_transport_" + position + ".dcm")).string();
  io::write_rtdose(r.rtdose, r.dose, opt);
  return r;
}

}  // namespace

TEST_CASE("HFS, FFS, HFP, FFP: same dose in patient coordinates after transport and RT Dose",
          "[io][positions][transport]") {
  test::HandTables tables;
  const auto ref = run_position("HFS", tables);
  double dmax = 0;
  for (double d : ref.dose.dose_gy) dmax = std::max(dmax, d);
  REQUIRE(dmax > 0);
  const auto ref_back = io::read_rtdose(ref.rtdose);
  for (const std::string pos : {"FFS", "HFP", "FFP"}) {
    INFO(pos);
    const auto run = run_position(pos, tables);
    // Transport saw identical inputs in patient coordinates: bit-identical dose.
    REQUIRE(run.dose.dose_gy.size() == ref.dose.dose_gy.size());
    CHECK(std::memcmp(run.dose.dose_gy.data(), ref.dose.dose_gy.data(),
                      ref.dose.dose_gy.size() * sizeof(double)) == 0);
    // The RT Dose files are stored in different orientations...
    const auto back = io::read_rtdose(run.rtdose);
    CHECK(back.orientation.x == run.ct.orientation.x);
    CHECK(back.orientation.y == run.ct.orientation.y);
    // ...and read back to the same grid and dose in patient coordinates.
    CHECK(back.dose.grid.origin_cm.x == Approx(ref_back.dose.grid.origin_cm.x).margin(1e-6));
    CHECK(back.dose.grid.origin_cm.y == Approx(ref_back.dose.grid.origin_cm.y).margin(1e-6));
    CHECK(back.dose.grid.origin_cm.z == Approx(ref_back.dose.grid.origin_cm.z).margin(1e-6));
    CHECK(back.dose.dose_gy == ref_back.dose.dose_gy);
    // pydicom agrees: each file, placed in patient coordinates through its own IPP/IOP,
    // matches the HFS file.
    const auto r = test::run("/usr/bin/python3 " + std::string(SABRE_SOURCE_DIR) +
                             "/tests/engine/io/compare_rtdose_patient.py " + ref.rtdose + " " + run.rtdose);
    INFO(r.out << r.err);
    if (r.status == 77) {
      test::skip(r.out);
      return;
    }
    CHECK(r.status == 0);
  }
}
