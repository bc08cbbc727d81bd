// Parts and checkpoints on disk (issue 22): a sabre dose file (docs/hdf5-output.md) of the
// batches done, with a /tally group holding the exact integer sums behind it
// (engine/tally.hh) and what identifies the job. `sabre merge` adds the tallies of the parts
// of one job; `--resume` continues from a checkpoint. Both refuse a file of another job
// (another input, seed, history count, batch layout or sabre build) with one message naming
// the file and what differs.
//
// /tally attributes: format "sabre-tally", version 1, job_digest (SHA-256 over the job's
// defining inputs: see engine/simulate_phantom.cc), sabre_commit, first_batch, next_batch
// (batches [first_batch, next_batch) are in the tally), batches_total, histories_total,
// part_index and part_count (0 and 1 for a whole run or checkpoint); one subgroup per batch
// size, size_<i>, with attributes batch_size and batches and 1-D datasets sum_q (int64),
// sum_q2_hi and sum_q2_lo (the 128-bit sums of squares as two uint64 halves).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>

#include "engine/dose_result.hh"
#include "engine/tally.hh"

namespace sabre::io {

struct TallyInfo {
  std::string job_digest;
  std::string sabre_commit;
  std::int64_t first_batch = 0;
  std::int64_t next_batch = 0;
  std::int64_t batches_total = 0;
  std::int64_t histories_total = 0;
  std::int64_t part_index = 0;
  std::int64_t part_count = 1;
};

// Writes /tally into an open file (use as the `extra` of write_dose_hdf5).
void write_tally_group(hid_t file, const std::string& path, const BatchTally& tally, const TallyInfo& info);

struct TallyFile {
  DoseResult dose;
  BatchTally tally;
  TallyInfo info;
};

// Reads a part or checkpoint; InputError naming `path` when it has no /tally, or it is
// malformed (array sizes, batch counts that do not add up).
TallyFile read_tally_file(const std::string& path);

}  // namespace sabre::io
