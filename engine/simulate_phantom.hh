// `sabre simulate`: a phantom description file (engine/phantom_file.hh) run on CPU threads
// or CUDA devices (--device, engine/device_spec.hh; default auto).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/device_spec.hh"
#include "engine/phantom_file.hh"
#include "engine/simulation.hh"

namespace sabre {

struct SimulateOverrides {  // command-line values that win over the file's
  std::optional<std::int64_t> histories;
  std::optional<int> threads;
  std::optional<std::uint64_t> seed;
  // Where to run (parsed --device). Unset: auto. With kind cpu and no thread count, the
  // file's (or --threads') thread count applies.
  std::optional<DeviceSpec> device;
};

struct PhantomSimulation {
  SimulationRun run;   // dose (with material map and provenance), energy balance
  PhantomFile file;    // after overrides
  std::string tables_path;
};

// Resolves the device (DeviceError before any work when CUDA is asked for and absent),
// loads the tables, builds phantom and source, runs. InputError / RuntimeError on
// problems; `hook` as in run_batches (the interrupt flag is polled after each batch).
PhantomSimulation simulate_phantom_file(const std::string& path, const SimulateOverrides& ov,
                                        const ProgressHook& hook = {});

// The default physics table file (<data dir>/physics/data/default.h5).
std::string default_tables_path();

}  // namespace sabre
