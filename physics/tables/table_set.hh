// Host-side storage of one physics table file (format: docs/tables.md), shared by the
// generator (which fills and writes it) and the loader (which reads it and points a
// MaterialData at it). Host only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "physics/materials/material_data.hh"
#include "physics/tables/raw_data.hh"

namespace sabre::phys::tables {

inline constexpr const char* kFormatName = "sabre-physics-tables";
inline constexpr int kFormatMajor = 1;  // bumped when a reader of the old layout would misread
inline constexpr int kFormatMinor = 0;  // bumped for additions old readers may ignore
// Version of the generator's numerics: bumped whenever the same inputs give other numbers.
inline constexpr const char* kGeneratorVersion = "1.1.0";  // 1.1.0: 64 alias bins

// Dataset names under /photon, in PhotonProcess order, then the derived rows.
inline constexpr const char* kPhotonDatasets[kNumPhotonProcesses] = {
    "incoherent", "photoelectric", "pair_nuclear", "pair_electron", "rayleigh"};

// Dataset names under /electron and /positron, with units.
struct ChargedQuantity {
  const char* name;
  const char* unit;
  GridTable ChargedData::*member;
};
inline constexpr int kNumChargedQuantities = 13;
extern const ChargedQuantity kChargedQuantities[kNumChargedQuantities];
inline constexpr const char* kSpeciesGroup[kNumChargedSpecies] = {"electron", "positron"};

struct TableSet {
  // provenance
  std::string format = kFormatName;
  int format_major = kFormatMajor;
  int format_minor = kFormatMinor;
  std::string generator_version = kGeneratorVersion;
  std::string set_name;
  std::vector<SourceFile> sources;
  Cuts cuts;

  // materials
  std::vector<std::string> names;
  std::vector<std::string> definitions;
  std::vector<double> density_g_cm3;
  std::vector<double> i_value_ev;
  std::vector<std::int32_t> composition_offset;  // [n + 1] into the two arrays below
  std::vector<std::int32_t> composition_z;
  std::vector<double> composition_w;  // mass fractions

  // photons: rows [material][i] on photon_grid
  LogGrid photon_grid;
  std::array<std::vector<double>, kNumPhotonProcesses> photon;
  std::vector<double> photon_total;
  std::vector<double> photon_majorant;  // one row

  // electrons and positrons: [species][quantity] rows [material][i] on charged_grid
  LogGrid charged_grid;
  std::array<std::array<std::vector<double>, kNumChargedQuantities>, kNumChargedSpecies> charged;

  // bremsstrahlung alias tables, shared by e- and e+: [(material * n + i) * bins + b]
  LogGrid alias_grid;
  int alias_bins = 0;
  std::vector<double> alias_prob;
  std::vector<std::int32_t> alias_index;

  int n_materials() const { return static_cast<int>(names.size()); }
};

// Writes the set to `path` atomically (temporary name, then rename): byte-identical output
// for identical input. RuntimeError on failure.
void write_table_file(const TableSet& t, const std::string& path);

// Reads a table file; InputError naming the file on any problem, including an unknown
// format name or major version.
TableSet read_table_file(const std::string& path);

}  // namespace sabre::phys::tables
