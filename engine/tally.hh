// Exact, order-free batch tallies: what makes parts, checkpoints and ranks merge bit for bit
// (issue 22).
//
// A batch's per-voxel energy is an integer q_b (fixed point, kernels::kEnergyQuantaPerMeV
// quanta per MeV; kernels/transport.hh). The tally keeps, for each distinct batch size n
// (one or two sizes in practice: a fixed run's batches hold floor(N/B) or floor(N/B) + 1
// histories, an open-ended run's all but the last hold batch_histories), per voxel
//   sum_q  = sum_b q_b          (64-bit signed, overflow checked),
//   sum_q2 = sum_b q_b^2        (128-bit unsigned, overflow checked),
// and the number of batches of that size. Integer sums do not depend on the order in which
// batches are added, so a tally of batches 0..B-1 is the same whether they were folded in
// one process, resumed from a checkpoint, or summed from parts or ranks; the dose and the
// uncertainty are computed from these integers alone (finish()), so they come out bit for
// bit the same.
//
// Statistics (the batch method of engine/simulation.hh), with x_b = q_b / n_b:
//   dose D = (sum_b q_b) / N / (rho V) (converted to MeV and Gy),
//   xbar = sum_b x_b / B,  s^2(mean) = (sum_b x_b^2 - B xbar^2) / (B (B - 1)),
//   relative uncertainty = s / xbar (0 where xbar <= 0 or B < 2),
// with sum_b x_b = sum_sizes sum_q / n and sum_b x_b^2 = sum_sizes sum_q2 / n^2 evaluated in
// double from the integers (the same integers, the same bits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "physics/geometry/voxel_grid.hh"
#include "physics/transport/transport_params.hh"

namespace sabre {

using uint128 = unsigned __int128;

struct TallySize {
  std::int64_t batch_size = 0;  // histories per batch
  std::int64_t batches = 0;     // batches of this size added
  std::vector<std::int64_t> sum_q;
  std::vector<uint128> sum_q2;
};

class BatchTally {
 public:
  BatchTally() = default;
  explicit BatchTally(std::int64_t voxels) : voxels_(voxels), nonzero_(std::size_t((voxels + 63) / 64), 0) {}

  std::int64_t voxels() const { return voxels_; }
  // Batches and histories added so far.
  std::int64_t batches() const;
  std::int64_t histories() const;
  const std::vector<TallySize>& sizes() const { return sizes_; }

  // Adds one batch of `histories` histories whose per-voxel energies are `batch_fp`
  // (voxels() entries), and clears batch_fp. RuntimeError on an overflow of the sums.
  // `touched` (optional): a list holding every voxel whose batch_fp entry may be nonzero
  // (the back end's; repeats allowed); only they are read and cleared, so the fold costs what the batch
  // touched, not the grid. Without it every voxel is scanned. The sums are the same.
  void add_batch(std::int64_t histories, std::vector<std::int64_t>& batch_fp,
                 const std::vector<std::int64_t>* touched = nullptr);
  // Adds another tally of disjoint batches (parts, ranks). std::logic_error on a grid size
  // mismatch; RuntimeError on overflow.
  void merge(const BatchTally& other);
  // Allocates (and touches) the sums for batches of `histories` histories now, so that the
  // first fold of such a batch does not pay for a grid-sized allocation; the tally is
  // unchanged otherwise (an empty size adds nothing to any figure).
  void reserve(std::int64_t histories) { (void)size_slot(histories); }
  // Restores a tally from its sizes (file readers); checks the array lengths.
  static BatchTally from_sizes(std::int64_t voxels, std::vector<TallySize> sizes);

  // Dose [Gy per history] and relative 1-sigma per voxel (see the header).
  void finish(const phys::PhantomView& phantom, std::vector<double>& dose_gy,
              std::vector<double>& rel_unc) const;
  // The mean relative 1-sigma over the voxels (of `mask`, when given) whose dose exceeds
  // 50 % of their maximum: mean_rel_uncertainty_above_half_max() of finish()'s arrays, the
  // same bits, without building them (the stopping rule's figure after every batch). Visits
  // only the voxels that ever received energy, in increasing index order (the others have
  // no dose and change neither the maximum nor the mean), so its cost follows the dose's
  // extent, not the grid's.
  double headline_uncertainty(const phys::PhantomView& phantom, const std::vector<std::uint8_t>* mask) const;
  // Calls f(v) for each voxel ever given a nonzero batch energy, in increasing order, once.
  template <class F>
  void for_each_nonzero(F&& f) const {
    for (std::size_t w = 0; w < nonzero_.size(); ++w)
      for (std::uint64_t bits = nonzero_[w]; bits; bits &= bits - 1)
        f(std::int64_t(w * 64 + std::size_t(__builtin_ctzll(bits))));
  }
  // Energy per voxel [MeV], all batches.
  std::vector<double> energy_mev() const;

 private:
  TallySize& size_slot(std::int64_t n);
  bool has_energy(std::int64_t v) const;
  void mark_nonzero(std::int64_t v) {
    nonzero_[std::size_t(v) / 64] |= std::uint64_t(1) << (std::size_t(v) % 64);
  }
  void rebuild_nonzero();
  std::int64_t voxels_ = 0;
  std::vector<TallySize> sizes_;  // ordered by batch_size
  // Bit v: voxel v has energy in some size (has_energy). A bitmap, not a list: 1 bit per voxel
  // whatever the share with dose (a sorted list took 8 bytes per voxel with dose, and its merge
  // as much again), and scanned a 64-voxel word at a time.
  std::vector<std::uint64_t> nonzero_;
};

}  // namespace sabre
