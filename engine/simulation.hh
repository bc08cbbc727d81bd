// Host execution of a transport run on all CPU cores, in batches, with batch statistics.
//
// Histories 0..N-1 are split into B >= 10 batches of consecutive indices (batch b holds
// [b N / B, (b+1) N / B)). Within a batch the threads take chunks of histories from a
// shared counter and add their energy into one 64-bit fixed-point array
// (kernels/transport.hh), so the batch's per-voxel energy is an integer that does not
// depend on the thread count or order. Batches are folded in order into double sums
// (S1 = sum of batch energies, S2 = sum of squares of per-history batch means), so the
// same seed and N give a bit-identical dose and uncertainty on any number of threads.
//
// Statistics (batch method): with x_b = E_b / n_b the mean energy per history of batch b,
//   dose D = (sum_b E_b) / N / (rho V),
//   s^2(mean) = sum_b (x_b - xbar)^2 / (B (B - 1)),  xbar = sum_b x_b / B,
//   relative uncertainty = s / xbar (0 where the voxel got no energy).
// The headline figure is the mean relative uncertainty over voxels whose dose exceeds
// 50 % of the maximum dose.
//
// Open-ended runs (target uncertainty, time limit): with `batch_histories` > 0 the batches
// hold that many consecutive histories each (the last one the remainder) and `histories` is
// the most the run may take; the progress hook decides when to stop. Batch b always holds
// the same history indices, so a run stopped after b batches gives the same dose as a
// fixed run of those histories split the same way.
//
// Stopping: after each batch a progress hook is called (batches run in order); it may
// stop the run early (target uncertainty, time limit, interrupt). A stopped run reports
// the batches completed (>= 2 needed for an uncertainty).
//
// Exact tallies, parts, checkpoints (issue 22): the batches are folded into a BatchTally
// (engine/tally.hh: integer sums per voxel, order-free), from which dose and uncertainty are
// computed. A run may do only batches [first_batch, end_batch) (a part of a job), start from
// a tally of batches already done (`resume`: a checkpoint), and hand its tally to a
// `checkpoint` callback after a batch when checkpoint_due() says so, and when the progress
// hook throws (an interrupt: SIGTERM from a scheduler). Tallies of disjoint batch ranges
// merge (BatchTally::merge) into exactly the tally of one run over all of them, so the dose
// and uncertainty of parts merged, or of a resumed run, are bit for bit those of one run.
//
// MPI ranks (core/ranks.hh): with R > 1 ranks, batches go out in rounds of R (rank r runs
// batch b0 + r), rank 0 receives them and folds them in batch order, calling the progress
// hook and the checkpoint after each batch as one process would; its verdict (continue,
// stop, interrupted) is broadcast after each round. Batches of a round after a stop are
// discarded, so a stop by target uncertainty or time limit falls on the same batch as in
// one process. Only rank 0's SimulationRun holds the result; the other ranks return an
// empty tally (their callers write nothing). An interrupt on rank 0 (SIGTERM forwarded by
// mpirun) stops every rank with Interrupted.
//
// Region tallies: `regions` (optional) lists voxel masks, e.g. the calibration region; for
// each completed batch the run also returns the energy deposited in each region
// (SimulationRun::region_energy_mev[r][b], and the batch's histories in batch_histories[b]),
// and hands them to the progress hook. The batch-to-batch spread of a region's energy per
// history is the uncertainty of the region's mean dose with the correlations between its
// voxels included (which the per-voxel errors in quadrature leave out): see
// region_batch_mean(). The tallies read the batch's integer array before it is folded and
// change nothing else: the dose and its uncertainty are bit-identical with or without them.
//
// Back ends: a batch's histories are handed to a BatchBackend — CPU threads (HostBackend)
// or CUDA devices (engine/cuda_backend.hh) — which adds their fixed-point energy into the
// batch array. The fold into the statistics is the same for all back ends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "engine/dose_result.hh"
#include "engine/tally.hh"
#include "kernels/transport.hh"
#include "physics/transport/transport_params.hh"

namespace sabre {

struct SimulationSettings {
  std::int64_t histories = 0;    // N (> 0)
  int batches = 10;              // B (>= 10 unless a test says otherwise; >= 2)
  std::uint64_t seed = 1;
  int threads = 0;               // 0: all hardware threads
  std::int64_t chunk = 64;       // histories a thread takes at a time
  std::int64_t batch_histories = 0;  // > 0: open-ended batches of this size (see above)
  // Voxels that count for the headline uncertainty (maximum and 50 % threshold), e.g. the
  // patient without the air around it; nullptr = all voxels. Must outlive the run.
  const std::vector<std::uint8_t>* headline_mask = nullptr;
  // Regions whose energy is tallied per batch (see above): one mask per region, grid.size()
  // entries, nonzero = in the region. nullptr or empty = none. Must outlive the run.
  const std::vector<std::vector<std::uint8_t>>* regions = nullptr;
  // Each completed batch's energy array (integer quanta, grid.size() entries, as the batch
  // left it before the fold) appended here, for the batch-to-batch spread of any linear
  // read-out of the dose (commissioning's curves: their points share voxels and layers, so
  // the per-voxel uncertainties do not give theirs). nullptr = not kept. 8 bytes per voxel
  // and batch. Must outlive the run; not with parts, checkpoints or MPI ranks.
  std::vector<std::vector<std::int64_t>>* batch_energy = nullptr;
  // Parts and checkpoints (see above). end_batch -1: to the last batch. `resume`: the tally
  // of batches done before first_batch (must outlive the call). Not with `regions`.
  int first_batch = 0;
  int end_batch = -1;
  const BatchTally* resume = nullptr;
  // Compute the stopping figure (BatchProgress::mean_rel_uncertainty_50) after every batch.
  // It costs a pass over the voxels that have dose, which on a large grid can rival a small
  // batch's transport: runs that stop on no figure turn it off (the hook can still ask).
  bool headline_each_batch = true;
  // MPI (core/ranks.hh): with more than one rank the batches are shared among the ranks and
  // folded on rank 0 (the same tally, the same stops, bit for bit); false: every rank runs
  // the whole run by itself (a calibration each rank needs, deterministic and identical).
  bool distribute_over_ranks = true;
};

// What a checkpoint holds: the tally of the batches done, the next batch to run.
struct CheckpointState {
  const BatchTally* tally = nullptr;
  int next_batch = 0;
  bool interrupted = false;  // written because the run is being stopped by a signal
};
struct CheckpointHooks {
  std::function<bool()> due;                             // asked after each batch
  std::function<void(const CheckpointState&)> write;     // writes the checkpoint
};

// Number of batches and the history range of batch b under these settings.
int batch_count(const SimulationSettings& s);
std::pair<std::int64_t, std::int64_t> batch_range(const SimulationSettings& s, int b);

struct BatchProgress {
  int batches_done = 0;
  int batches_total = 0;
  std::int64_t histories_done = 0;
  double elapsed_s = 0;
  // From the batches so far (0 before 2 batches); -1 when settings.headline_each_batch is
  // false (a fixed-count run that stops on nothing else): then headline() computes it on
  // demand, for a hook that reports it now and then.
  double mean_rel_uncertainty_50 = 0;
  std::function<double()> headline;
  // With settings.regions: the histories of each completed batch and the energy [MeV] each
  // region received in it ([region][batch]); nullptr otherwise.
  const std::vector<std::int64_t>* batch_histories = nullptr;
  const std::vector<std::vector<double>>* region_energy_mev = nullptr;
};

// Return false to stop after this batch.
using ProgressHook = std::function<bool(const BatchProgress&)>;

// Transports histories [first, first + count) into the scorer; called from many threads
// at once with different ranges (must be thread-safe for distinct scorers and stacks).
using HistoryRangeFn = std::function<void(std::uint64_t first, std::uint64_t count,
                                          kernels::HostScorer&, kernels::HostStack&)>;

// Runs the histories of one batch (or part of it) and ADDS their energy per voxel, in
// fixed point (kernels::kEnergyQuantaPerMeV), into `energy_fp` (grid.size() entries) and
// their bookkeeping into `balance`. Integer addition: the result does not depend on how
// the back end splits or orders the work.
class BatchBackend {
 public:
  virtual ~BatchBackend() = default;
  virtual void run_range(std::uint64_t first, std::uint64_t count,
                         std::vector<std::int64_t>& energy_fp,
                         kernels::EnergyBalance& balance) = 0;
  // run_range that also appends to `touched` every voxel whose energy_fp entry went from 0
  // to nonzero (each once), so that the fold can skip the rest of the grid. Returns false
  // when the back end does not track them (the default) or gave up listing them (a batch
  // that touches much of the grid): then `touched` is not used and the whole array is scanned.
  virtual bool run_range_tracked(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                                 kernels::EnergyBalance& balance, std::vector<std::int64_t>& touched) {
    (void)touched;
    run_range(first, count, energy_fp, balance);
    return false;
  }
  virtual std::string description() const = 0;  // e.g. "cpu:2 threads", "cuda:0,1"
};

// CPU threads taking chunks of histories from a shared counter.
class HostBackend final : public BatchBackend {
 public:
  HostBackend(HistoryRangeFn fn, int threads, std::int64_t chunk = 64);
  ~HostBackend() override;
  void run_range(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                 kernels::EnergyBalance& balance) override;
  bool run_range_tracked(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                         kernels::EnergyBalance& balance, std::vector<std::int64_t>& touched) override;
  std::string description() const override;
  int threads() const { return nthreads_; }

 private:
  // Returns whether `touched` lists the batch's voxels (false: not asked, or a list overflowed).
  bool run_threads(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                   kernels::EnergyBalance& balance, std::vector<std::int64_t>* touched);
  HistoryRangeFn fn_;
  int nthreads_;
  std::int64_t chunk_;
  std::vector<std::unique_ptr<kernels::HostStack>> stacks_;
};

struct SimulationRun {
  DoseResult dose;                 // filled except material maps/provenance
  BatchTally tally;                // the exact sums behind dose (parts, checkpoints)
  int next_batch = 0;              // the batch after the last one done
  kernels::EnergyBalance balance;  // summed over threads (diagnostic)
  double fold_seconds = 0;         // spent folding batches and computing the stopping figure
  // With settings.regions: histories per completed batch, and [region][batch] energy [MeV].
  std::vector<std::int64_t> batch_histories;
  std::vector<std::vector<double>> region_energy_mev;
};

// The batch estimate of a region's mean energy per history and its relative 1-sigma, from
// per-batch energies e_b and histories n_b (b < B, B >= 2): x_b = e_b / n_b,
// mean = sum_b e_b / sum_b n_b, s^2 = sum_b (x_b - xbar)^2 / (B (B - 1)) with xbar the plain
// mean of the x_b (the per-voxel batch method applied to the region's sum), relative
// 1-sigma = s / xbar (0 when xbar <= 0). With B < 2 the uncertainty is 0.
struct RegionEstimate {
  double mean_per_history = 0;
  double rel_uncertainty = 0;
  int batches = 0;
};
RegionEstimate region_batch_mean(const std::vector<double>& energy_mev,
                                 const std::vector<std::int64_t>& histories);

// Runs the batches. `phantom` gives the grid and densities (dose = energy / (rho V)).
SimulationRun run_batches(const phys::PhantomView& phantom, const SimulationSettings& settings,
                          BatchBackend& backend, const ProgressHook& hook = {},
                          const CheckpointHooks& checkpoint = {});

// The dose result (dose, uncertainty, headline figure, counts) of a tally in a phantom:
// what run_batches returns, and what a merge of parts or a resumed run recomputes.
void fill_dose_from_tally(const phys::PhantomView& phantom, const BatchTally& tally,
                          const std::vector<std::uint8_t>* headline_mask, DoseResult& dose);

// The same on CPU threads (settings.threads, settings.chunk).
SimulationRun run_batches(const phys::PhantomView& phantom, const SimulationSettings& settings,
                          const HistoryRangeFn& range_fn, const ProgressHook& hook = {},
                          const CheckpointHooks& checkpoint = {});

// The transport of histories for a source type, with the charged-particle policy:
// convenience wrapper building the HistoryRangeFn.
template <class Charged, class Source>
SimulationRun simulate(const phys::TransportParams& tp, const Source& source,
                       const SimulationSettings& settings, const ProgressHook& hook = {}) {
  const std::uint64_t seed = settings.seed;
  HistoryRangeFn fn = [&tp, &source, seed](std::uint64_t first, std::uint64_t count,
                                           kernels::HostScorer& sc, kernels::HostStack& st) {
    kernels::transport_range_host<Charged>(tp, source, seed, first, count, sc, st);
  };
  return run_batches(tp.phantom, settings, fn, hook);
}

// Mean relative uncertainty over voxels with dose > 50 % of the maximum (0 if none).
double mean_rel_uncertainty_above_half_max(const std::vector<double>& dose,
                                           const std::vector<double>& rel_unc);
// The same over the voxels with mask[v] != 0 (maximum and mean both within the mask).
double mean_rel_uncertainty_above_half_max(const std::vector<double>& dose,
                                           const std::vector<double>& rel_unc,
                                           const std::vector<std::uint8_t>& mask);

// Number of threads `threads` means on this machine (0 -> hardware concurrency, >= 1).
int resolve_thread_count(int threads);

}  // namespace sabre
