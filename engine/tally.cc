#include "engine/tally.hh"

#include <algorithm>
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

void BatchTally::add_batch(std::int64_t histories, std::vector<std::int64_t>& batch_fp) {
  SABRE_EXPECT(std::int64_t(batch_fp.size()) == voxels_, "batch array size differs from the tally");
  SABRE_EXPECT(histories > 0, "a batch without histories");
  TallySize& t = size_slot(histories);
  for (std::int64_t v = 0; v < voxels_; ++v) {
    const std::int64_t q = batch_fp[std::size_t(v)];
    if (q == 0) continue;
    add_checked(t.sum_q[std::size_t(v)], q);
    add_checked(t.sum_q2[std::size_t(v)], square(q));
    batch_fp[std::size_t(v)] = 0;
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
  return t;
}

void BatchTally::finish(const phys::PhantomView& ph, std::vector<double>& dose_gy,
                        std::vector<double>& rel_unc) const {
  const std::int64_t nv = voxels_;
  SABRE_EXPECT(ph.grid.size() == nv, "phantom grid differs from the tally");
  dose_gy.assign(std::size_t(nv), 0.0);
  rel_unc.assign(std::size_t(nv), 0.0);
  const std::int64_t nb = batches(), nh = histories();
  const double volume_cm3 = ph.grid.voxel_volume_cm3();
  for (std::int64_t v = 0; v < nv; ++v) {
    __int128 q = 0;
    long double sx = 0, sx2 = 0;  // in quanta per history
    for (const TallySize& s : sizes_) {
      const std::int64_t a = s.sum_q[std::size_t(v)];
      if (a == 0 && s.sum_q2[std::size_t(v)] == 0) continue;
      q += a;
      const long double n = (long double)s.batch_size;
      sx += (long double)a / n;
      sx2 += (long double)s.sum_q2[std::size_t(v)] / (n * n);
    }
    const double mass_kg = double(ph.density_g_cm3[v]) * volume_cm3 * 1e-3;
    if (q > 0 && mass_kg > 0 && nh > 0)
      dose_gy[std::size_t(v)] =
          double(q) / kernels::kEnergyQuantaPerMeV / double(nh) * phys::kMeVToJoule / mass_kg;
    if (nb >= 2 && sx > 0) {
      const long double mean = sx / nb;
      const long double var = std::max(0.0L, (sx2 - nb * mean * mean) / (nb - 1.0L));
      rel_unc[std::size_t(v)] = double(std::sqrt(var / nb) / mean);
    }
  }
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
