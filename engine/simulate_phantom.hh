// `sabre simulate`: a phantom description file (engine/phantom_file.hh) run on CPU threads
// or CUDA devices (--device, engine/device_spec.hh; default auto).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/device_spec.hh"
#include "engine/io/tally_hdf5.hh"
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
  // Parts and checkpoints (issue 22). part_count > 1: run only part part_index of
  // part_count (batches [B k / P, B (k + 1) / P)); the result carries the tally and its
  // TallyInfo, for a part file that `sabre merge` combines.
  int part_index = 0;
  int part_count = 1;
  // Write the tally to this file every checkpoint_interval_s seconds and when a signal
  // stops the run (a dose file of the batches done, with /tally); "" = none.
  std::string checkpoint;
  double checkpoint_interval_s = 300;
  // Continue from this checkpoint (of the same job and part): InputError naming it when it
  // belongs to another job.
  std::string resume;
};

struct PhantomSimulation {
  SimulationRun run;   // dose (with material map and provenance), energy balance, tally
  io::TallyInfo tally_info;  // identifies the job and the batches in run.tally
  PhantomFile file;    // after overrides
  std::string tables_path;
};

// Resolves the device (DeviceError before any work when CUDA is asked for and absent),
// loads the tables, builds phantom and source, runs. InputError / RuntimeError on
// problems; `hook` as in run_batches (the interrupt flag is polled after each batch).
PhantomSimulation simulate_phantom_file(const std::string& path, const SimulateOverrides& ov,
                                        const ProgressHook& hook = {});

// `sabre merge`: combines the part files of one `sabre simulate --part K/N` job into the
// dose one run of the whole job gives, bit for bit (dose, uncertainty). InputError naming
// the file when a part belongs to another job, is missing, repeated or incomplete.
DoseResult merge_part_files(const std::vector<std::string>& paths);

// The default physics table file (<data dir>/physics/data/default.h5).
std::string default_tables_path();

}  // namespace sabre
