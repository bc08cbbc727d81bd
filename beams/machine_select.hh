// Which machine model serves a plan's beam. Host only.
#pragma once

#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/plan.hh"

namespace sabre::beams {

// The machine model for a beam, among `machines`: TreatmentMachineName must match one of a
// model's match_names, the beam's energy and FFF flag one of its beams, its
// SourceAxisDistance the model's (0.1 mm), and every beam-limiting device of the beam must
// be one the model has (or declares ignored), an MLC with the model's number of leaf
// pairs and leaf boundaries (0.01 mm), and an applicator one of the model's cones. When no
// model matches, throws InputError (one line) naming the plan file, the beam, and for each
// candidate why it does not serve the beam.
struct MachineChoice {
  const Machine* machine = nullptr;
  const BeamModel* beam = nullptr;
};
MachineChoice select_machine(const Beam& beam, const std::vector<Machine>& machines,
                             const std::string& plan_path);

// Why `m` cannot deliver `beam` ("" when it can): the checks of select_machine.
std::string mismatch(const Beam& beam, const Machine& m);

}  // namespace sabre::beams
