// Which machine model serves a plan's beam, and why the others do not.
#include <catch2/catch.hpp>

#include <algorithm>

#include "beams/machine.hh"
#include "beams/machine_select.hh"
#include "beams/plan_builder.hh"
#include "core/errors.hh"

using namespace sabre;
using namespace sabre::beams;

namespace {
std::vector<Machine> bundled() {
  std::vector<Machine> v;
  for (const auto& f : machine_files(std::string(SABRE_SOURCE_DIR) + "/beams/machines")) v.push_back(load_machine(f));
  return v;
}
}  // namespace

TEST_CASE("machine selection by name, energy, FFF and MLC", "[rtplan]") {
  const auto machines = bundled();
  const Machine& mil = *std::find_if(machines.begin(), machines.end(),
                                     [](const Machine& m) { return m.name == "TrueBeam-Millennium120"; });
  const Machine& hd = *std::find_if(machines.begin(), machines.end(),
                                    [](const Machine& m) { return m.name == "TrueBeam-HD120"; });
  FieldSpec f = field_for(mil, mil.beams.at(0));
  f.machine_name = "TrueBeam2";
  Beam b = make_static_beam(f, 1, "s");
  auto c = select_machine(b, machines, "p.dcm");
  CHECK(c.machine->name == "TrueBeam-Millennium120");
  CHECK(c.beam->name == "6X-FFF");
  f.devices = plan_devices(hd);
  f.energy_mv = 10;
  b = make_static_beam(f, 1, "s");
  c = select_machine(b, machines, "p.dcm");
  CHECK(c.machine->name == "TrueBeam-HD120");
  CHECK(c.beam->name == "10X-FFF");
  // Flattened 6 MV: not modelled -> a clear error naming the file, beam and what was tried.
  f.fff = false;
  b = make_static_beam(f, 4, "open");
  try {
    select_machine(b, machines, "p.dcm");
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.rfind("p.dcm: beam 4 'open': no machine model for TreatmentMachineName 'TrueBeam2', 10 MV (flattened)", 0) == 0);
    CHECK(m.find("no 10 MV beam") != std::string::npos);
  }
  f.fff = true;
  f.machine_name = "Halcyon1";
  b = make_static_beam(f, 1, "s");
  CHECK_THROWS_WITH(select_machine(b, machines, "p.dcm"), Catch::Contains("machine name does not match"));
}

TEST_CASE("machine selection checks the devices, the leaf boundaries and the SAD", "[machine_select]") {
  const auto machines = bundled();
  const Machine& hd = *std::find_if(machines.begin(), machines.end(),
                                    [](const Machine& m) { return m.name == "TrueBeam-HD120"; });
  FieldSpec f = field_for(hd, hd.beams.at(0));
  Beam b = make_static_beam(f, 1, "s");
  CHECK(mismatch(b, hd).empty());
  Beam moved = b;
  moved.devices[2].boundaries_mm[30] += 0.05;  // one boundary 0.05 mm off
  CHECK_THAT(mismatch(moved, hd), Catch::Contains("leaf boundary 30"));
  Beam y = b;
  y.devices[2].type = "MLCY";
  CHECK(mismatch(y, hd) == "no device MLCY");
  Beam fewer = b;
  fewer.devices[2].pairs = 59;
  fewer.devices[2].boundaries_mm.pop_back();
  CHECK_THAT(mismatch(fewer, hd), Catch::Contains("has 60 leaf pairs, plan 59"));
  Beam sad = b;
  sad.sad_mm = 800;
  CHECK_THAT(mismatch(sad, hd), Catch::Contains("source-axis distance 1000 mm, plan has 800 mm"));
  // Jaws only (no MLC in the plan) are served.
  Beam jaws = b;
  jaws.devices.pop_back();
  CHECK(mismatch(jaws, hd).empty());
}

TEST_CASE("a beam with a cone needs a machine with that cone", "[machine_select][cone]") {
  const auto machines = bundled();
  Machine m = *std::find_if(machines.begin(), machines.end(),
                            [](const Machine& x) { return x.name == "TrueBeam-HD120"; });
  FieldSpec f = field_for(m, m.beams.at(0));
  f.cone_applicator_type = "STEREOTACTIC";
  f.cone_mm = 10;
  const Beam b = make_static_beam(f, 1, "cone");
  CHECK(mismatch(b, m) == "no cone for applicator type STEREOTACTIC");
  CollimatorSpec cone;
  cone.kind = CollimatorKind::cone;
  cone.applicator_types = {"STEREOTACTIC"};
  cone.diameters_cm = {0.5, 1.5};
  m.collimators.push_back(cone);
  CHECK(mismatch(b, m) == "no 10 mm cone");
  m.collimators.back().diameters_cm.push_back(1.0);
  CHECK(mismatch(b, m).empty());
}
