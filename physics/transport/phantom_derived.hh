// What the transport derives from one phantom before it runs (host only): the Woodcock
// majorant over the phantom's materials (majorant.hh), its blocks (block_majorant.hh) and
// the far-step safety map (step_safety.hh). Every engine path that transports in a phantom
// needs all of them; this keeps them together so that no path can take one and forget another.
#pragma once

#include <vector>

#include "physics/transport/block_majorant.hh"
#include "physics/transport/majorant.hh"
#include "physics/transport/step_safety.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

struct PhantomDerivedStorage {
  std::vector<double> majorant;  // use_phantom_majorant's row
  StepSafetyStorage safety;      // use_step_safety's map
  BlockMajorantStorage blocks;   // use_block_majorant's blocks
};

// Computes all three for tp.phantom (with tp.materials set) into `storage` and points tp at them
// (`storage` must outlive tp's use).
void use_phantom_derived_data(TransportParams& tp, PhantomDerivedStorage& storage);

}  // namespace sabre::phys
