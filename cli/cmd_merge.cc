// sabre merge -o OUT PART...: combines the part files of one `sabre simulate --part K/N`
// job into the dose file one run of the whole job writes (dose and uncertainty bit for bit;
// engine/tally.hh). Refuses parts of different jobs, a missing, repeated or incomplete part.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/registry.hh"
#include "core/errors.hh"
#include "core/output_file.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/simulate_phantom.hh"

namespace sabre::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> parts;
  std::string output;
};

void run_merge(const MergeOptions& o) {
  check_output_paths({o.output});
  const DoseResult d = merge_part_files(o.parts);
  io::write_dose_hdf5(o.output, d);
  std::printf("merged %zu parts: %lld histories in %d batches, seed %llu\n", o.parts.size(),
              (long long)d.histories, d.batches, (unsigned long long)d.seed);
  std::printf("mean relative uncertainty (voxels > 50%% of max): %.3f %%\n", 100 * d.mean_rel_uncertainty_50);
  std::printf("dose written to %s\n", o.output.c_str());
}

const bool registered = register_command(
    "merge", "Combine the part files of a `sabre simulate --part K/N` job into one dose file",
    [](CLI::App& sub) {
      auto o = std::make_shared<MergeOptions>();
      sub.add_option("parts", o->parts, "Part files (HDF5 with /tally), every part of the job once")
          ->required();
      sub.add_option("-o,--output", o->output, "Merged dose file (HDF5)")->required();
      sub.callback([o] { run_merge(*o); });
    });

}  // namespace
}  // namespace sabre::cli
