// Dose from a plan, the parts shared by `sabre linac` and `sabre run`: choosing the machine
// model for a plan, preparing the transport (tables, majorant, safety map) for a phantom, and a water
// box. The calibration to Gy is engine/calibration.hh.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/plan.hh"
#include "engine/phantom.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/phantom_derived.hh"
#include "physics/transport/transport_params.hh"

namespace sabre {

// Machines directory of the data dir (<data>/beams/machines).
std::string default_machine_dir();

// The machine file a --machine argument names: a path to a .toml file, or a stem such as
// "truebeam-hd120" in the machines directory. InputError naming the file when it is missing.
std::string machine_file(const std::string& stem_or_path);

// The machine model and beam a plan needs. `machine`: "" = every machine file of the
// machines directory is a candidate (TreatmentMachineName decides); a stem such as
// "truebeam-hd120" or a path to a .toml file = only that one. All treatment beams must map
// to the same machine and beam model. InputError naming `plan_path` otherwise.
struct PlanMachine {
  beams::Machine machine;
  std::string beam_name;   // of machine.beams
  std::string file;        // machine file path
  const beams::BeamModel& beam() const;
};
PlanMachine choose_machine(const beams::Plan& plan, const std::string& machine,
                           const std::string& plan_path);

// A robotic machine's nodes must have their source and collimator outside the patient:
// InputError naming the plan and the node when a point of the line from the source to the
// bottom of the lowest collimator (2 mm steps) lies in a voxel of `phantom` denser than
// 0.05 g/cm^3. Nothing for a C-arm machine.
void check_nodes_outside_patient(const beams::Plan& plan, const beams::Machine& m, const Phantom& phantom,
                                 const std::string& plan_path);

// Tables, majorant, safety map and params for transport in `phantom` (which must outlive it).
struct TransportSetup {
  std::unique_ptr<phys::MaterialTables> tables;
  phys::PhantomDerivedStorage derived;  // majorant and safety map
  phys::TransportParams tp;
};
// Loads the table file (`tables_path` "" = the default set) and fills `s` for `phantom`.
void prepare_transport(TransportSetup& s, const Phantom& phantom, const std::string& tables_path);
// The same with tables already loaded (moved into `s`).
void prepare_transport(TransportSetup& s, const Phantom& phantom,
                       std::unique_ptr<phys::MaterialTables> tables);

// A water box (HFS patient frame, cm) of `size_cm` in `voxel_cm` voxels: x and z centred on
// `iso_cm`; y (depth for a gantry-0 beam, which travels +y) starting at `surface_y_cm`.
Phantom water_box(const std::array<double, 3>& size_cm, const std::array<double, 3>& voxel_cm,
                  const std::array<double, 3>& iso_cm, double surface_y_cm,
                  const phys::MaterialTables& tables);

}  // namespace sabre
