// Host batch runner (see engine/simulation.hh for the method and formulas).
#include "engine/simulation.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <cmath>
#include <memory>
#include <thread>

#include "core/errors.hh"
#include "core/ranks.hh"
#include "physics/core/constants.hh"

namespace sabre {

int resolve_thread_count(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? int(hw) : 1;
}

double mean_rel_uncertainty_above_half_max(const std::vector<double>& dose,
                                           const std::vector<double>& rel_unc) {
  double dmax = 0;
  for (double d : dose) dmax = std::max(dmax, d);
  if (!(dmax > 0)) return 0;
  double sum = 0;
  std::int64_t n = 0;
  for (std::size_t v = 0; v < dose.size(); ++v) {
    if (dose[v] > 0.5 * dmax) {
      sum += rel_unc[v];
      ++n;
    }
  }
  return n ? sum / double(n) : 0;
}

double mean_rel_uncertainty_above_half_max(const std::vector<double>& dose,
                                           const std::vector<double>& rel_unc,
                                           const std::vector<std::uint8_t>& mask) {
  SABRE_EXPECT(mask.size() == dose.size(), "headline mask size differs from the dose grid");
  double dmax = 0;
  for (std::size_t v = 0; v < dose.size(); ++v)
    if (mask[v]) dmax = std::max(dmax, dose[v]);
  if (!(dmax > 0)) return 0;
  double sum = 0;
  std::int64_t n = 0;
  for (std::size_t v = 0; v < dose.size(); ++v) {
    if (mask[v] && dose[v] > 0.5 * dmax) {
      sum += rel_unc[v];
      ++n;
    }
  }
  return n ? sum / double(n) : 0;
}

RegionEstimate region_batch_mean(const std::vector<double>& energy_mev,
                                 const std::vector<std::int64_t>& histories) {
  SABRE_EXPECT(energy_mev.size() == histories.size(), "region tally: energies and histories differ in length");
  RegionEstimate r;
  r.batches = int(energy_mev.size());
  double e = 0, n = 0, sx = 0;
  for (std::size_t b = 0; b < energy_mev.size(); ++b) {
    e += energy_mev[b];
    n += double(histories[b]);
    sx += energy_mev[b] / double(histories[b]);
  }
  if (n > 0) r.mean_per_history = e / n;
  if (r.batches >= 2) {
    const double xbar = sx / r.batches;
    double ss = 0;
    for (std::size_t b = 0; b < energy_mev.size(); ++b) {
      const double dx = energy_mev[b] / double(histories[b]) - xbar;
      ss += dx * dx;
    }
    if (xbar > 0) r.rel_uncertainty = std::sqrt(ss / (double(r.batches) * (r.batches - 1.0))) / xbar;
  }
  return r;
}

int batch_count(const SimulationSettings& s) {
  if (s.batch_histories > 0) {
    const std::int64_t b = (s.histories + s.batch_histories - 1) / s.batch_histories;
    if (b > std::int64_t(1) << 30) throw UsageError("too many batches (histories / batch size)");
    return int(b);
  }
  return s.batches;
}

std::pair<std::int64_t, std::int64_t> batch_range(const SimulationSettings& s, int b) {
  if (s.batch_histories > 0) {
    const std::int64_t first = std::int64_t(b) * s.batch_histories;
    return {first, std::min(s.histories, first + s.batch_histories)};
  }
  return {s.histories * b / s.batches, s.histories * (b + 1) / s.batches};
}

HostBackend::HostBackend(HistoryRangeFn fn, int threads, std::int64_t chunk)
    : fn_(std::move(fn)), nthreads_(resolve_thread_count(threads)),
      chunk_(std::max<std::int64_t>(1, chunk)) {
  for (int t = 0; t < nthreads_; ++t) stacks_.push_back(std::make_unique<kernels::HostStack>());
}

HostBackend::~HostBackend() = default;

std::string HostBackend::description() const {
  return "cpu:" + std::to_string(nthreads_) + (nthreads_ == 1 ? " thread" : " threads");
}

void HostBackend::run_range(std::uint64_t first, std::uint64_t count,
                            std::vector<std::int64_t>& energy_fp,
                            kernels::EnergyBalance& balance) {
  run_threads(first, count, energy_fp, balance, nullptr);
}

bool HostBackend::run_range_tracked(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                                    kernels::EnergyBalance& balance, std::vector<std::int64_t>& touched) {
  return run_threads(first, count, energy_fp, balance, &touched);
}

bool HostBackend::run_threads(std::uint64_t first, std::uint64_t count, std::vector<std::int64_t>& energy_fp,
                              kernels::EnergyBalance& balance, std::vector<std::int64_t>* touched) {
  const std::int64_t last = std::int64_t(first + count);
  std::atomic<std::int64_t> next{std::int64_t(first)};
  std::vector<kernels::EnergyBalance> thread_balance(nthreads_);
  std::vector<std::vector<std::int64_t>> thread_touched(touched ? nthreads_ : 0);
  // Lists of at most 1/8 of the grid in all (1 byte per voxel): a batch that touches more is
  // folded by a scan of the grid, which then costs about what walking the list would.
  const std::size_t cap = std::max<std::size_t>(4096, energy_fp.size() / 8 / std::size_t(nthreads_));
  std::atomic<bool> overflow{false};
  auto worker = [&](int t) {
    kernels::HostScorer scorer;
    scorer.energy_fp = energy_fp.data();
    if (touched) {
      scorer.touched = &thread_touched[t];
      scorer.touched_cap = cap;
    }
    for (;;) {
      const std::int64_t a = next.fetch_add(chunk_);
      if (a >= last) break;
      const std::int64_t n = std::min(chunk_, last - a);
      fn_(std::uint64_t(a), std::uint64_t(n), scorer, *stacks_[t]);
    }
    thread_balance[t].add(scorer.balance);
    if (scorer.touched_overflow) overflow = true;
  };
  if (nthreads_ == 1) {
    worker(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < nthreads_; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();
  }
  for (const auto& tb : thread_balance) balance.add(tb);
  if (!touched || overflow) return false;
  for (const auto& tt : thread_touched) touched->insert(touched->end(), tt.begin(), tt.end());
  return true;
}

SimulationRun run_batches(const phys::PhantomView& phantom, const SimulationSettings& settings,
                          const HistoryRangeFn& range_fn, const ProgressHook& hook,
                          const CheckpointHooks& checkpoint) {
  HostBackend backend(range_fn, settings.threads, settings.chunk);
  return run_batches(phantom, settings, backend, hook, checkpoint);
}

namespace {

std::vector<double> balance_vector(const kernels::EnergyBalance& b) {
  return {b.emitted_mev, b.rest_mass_mev, b.deposited_mev, b.below_cut_mev, b.escaped_mev,
          double(b.stack_overflows), double(b.histories)};
}

kernels::EnergyBalance balance_from(const std::vector<double>& v) {
  kernels::EnergyBalance b;
  b.emitted_mev = v[0];
  b.rest_mass_mev = v[1];
  b.deposited_mev = v[2];
  b.below_cut_mev = v[3];
  b.escaped_mev = v[4];
  b.stack_overflows = std::uint64_t(v[5]);
  b.histories = std::uint64_t(v[6]);
  return b;
}

// Folds batch `b` (its `n` histories' energies in batch_fp, cleared) into the run's tally,
// writes the checkpoint when due and calls the progress hook: what follows every batch, in
// one process or on rank 0. Returns the hook's verdict (false: stop).
bool fold_batch(const phys::PhantomView& phantom, const SimulationSettings& settings, const ProgressHook& hook,
                const CheckpointHooks& checkpoint, int nbatches, std::chrono::steady_clock::time_point t0, int b,
                std::int64_t n, std::vector<std::int64_t>& batch_fp, SimulationRun& run,
                const std::vector<std::int64_t>* touched = nullptr) {
  const auto f0 = std::chrono::steady_clock::now();
  run.tally.add_batch(n, batch_fp, touched);  // exact; clears batch_fp (only `touched`, when known)
  run.next_batch = b + 1;
  if (checkpoint.write && checkpoint.due && checkpoint.due()) checkpoint.write({&run.tally, run.next_batch, false});
  if (!hook) {
    run.fold_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
    return true;
  }
  BatchProgress p;
  p.batches_done = int(run.tally.batches());
  p.batches_total = nbatches;
  p.histories_done = run.tally.histories();
  p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!run.region_energy_mev.empty()) {
    p.batch_histories = &run.batch_histories;
    p.region_energy_mev = &run.region_energy_mev;
  }
  p.headline = [&] {
    return p.batches_done >= 2 ? run.tally.headline_uncertainty(phantom, settings.headline_mask) : 0.0;
  };
  p.mean_rel_uncertainty_50 = settings.headline_each_batch ? p.headline() : -1;
  run.fold_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
  return hook(p);
}

// The dose result of the run's tally, and what describes the run.
void finish_run(const phys::PhantomView& phantom, const SimulationSettings& settings, const std::string& device,
                std::chrono::steady_clock::time_point t0, SimulationRun& run) {
  fill_dose_from_tally(phantom, run.tally, settings.headline_mask, run.dose);
  run.dose.seed = settings.seed;
  run.dose.device = device;
  run.dose.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The MPI rounds of run_batches (see engine/simulation.hh).
void run_rounds(const phys::PhantomView& phantom, const SimulationSettings& settings, BatchBackend& backend,
                const ProgressHook& hook, const CheckpointHooks& checkpoint, int end_batch, int nbatches,
                std::chrono::steady_clock::time_point t0, std::vector<std::int64_t>& batch_fp, SimulationRun& run) {
  const int nr = ranks::size(), me = ranks::rank();
  enum Verdict { kContinue = 0, kStop = 1, kInterrupted = 2 };
  std::vector<std::int64_t> recv(batch_fp.size(), 0);
  std::vector<double> recv_balance(7, 0.0);
  for (int b0 = run.next_batch; b0 < end_batch; b0 += nr) {
    const int mine = b0 + me;
    kernels::EnergyBalance bal;
    if (mine < end_batch) {
      const auto [first, last] = batch_range(settings, mine);
      backend.run_range(std::uint64_t(first), std::uint64_t(last - first), batch_fp, bal);
    }
    if (me != 0) {
      if (mine < end_batch) {
        ranks::send_to_root(batch_fp, balance_vector(bal));
        std::fill(batch_fp.begin(), batch_fp.end(), 0);
      }
      const int v = ranks::broadcast(kContinue);
      if (v == kInterrupted) throw Interrupted("interrupted (rank 0 stopped the run)");
      if (v == kStop) return;
      continue;
    }
    // rank 0: the round's batches in batch order, the stop rules after each
    run.balance.add(bal);
    bool stopped = false;
    std::exception_ptr error;
    for (int r = 0; r < nr && b0 + r < end_batch; ++r) {
      const auto [first, last] = batch_range(settings, b0 + r);
      std::vector<std::int64_t>& q = r == 0 ? batch_fp : recv;
      if (r > 0) {
        ranks::receive_from(r, recv, recv_balance);
        run.balance.add(balance_from(recv_balance));
      }
      if (stopped || error) {
        std::fill(q.begin(), q.end(), 0);  // received to keep the ranks in step, then discarded
        continue;
      }
      try {
        if (!fold_batch(phantom, settings, hook, checkpoint, nbatches, t0, b0 + r, last - first, q, run))
          stopped = true;
      } catch (...) {
        error = std::current_exception();
        std::fill(q.begin(), q.end(), 0);
      }
    }
    if (error) {
      bool interrupted = false;
      try {
        std::rethrow_exception(error);
      } catch (const Interrupted&) {
        interrupted = true;
      } catch (...) {
      }
      // An interrupt stops every rank in step (exit 5 everywhere, rank 0 keeps the checkpoint);
      // any other error propagates and the caller ends all ranks (cli/main.cc: MPI_Abort).
      if (interrupted) {
        ranks::broadcast(kInterrupted);
        if (checkpoint.write) checkpoint.write({&run.tally, run.next_batch, true});
      }
      std::rethrow_exception(error);
    }
    ranks::broadcast(stopped ? kStop : kContinue);
    if (stopped) break;
  }
}

}  // namespace

void fill_dose_from_tally(const phys::PhantomView& phantom, const BatchTally& tally,
                          const std::vector<std::uint8_t>* headline_mask, DoseResult& d) {
  tally.finish(phantom, d.dose_gy, d.rel_uncertainty);
  d.grid = GridEdges::detach(phantom.grid);
  d.edges = GridEdges::of(phantom.grid);
  d.dose_unit = "Gy/history";
  d.histories = tally.histories();
  d.batches = int(tally.batches());
  d.mean_rel_uncertainty_50 =
      headline_mask ? mean_rel_uncertainty_above_half_max(d.dose_gy, d.rel_uncertainty, *headline_mask)
                    : mean_rel_uncertainty_above_half_max(d.dose_gy, d.rel_uncertainty);
}

SimulationRun run_batches(const phys::PhantomView& phantom, const SimulationSettings& settings,
                          BatchBackend& backend, const ProgressHook& hook, const CheckpointHooks& checkpoint) {
  if (settings.histories <= 0) throw UsageError("the number of histories must be > 0");
  if (settings.batch_histories > 0) {
    if (settings.histories < 2 * settings.batch_histories)
      throw UsageError("open-ended run: the history limit (" + std::to_string(settings.histories) +
                       ") must allow at least 2 batches of " +
                       std::to_string(settings.batch_histories));
  } else {
    if (settings.batches < 2) throw UsageError("at least 2 batches are needed for an uncertainty");
    if (settings.histories < settings.batches)
      throw UsageError("fewer histories (" + std::to_string(settings.histories) +
                       ") than batches (" + std::to_string(settings.batches) + ")");
  }
  SABRE_EXPECT(phantom.material && phantom.density_g_cm3, "phantom view without arrays");
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t nv = phantom.grid.size();
  const int nbatches = batch_count(settings);
  const int end_batch = settings.end_batch < 0 ? nbatches : std::min(settings.end_batch, nbatches);
  SABRE_EXPECT(settings.first_batch >= 0 && settings.first_batch <= end_batch, "batch range out of order");
  SABRE_EXPECT(!(settings.regions && (settings.resume || settings.first_batch > 0 || end_batch < nbatches)),
               "region tallies are not supported with parts or checkpoints");
  SABRE_EXPECT(!(settings.batch_energy && (settings.resume || settings.first_batch > 0 || end_batch < nbatches)),
               "per-batch energy arrays are not kept with parts or checkpoints");

  std::vector<std::int64_t> batch_fp(nv, 0);
  SimulationRun run;
  run.tally = settings.resume ? *settings.resume : BatchTally(nv);
  SABRE_EXPECT(run.tally.voxels() == nv, "resumed tally is for another grid");
  // Region tallies: the voxel indices of each region, read before the batch is folded.
  std::vector<std::vector<std::int64_t>> region_voxels;
  if (settings.regions) {
    for (const auto& mask : *settings.regions) {
      SABRE_EXPECT(std::int64_t(mask.size()) == nv, "region mask size differs from the dose grid");
      auto& idx = region_voxels.emplace_back();
      for (std::int64_t v = 0; v < nv; ++v)
        if (mask[v]) idx.push_back(v);
    }
    run.region_energy_mev.resize(region_voxels.size());
  }
  run.next_batch = settings.first_batch;
  if (settings.distribute_over_ranks && ranks::size() > 1) {
    SABRE_EXPECT(region_voxels.empty(), "region tallies are not supported across MPI ranks");
    SABRE_EXPECT(!settings.batch_energy, "per-batch energy arrays are not kept across MPI ranks");
    run_rounds(phantom, settings, backend, hook, checkpoint, end_batch, nbatches, t0, batch_fp, run);
    // rank 0 holds the tally; the others' results stay empty (their callers write nothing)
    if (ranks::rank() == 0)
      finish_run(phantom, settings, backend.description() + " x " + std::to_string(ranks::size()) + " MPI ranks",
                 t0, run);
    return run;
  }
  const bool folds_here = !(settings.distribute_over_ranks && ranks::size() > 1 && ranks::rank() != 0);
  if (folds_here && settings.first_batch < end_batch) {  // the first batch's sums, outside the fold's time
    const auto [f0, l0] = batch_range(settings, settings.first_batch);
    run.tally.reserve(l0 - f0);
  }
  std::vector<std::int64_t> touched;  // voxels the batch gave energy to, when the back end says
  try {
    for (int b = settings.first_batch; b < end_batch; ++b) {
      const auto [first, last] = batch_range(settings, b);
      touched.clear();
      const bool tracked =
          backend.run_range_tracked(std::uint64_t(first), std::uint64_t(last - first), batch_fp, run.balance, touched);
      if (!region_voxels.empty()) {
        // Integer sums (exact, order-free), then MeV.
        run.batch_histories.push_back(last - first);
        for (std::size_t r = 0; r < region_voxels.size(); ++r) {
          std::int64_t q = 0;
          for (const std::int64_t v : region_voxels[r]) q += batch_fp[v];
          run.region_energy_mev[r].push_back(double(q) / kernels::kEnergyQuantaPerMeV);
        }
      }
      if (settings.batch_energy) {
        settings.batch_energy->push_back(batch_fp);
        if (region_voxels.empty()) run.batch_histories.push_back(last - first);
      }
      // In voxel order: the fold then walks the tally's arrays forward (far fewer cache
      // misses on a large grid than in the threads' order).
      if (tracked) std::sort(touched.begin(), touched.end());
      if (!fold_batch(phantom, settings, hook, checkpoint, nbatches, t0, b, last - first, batch_fp, run,
                      tracked ? &touched : nullptr))
        break;
    }
  } catch (...) {
    // Stopped (a signal, an error in the hook): the batches done so far are kept in the
    // checkpoint, so that --resume continues exactly where this run ended.
    if (checkpoint.write) checkpoint.write({&run.tally, run.next_batch, true});
    throw;
  }
  std::vector<std::int64_t>().swap(batch_fp);  // 8 bytes per voxel less at the peak (the dose arrays come now)
  finish_run(phantom, settings, backend.description(), t0, run);
  return run;
}

}  // namespace sabre
