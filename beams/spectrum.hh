// Energy spectra on the host: reading them from files and building the sampling table
// (beams/source.hh SpectrumView). Two documented formats (docs/phantom-file.md):
//   - EGSnrc ".spectrum" (ensrc file as BEAMnrc/DOSXYZnrc read it): a title line; a line
//     "NENSRC, ENMIN, MODE" (bins, lowest edge [MeV], 0 = counts per bin, 1 = counts per
//     MeV); then NENSRC lines "upper edge [MeV], value". Histogram: energy uniform in a bin.
//   - CSV: '#' comment lines; a header naming the columns, which must include e_lo_MeV and
//     e_hi_MeV (case-insensitive) and a weight column (probability or counts per bin):
//     the third column, or the one named by `column`. Bins must be contiguous-or-gapped but
//     increasing and non-overlapping.
// Any other extension is an error. Problems throw sabre::InputError naming the file.
#pragma once

#include <string>
#include <vector>

#include "beams/source.hh"

namespace sabre::beams {

struct Spectrum {
  std::vector<double> edges_lo_mev, edges_hi_mev;  // per bin [MeV]
  std::vector<double> probability;                 // per bin, sums to 1
  // Sampling table: contiguous edges with zero-probability gap bins where needed.
  std::vector<double> table_edges_mev, table_cdf;
  std::string source_file;

  double mean_energy_mev() const;
  double max_energy_mev() const { return edges_hi_mev.empty() ? 0 : edges_hi_mev.back(); }
  SpectrumView view() const;  // valid while this Spectrum lives and is unchanged
};

// Reads an EGSnrc .spectrum or a CSV spectrum (by extension: .spectrum / .csv).
Spectrum load_spectrum(const std::string& path, const std::string& column = "");

// Builds the sampling table from bins (shared by the readers; exposed for tests).
void finish_spectrum(Spectrum& s);

}  // namespace sabre::beams
