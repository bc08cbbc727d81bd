// Sampling of the bremsstrahlung photon energy above the photon production cut W_cr from
// the material's alias tables (MaterialData::brems_photon, built from the Seltzer-Berger
// spectra by the table generator, docs/tables.md). Host and device.
//
// Tables are stored per (material, electron energy grid point T_i) in the reduced variable
//   u = ln(k / W_cr) / ln(T / W_cr),  u in [0, 1),
// in which the density is proportional to the scaled Seltzer-Berger cross section
//   chi(T, kappa = k/T) = (beta^2/Z^2) k dsigma/dk
// (S. M. Seltzer and M. J. Berger, At. Data Nucl. Data Tables 35 (1986) 345), because
// dk/k = ln(T/W_cr) du. Within a bin u is uniform (dsigma/dk ~ 1/k there).
//
// Random numbers: exactly 4 uniforms per call (no loop):
//   1. choose grid point i or i+1 with the linear-in-ln(T) weight (stochastic interpolation),
//   2. bin index, 3. alias decision (A. J. Walker, ACM TOMS 3 (1977) 253; the alias method
//      as set up by Vose, IEEE TSE 17 (1991) 972), 4. position within the bin.
// The sampled u is mapped back with the actual T, so k is in [W_cr, T) for every T.
#pragma once

#include <cmath>

#include "physics/core/macros.hh"
#include "physics/materials/material_data.hh"

namespace sabre::phys {

inline constexpr int kBremsUniformsPerSample = 4;

// Alias draw in one table row: returns a bin in [0, bins). Uses 2 uniforms.
template <class Rng>
SABRE_HD int sample_alias_bin(const double* prob, const int* alias, int bins, Rng& rng) {
  int b = static_cast<int>(rng.uniform() * bins);
  if (b >= bins) b = bins - 1;
  return rng.uniform() < prob[b] ? b : alias[b];
}

// Photon energy k [MeV] of a hard bremsstrahlung event of an e- (species kElectron) or e+
// (kPositron) with kinetic energy kinetic_mev in `material`. Precondition: kinetic_mev >
// data.cuts.photon_production_mev (otherwise there is no hard bremsstrahlung).
template <class Rng>
SABRE_HD double sample_brems_photon_energy(const MaterialData& data, int species, int material,
                                           double kinetic_mev, Rng& rng) {
  const AliasSet& set = data.brems_photon[species];
  const double wcr = data.cuts.photon_production_mev;
  double frac;
  int i = set.grid.locate(kinetic_mev, frac);
  if (rng.uniform() < frac) ++i;
  // Below the first grid point with a spectrum (T_i <= W_cr) use the next one: the shape
  // in u varies slowly with T.
  const double lnt = set.grid.ln_e0 + i / set.grid.inv_dln;
  if (lnt <= std::log(wcr) && i + 1 < set.grid.n) ++i;
  const long row = (static_cast<long>(material) * set.grid.n + i) * set.bins;
  const int b = sample_alias_bin(set.prob + row, set.alias + row, set.bins, rng);
  const double lo = set.edges ? set.edges[b] : static_cast<double>(b) / set.bins;
  const double hi = set.edges ? set.edges[b + 1] : static_cast<double>(b + 1) / set.bins;
  const double u = lo + rng.uniform() * (hi - lo);
  double k = wcr * std::exp(u * std::log(kinetic_mev / wcr));
  if (k >= kinetic_mev) k = kinetic_mev;  // guards rounding at u -> 1
  return k;
}

}  // namespace sabre::phys
