#include "engine/tally.hh"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <stdexcept>

#include "core/errors.hh"
#include "kernels/transport.hh"
#include "physics/core/constants.hh"

namespace sabre {

std::int64_t BatchTally::batches() const {
  std::int64_t b = 0;
  for (const auto& s : sizes_) b += s.batches;
  return b;
}

std::int64_t BatchTally::histories() const {
  std::int64_t h = 0;
  for (const auto& s : sizes_) h += s.batches * s.batch_size;
  return h;
}

TallySize& BatchTally::size_slot(std::int64_t n) {
  auto it = std::lower_bound(sizes_.begin(), sizes_.end(), n,
                             [](const TallySize& s, std::int64_t v) { return s.batch_size < v; });
  if (it != sizes_.end() && it->batch_size == n) return *it;
  TallySize t;
  t.batch_size = n;
  t.sum_q.assign(std::size_t(voxels_), 0);
  t.sum_q2.assign(std::size_t(voxels_), 0);
  return *sizes_.insert(it, std::move(t));
}

namespace {

[[noreturn]] void overflow() {
  throw RuntimeError(
      "the energy tally of a voxel overflowed its 64-bit range (more than 2e9 MeV in one voxel): "
      "split the run into parts (--part) or use fewer histories per batch");
}

inline void add_checked(std::int64_t& sum, std::int64_t q) {
  if (__builtin_add_overflow(sum, q, &sum)) overflow();
}

inline void add_checked(uint128& sum, uint128 q2) {
  if (__builtin_add_overflow(sum, q2, &sum)) overflow();
}

inline uint128 square(std::int64_t q) {
  const uint128 a = q < 0 ? uint128(-(q + 1)) + 1 : uint128(q);  // |q| without overflow
  return a * a;
}

}  // namespace

// Ever given a nonzero batch energy (a sum of squares is nonzero iff one term was; the sum
// itself may return to 0 where a roulette correction is negative).
bool BatchTally::has_energy(std::int64_t v) const {
  for (const TallySize& s : sizes_)
    if (s.sum_q2[std::size_t(v)] != 0) return true;
  return false;
}

void BatchTally::rebuild_nonzero() {
  nonzero_.assign(std::size_t((voxels_ + 63) / 64), 0);
  for (std::int64_t v = 0; v < voxels_; ++v)
    if (has_energy(v)) mark_nonzero(v);
}

void BatchTally::add_batch(std::int64_t histories, std::vector<std::int64_t>& batch_fp,
                           const std::vector<std::int64_t>* touched) {
  SABRE_EXPECT(std::int64_t(batch_fp.size()) == voxels_, "batch array size differs from the tally");
  SABRE_EXPECT(histories > 0, "a batch without histories");
  TallySize& t = size_slot(histories);
  auto fold = [&](std::int64_t v) {
    const std::int64_t q = batch_fp[std::size_t(v)];
    if (q == 0) return;
    mark_nonzero(v);
    add_checked(t.sum_q[std::size_t(v)], q);
    add_checked(t.sum_q2[std::size_t(v)], square(q));
    batch_fp[std::size_t(v)] = 0;
  };
  if (touched) {
    for (const std::int64_t v : *touched) {
      SABRE_EXPECT(v >= 0 && v < voxels_, "touched voxel out of the grid");
      fold(v);
    }
  } else {
    for (std::int64_t v = 0; v < voxels_; ++v) fold(v);
  }
  ++t.batches;
}

void BatchTally::merge(const BatchTally& o) {
  SABRE_EXPECT(o.voxels_ == voxels_, "tallies of different grids cannot be merged");
  for (const TallySize& s : o.sizes_) {
    TallySize& t = size_slot(s.batch_size);
    for (std::int64_t v = 0; v < voxels_; ++v) {
      add_checked(t.sum_q[std::size_t(v)], s.sum_q[std::size_t(v)]);
      add_checked(t.sum_q2[std::size_t(v)], s.sum_q2[std::size_t(v)]);
    }
    t.batches += s.batches;
  }
  rebuild_nonzero();
}

BatchTally BatchTally::from_sizes(std::int64_t voxels, std::vector<TallySize> sizes) {
  BatchTally t(voxels);
  std::sort(sizes.begin(), sizes.end(),
            [](const TallySize& a, const TallySize& b) { return a.batch_size < b.batch_size; });
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const TallySize& s = sizes[i];
    SABRE_EXPECT(std::int64_t(s.sum_q.size()) == voxels && std::int64_t(s.sum_q2.size()) == voxels,
                 "tally arrays do not match the grid");
    SABRE_EXPECT(s.batch_size > 0 && s.batches >= 0, "tally batch size or count out of range");
    SABRE_EXPECT(i == 0 || sizes[i - 1].batch_size != s.batch_size, "tally lists a batch size twice");
  }
  t.sizes_ = std::move(sizes);
  t.rebuild_nonzero();
  return t;
}

namespace {

// uint128 -> double through its 64-bit halves when it fits (the common case: one call
// into libgcc's 128-bit conversion is several times slower). Exact below 2^53, correctly
// rounded otherwise; either way a function of the integer alone.
inline double to_double(uint128 x) {
  return x <= uint128(INT64_MAX) ? double(std::int64_t(x)) : double(x);
}

// The per-voxel arithmetic of finish() and headline_uncertainty(), shared so that both give
// the same bits. Evaluated in double from the integers (called after every batch for the
// headline figure, so it must be cheap): the same integers give the same bits whatever the
// order the batches were added in.
struct TallyEval {
  const BatchTally& t;
  const phys::PhantomView& ph;
  std::int64_t nb, nh;
  double volume_cm3, to_gy;  // volume_cm3: a uniform grid's (0: per voxel, non-uniform)
  std::vector<double> inv_n, inv_n2;
  TallyEval(const BatchTally& tally, const phys::PhantomView& phantom) : t(tally), ph(phantom) {
    nb = t.batches();
    nh = t.histories();
    volume_cm3 = ph.grid.uniform() ? ph.grid.voxel_volume_cm3() : 0.0;
    to_gy = phys::kMeVToJoule / kernels::kEnergyQuantaPerMeV / double(std::max<std::int64_t>(nh, 1));
    for (const TallySize& s : t.sizes()) {
      inv_n.push_back(1.0 / double(s.batch_size));
      inv_n2.push_back(1.0 / (double(s.batch_size) * double(s.batch_size)));
    }
  }
  double dose(std::int64_t v) const {
    std::int64_t q = 0;
    bool wide = false;  // the sum over sizes needs 128 bits
    for (const TallySize& s : t.sizes())
      if (__builtin_add_overflow(q, s.sum_q[std::size_t(v)], &q)) wide = true;
    const double mass_kg = double(ph.density_g_cm3[v]) * (volume_cm3 > 0 ? volume_cm3 : ph.grid.voxel_volume_cm3(v)) * 1e-3;
    if (!(mass_kg > 0) || nh <= 0) return 0.0;
    if (wide) {
      __int128 w = 0;
      for (const TallySize& s : t.sizes()) w += s.sum_q[std::size_t(v)];
      return w > 0 ? double(w) * to_gy / mass_kg : 0.0;
    }
    return q > 0 ? double(q) * to_gy / mass_kg : 0.0;
  }
  double rel(std::int64_t v) const {
    if (nb < 2) return 0.0;
    double sx = 0, sx2 = 0;  // in quanta per history
    for (std::size_t k = 0; k < inv_n.size(); ++k) {
      const TallySize& s = t.sizes()[k];
      const std::int64_t a = s.sum_q[std::size_t(v)];
      const uint128 a2 = s.sum_q2[std::size_t(v)];
      if (a == 0 && a2 == 0) continue;
      sx += double(a) * inv_n[k];
      sx2 += to_double(a2) * inv_n2[k];
    }
    if (!(sx > 0)) return 0.0;
    const double mean = sx / double(nb);
    const double var = std::max(0.0, (sx2 - double(nb) * mean * mean) / (double(nb) - 1.0));
    return std::sqrt(var / double(nb)) / mean;
  }
};

}  // namespace

void BatchTally::finish(const phys::PhantomView& ph, std::vector<double>& dose_gy,
                        std::vector<double>& rel_unc) const {
  const std::int64_t nv = voxels_;
  SABRE_EXPECT(ph.grid.size() == nv, "phantom grid differs from the tally");
  const TallyEval e(*this, ph);
  dose_gy.assign(std::size_t(nv), 0.0);
  rel_unc.assign(std::size_t(nv), 0.0);
  for (std::int64_t v = 0; v < nv; ++v) {
    dose_gy[std::size_t(v)] = e.dose(v);
    rel_unc[std::size_t(v)] = e.rel(v);
  }
}

double BatchTally::headline_uncertainty(const phys::PhantomView& ph, const std::vector<std::uint8_t>* mask) const {
  const std::int64_t nv = voxels_;
  SABRE_EXPECT(ph.grid.size() == nv, "phantom grid differs from the tally");
  SABRE_EXPECT(!mask || std::int64_t(mask->size()) == nv, "headline mask size differs from the dose grid");
  const TallyEval e(*this, ph);
  double dmax = 0;
  for_each_nonzero([&](std::int64_t v) {
    if (!mask || (*mask)[std::size_t(v)]) dmax = std::max(dmax, e.dose(v));
  });
  if (!(dmax > 0)) return 0;
  double sum = 0;
  std::int64_t n = 0;
  for_each_nonzero([&](std::int64_t v) {  // increasing index: the order of the full-grid loop
    if (mask && !(*mask)[std::size_t(v)]) return;
    if (e.dose(v) > 0.5 * dmax) {
      sum += e.rel(v);
      ++n;
    }
  });
  return n ? sum / double(n) : 0;
}

std::vector<double> BatchTally::energy_mev() const {
  std::vector<double> e(std::size_t(voxels_), 0.0);
  for (std::int64_t v = 0; v < voxels_; ++v) {
    __int128 q = 0;
    for (const TallySize& s : sizes_) q += s.sum_q[std::size_t(v)];
    e[std::size_t(v)] = double(q) / kernels::kEnergyQuantaPerMeV;
  }
  return e;
}

}  // namespace sabre
