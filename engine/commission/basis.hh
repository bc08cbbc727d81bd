// Basis doses for commissioning: the measured data grouped by set-up, each set-up's water
// run grid, and the computed values of every measured point for one part of the source
// model (engine/commission/parts.hh), run once and cached. Host only.
//
// Cache: <cache dir>/commission/<key>.h5 holds the computed values (and their 1 sigma) of
// one (set-up, part, parameters) run: key = SHA-256 of the machine file's bytes, the beam
// model's parameters as used, the part, the set-up, its grid, the measured points it is
// read at, histories, seed, the table file's SHA-256, sabre's version and its transport
// identity (core/transport_id.cmake: a hash of the sources that decide a run's dose, not the
// commit, so that a change to the fit's arithmetic, the report or the CLI keeps the cache).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "engine/commission/parts.hh"
#include "engine/commission/water_run.hh"
#include "engine/io/beam_data.hh"

namespace sabre::commission {

// The measured values of one set-up, in a fixed order: its curves (point by point) then its
// output factors.
struct SetupData {
  Setup setup;
  GridSpec grid;
  std::vector<int> curves;          // indices into the BeamData's curves
  std::vector<int> output_factors;  // indices into the BeamData's output factors
  int n_points = 0;
};

// Computed values of all points of one set-up.
struct Computed {
  std::vector<double> value, sigma;
};

class BasisBank {
 public:
  BasisBank(const beams::Machine& machine, const std::string& machine_file, const io::BeamData& data,
            WaterRunner& runner, std::string cache_dir, std::function<void(const std::string&)> log);

  const io::BeamData& data() const { return data_; }
  double machine_sad_cm() const { return machine_.sad_cm; }
  const std::vector<SetupData>& setups() const { return setups_; }
  // Measured values of a set-up's points (same order as Computed).
  std::vector<double> measured(const SetupData& s) const;
  // Their relative 1-sigma: the file's own (sabre CSV's sigma_rel) where it gives one, else
  // `stated` (--measurement-uncertainty).
  std::vector<double> measured_sigma(const SetupData& s, double stated) const;
  // Which curve / output factor a point belongs to: curve index, or -1 - OF index.
  std::vector<int> point_owner(const SetupData& s) const;

  // The computed values of `part` of beam model `beam` for set-up `s` (cached).
  Computed compute(const beams::BeamModel& beam, const SetupData& s, const PartSpec& part, std::int64_t histories,
                   std::uint64_t seed);
  // The same without a part: the full model.
  Computed compute_full(const beams::BeamModel& beam, const SetupData& s, std::int64_t histories,
                        std::uint64_t seed);
  // The computed curve of point set `s` read off a full-model dose (also returns the dose).
  double seconds_computing() const { return seconds_; }
  int runs() const { return runs_; }
  int cache_hits() const { return hits_; }

 private:
  Computed run_or_load(const beams::BeamModel& beam, const SetupData& s, const PartSpec* part,
                       std::int64_t histories, std::uint64_t seed);

  beams::Machine machine_;
  std::string machine_sha_;
  io::BeamData data_;
  WaterRunner& runner_;
  std::string cache_dir_;
  std::function<void(const std::string&)> log_;
  std::vector<SetupData> setups_;
  double seconds_ = 0;
  int runs_ = 0, hits_ = 0;
};

// The beam model's parameters as JSON text (for cache keys and reports).
std::string beam_model_json(const beams::BeamModel& b);

}  // namespace sabre::commission
