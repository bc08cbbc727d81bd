// sabre simulate FILE.toml: transport in a phantom described by a small text file
// (docs/phantom-file.md), on CPU threads or CUDA devices (--device auto|cpu[:N]|cuda[:N,M]);
// prints a summary, writes the dose as HDF5.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "cli/options.hh"
#include "cli/registry.hh"
#include "core/ranks.hh"
#include "core/errors.hh"
#include "engine/device_spec.hh"
#include "core/interrupt.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/tally_hdf5.hh"
#include "engine/simulate_phantom.hh"

namespace sabre::cli {
namespace {

struct SimulateOptions {
  std::string file;
  std::string output;
  std::int64_t histories = 0;
  int threads = -1;
  std::int64_t seed = -1;
  std::string device = "auto";
  std::string part;
  std::string checkpoint;
  double checkpoint_interval_s = 300;
  std::string resume;
};

void run_simulate(const SimulateOptions& o) {
  SimulateOverrides ov;
  if (o.histories != 0) {
    if (o.histories < 1) throw UsageError("--histories must be >= 1");
    ov.histories = o.histories;
  }
  if (o.threads != -1) {
    if (o.threads < 0) throw UsageError("--threads must be >= 0 (0 = all cores)");
    ov.threads = o.threads;
  }
  if (o.seed != -1) {
    if (o.seed < 0) throw UsageError("--seed must be >= 0");
    ov.seed = std::uint64_t(o.seed);
  }
  ov.device = parse_device_spec(o.device);  // UsageError (exit 2) on a bad string
  if (!o.part.empty()) std::tie(ov.part_index, ov.part_count) = parse_part(o.part);
  ov.checkpoint = o.checkpoint;
  if (!(o.checkpoint_interval_s > 0)) throw UsageError("--checkpoint-interval must be > 0 seconds");
  ov.checkpoint_interval_s = o.checkpoint_interval_s;
  ov.resume = o.resume;
  // The output path: --output wins over the file's [output] hdf5. Check it before work.
  std::string output = o.output;
  if (output.empty()) output = load_phantom_file(o.file).output;
  if (ov.part_count > 1 && output.empty())
    throw UsageError("--part needs an output file (-o): the part file is what `sabre merge` combines");
  if (!output.empty()) check_output_paths({output});
  interrupt::install_handlers();

  // Progress: a line per batch; the uncertainty (a pass over the dose's voxels) at most every
  // 5 s and after the last batch.
  double said_at = -1e9;
  const auto sim = simulate_phantom_file(o.file, ov, [&said_at](const BatchProgress& p) {
    if (!spdlog::should_log(spdlog::level::info)) return true;
    const bool with_u = p.batches_done >= 2 && (p.elapsed_s - said_at >= 5 || p.batches_done == p.batches_total);
    if (with_u) {
      said_at = p.elapsed_s;
      const double u = p.mean_rel_uncertainty_50 >= 0 ? p.mean_rel_uncertainty_50 : p.headline();
      spdlog::info("batch {}/{}: {} histories, {:.1f} s, mean uncertainty (>50% max) {:.2f} %", p.batches_done,
                   p.batches_total, p.histories_done, p.elapsed_s, 100 * u);
    } else {
      spdlog::info("batch {}/{}: {} histories, {:.1f} s", p.batches_done, p.batches_total, p.histories_done,
                   p.elapsed_s);
    }
    return true;
  });
  if (ranks::rank() != 0) return;  // MPI: rank 0 holds the result and reports
  const auto& d = sim.run.dose;
  const auto& b = sim.run.balance;
  double dmax = 0;
  for (double x : d.dose_gy) dmax = std::max(dmax, x);
  std::printf("histories: %lld in %d batches, seed %llu, %s\n", (long long)d.histories,
              d.batches, (unsigned long long)d.seed, d.device.c_str());
  std::printf("time: %.2f s (%.0f histories/s)\n", d.wall_seconds,
              d.wall_seconds > 0 ? double(d.histories) / d.wall_seconds : 0.0);
  std::printf("per-batch fold and stopping figure: %.3f s (%.1f %% of the transport)\n", sim.run.fold_seconds,
              d.wall_seconds > sim.run.fold_seconds
                  ? 100 * sim.run.fold_seconds / (d.wall_seconds - sim.run.fold_seconds)
                  : 0.0);
  std::size_t with_dose = 0;
  for (double x : d.dose_gy) with_dose += x > 0;
  std::printf("voxels with dose: %zu of %zu (%.2f %%)\n", with_dose, d.dose_gy.size(),
              d.dose_gy.empty() ? 0.0 : 100.0 * double(with_dose) / double(d.dose_gy.size()));
  std::printf("max dose: %.6e Gy/history\n", dmax);
  std::printf("mean relative uncertainty (voxels > 50%% of max): %.3f %%\n",
              100 * d.mean_rel_uncertainty_50);
  std::printf("energy [MeV/history]: emitted %.6f, rest mass %+.6f, deposited %.6f, "
              "below cut %.6f, escaped %.6f (imbalance %.2e)\n",
              b.emitted_mev / d.histories, b.rest_mass_mev / d.histories,
              b.deposited_mev / d.histories, b.below_cut_mev / d.histories,
              b.escaped_mev / d.histories, b.relative_imbalance());
  std::printf("  (emitted + rest mass = deposited + below cut + escaped. rest mass: -2 m c^2 per pair "
              "created, +2 m c^2 per positron annihilated; with photon or electron primaries it is below 0 by the "
              "rest mass of the positrons that left the grid (with a [world], its box). escaped: kinetic energy leaving it. "
              "docs/phantom-file.md)\n");
  if (b.stack_overflows)
    spdlog::warn("{} secondaries deposited locally because the stack was full", b.stack_overflows);
  if (!output.empty()) {
    // writes under a temporary name, renames on success; a part carries its tally
    if (ov.part_count > 1)
      io::write_dose_hdf5(output, d, [&](hid_t f) { io::write_tally_group(f, output, sim.run.tally, sim.tally_info); });
    else
      io::write_dose_hdf5(output, d);
    std::printf("%s written to %s\n", ov.part_count > 1 ? "part" : "dose", output.c_str());
  }
}

const bool registered = register_command(
    "simulate", "Run Monte Carlo transport in a phantom described by a TOML file",
    [](CLI::App& sub) {
      auto o = std::make_shared<SimulateOptions>();
      sub.add_option("file", o->file, "Phantom description file (docs/phantom-file.md)")
          ->required();
      sub.add_option("-o,--output", o->output, "Dose output file (HDF5, docs/hdf5-output.md)");
      sub.add_option("--histories", o->histories, "Number of primary histories");
      sub.add_option("--threads", o->threads, "CPU threads (0 = all cores)");
      sub.add_option("--seed", o->seed, "Random seed (>= 0)");
      sub.add_option("--device", o->device,
                     "auto (all CPU threads until the CUDA back end is validated on a GPU; then every GPU), cpu, cpu:N, cuda, cuda:N[,M...]")
          ->capture_default_str();
      sub.add_option("--part", o->part,
                     "K/N: run only part K (0-based) of N of the batches; `sabre merge` combines the parts "
                     "into the file one run would write, bit for bit");
      sub.add_option("--checkpoint", o->checkpoint,
                     "Write the tally to this file every --checkpoint-interval seconds and on SIGINT/SIGTERM");
      sub.add_option("--checkpoint-interval", o->checkpoint_interval_s, "Seconds between checkpoints")
          ->capture_default_str();
      sub.add_option("--resume", o->resume, "Continue from this checkpoint (same job, same part)");
      sub.callback([o] { run_simulate(*o); });
    });

}  // namespace
}  // namespace sabre::cli
