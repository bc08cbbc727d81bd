// Parts and checkpoints on disk (issue 22): a sabre dose file (docs/hdf5-output.md) of the
// batches done, with a /tally group holding the exact integer sums behind it
// (engine/tally.hh) and what identifies the job. `sabre merge` adds the tallies of the parts
// of one job; `--resume` continues from a checkpoint. Both refuse a file of another job
// (another input, seed, history count, batch layout or sabre build) with one message naming
// the file and what differs.
//
// /tally attributes: format "sabre-tally", version 1, job_kind ("simulate" or "run"; absent
// in files of earlier builds: "simulate"), job_digest (SHA-256 over the job's defining
// inputs: see engine/simulate_phantom.cc and engine/run_job.cc), sabre_commit, first_batch, next_batch
// (batches [first_batch, next_batch) are in the tally), batches_total, histories_total,
// part_index and part_count (0 and 1 for a whole run or checkpoint); one subgroup per batch
// size, size_<i>, with attributes batch_size and batches and 1-D datasets sum_q (int64),
// sum_q2_hi and sum_q2_lo (the 128-bit sums of squares as two uint64 halves).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/dose_result.hh"
#include "engine/tally.hh"

namespace sabre::io {

struct TallyInfo {
  std::string job_kind = "simulate";  // the command whose job this is: "simulate" or "run"
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

// Checks that the checkpoint `cp` (read from `path`) continues the job `expected` (same
// command, sabre build, job digest, part) on a grid of `voxels` voxels; InputError naming
// the file and what differs otherwise.
void check_resumable(const TallyFile& cp, const TallyInfo& expected, std::int64_t voxels, const std::string& path);

// The parts of one job, read, checked and added (in part order: integer sums, so any order
// gives the same bits). InputError naming the file when a part belongs to another job or
// command, is repeated, missing or incomplete, or has another grid or density map.
struct MergedParts {
  TallyInfo info;        // of the first part given
  BatchTally tally;      // every batch of the job
  DoseResult first;      // part 0's dose file (grid, maps, provenance)
  double wall_seconds = 0;  // summed over the parts
  std::string devices;   // the parts' devices, each once
  std::string from;      // "N parts: a, b, ..."
};
// `kind`: the command whose parts these must be ("simulate" or "run"); a part of another
// command is refused first, with `hint` (how to merge it) in the message.
MergedParts merge_parts(const std::vector<std::string>& paths, const std::string& kind, const std::string& hint);

}  // namespace sabre::io
