// Readers of the raw NIST interaction data the table generator starts from
// (../shared/data/physics, formats in its README): XCOM photon cross sections per element,
// Seltzer-Berger bremsstrahlung, and the density-effect files (composition, I, density,
// delta(T)). Host only; the engine never reads these files at run time.
//
// Every reader throws sabre::InputError naming the file and the problem on bad input, and
// records the file it read (path relative to the source directory and SHA-256) so that the
// table file can carry its provenance.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "physics/tables/elements.hh"
#include "physics/materials/material_data.hh"

namespace sabre::phys::tables {

struct SourceFile {
  std::string path;    // relative to the source directory, '/' separated
  std::string sha256;  // hex digest of the file's bytes
};

// XCOM cross sections of one process for one element: pairs (ln(E/MeV), ln(sigma/barn)).
// Repeated energies mark absorption edges.
struct XcomCurve {
  std::vector<double> ln_e;
  std::vector<double> ln_sigma;
  // sigma [barn/atom] at energy_mev by log-log interpolation; 0 below the first point
  // (threshold processes); log-log extrapolation above the last point. At an edge energy
  // the value above the edge is taken.
  double sigma_barn(double energy_mev) const;
};

// Seltzer-Berger scaled bremsstrahlung cross sections chi(T, kappa) = (beta^2/Z^2) k dsigma/dk
// [mb], on 57 electron kinetic energies T and 30 reduced photon energies kappa = k/T.
struct SeltzerBerger {
  std::vector<double> t_mev;                      // 57 values
  std::vector<double> kappa;                      // 30 values, 0 .. 1
  std::array<std::vector<double>, kMaxZ + 1> chi;  // [Z][k * t_mev.size() + n], Z = 1..100
  // chi for element z at kinetic energy t_mev (linear in ln T between the tabulated
  // energies, clamped to the table's ends) at each of the kappa nodes.
  void chi_at(int z, double t_mev, std::vector<double>& out) const;
};

// One density-effect file: composition, mean excitation energy, density and delta(T).
struct DensityFile {
  std::string path;       // as given (for messages)
  std::string title;      // first line, trimmed
  double i_ev = 0;        // mean excitation energy I [eV]
  double density_g_cm3 = 0;
  std::vector<std::pair<int, double>> mass_fractions;  // (Z, w)
  std::vector<double> t_mev;  // kinetic energies of the delta table [MeV]
  std::vector<double> delta;  // density-effect correction (dimensionless)
};

// The raw data set below one source directory.
class RawData {
 public:
  // Reads photon/xcom_*.data and electron/nist_brems.data below `source_dir`; density files
  // are read on demand. InputError if the directory or a file is missing or malformed.
  explicit RawData(const std::string& source_dir);

  const std::string& source_dir() const { return dir_; }
  const XcomCurve& xcom(int process, int z) const { return xcom_[process][z]; }
  const SeltzerBerger& brems() const { return sb_; }
  // Reads (and records) electron/density/<kind>/<stem>.density; kind "elements" or
  // "compounds". InputError if it does not exist or is malformed.
  DensityFile density(const std::string& kind, const std::string& stem);
  bool has_density(const std::string& kind, const std::string& stem) const;
  // Every source file read so far, sorted by path.
  std::vector<SourceFile> sources() const;

 private:
  void record(const std::string& rel);
  std::string dir_;
  std::array<std::array<XcomCurve, kMaxZ + 1>, kNumPhotonProcesses> xcom_;
  SeltzerBerger sb_;
  std::vector<SourceFile> used_;
};

// Parses one density file (exposed for tests).
DensityFile read_density_file(const std::string& path);

}  // namespace sabre::phys::tables
