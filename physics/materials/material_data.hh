// Read-only material interaction data as transport sees it ("params"), on host and device.
// Built from a table file (docs/tables.md) by physics/tables/material_tables.hh's loader;
// all arrays are flat and owned elsewhere, so the whole set copies to a GPU array by array.
//
// Every per-material quantity is a GridTable: values on a uniform grid in ln(E), one row
// per material, interpolated linearly in ln(E). Mass quantities are per unit density:
// multiply by the voxel's density [g/cm^3] to get per-cm values.
//
// THIS IS THE CONTRACT between the table loader (issue 3) and transport (issue 4): names
// and meanings below stay; new members may be added.
#pragma once

#include <cmath>
#include <cstdint>

#include "physics/core/macros.hh"

namespace sabre::phys {

// Uniform grid in x = ln(E / MeV): E_i = exp(ln_e0 + i / inv_dln), i = 0..n-1.
struct LogGrid {
  double ln_e0 = 0;
  double inv_dln = 1;
  int n = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)

  SABRE_HD double energy(int i) const { return std::exp(ln_e0 + i / inv_dln); }
  // Bin index i in [0, n-2] and fraction f in [0,1] such that ln E = x_i + f*(x_{i+1}-x_i);
  // energies outside the grid are clamped to its ends.
  SABRE_HD int locate(double energy_mev, double& frac) const {
    return locate_ln(std::log(energy_mev), frac);
  }
  // The same from ln(E / MeV) (when the caller already has the logarithm).
  SABRE_HD int locate_ln(double ln_energy, double& frac) const {
    double t = (ln_energy - ln_e0) * inv_dln;
    if (!(t > 0)) { frac = 0; return 0; }
    if (t >= n - 1) { frac = 1; return n - 2; }
    const int i = int(t);
    frac = t - i;
    return i;
  }
};

struct GridTable {
  LogGrid grid;
  const double* values = nullptr;  // [material * grid.n + i]

  SABRE_HD double at(int material, int i, double frac) const {
    const double* row = values + static_cast<long>(material) * grid.n;
    return row[i] + frac * (row[i + 1] - row[i]);
  }
  SABRE_HD double operator()(int material, double energy_mev) const {
    double f;
    const int i = grid.locate(energy_mev, f);
    return at(material, i, f);
  }
};

enum PhotonProcess : int {
  kIncoherent = 0,     // Compton (XCOM incoherent)
  kPhotoelectric = 1,
  kPairNuclear = 2,    // pair production in the nuclear field
  kPairElectron = 3,   // pair production in the electron field (triplet)
  kRayleigh = 4,       // coherent
  kNumPhotonProcesses = 5
};

struct PhotonData {
  GridTable mu_rho[kNumPhotonProcesses];  // mass attenuation coefficient per process [cm^2/g]
  GridTable mu_rho_total;                 // sum of the above [cm^2/g]
  GridTable majorant_mu_rho;              // one row: max over materials of mu_rho_total [cm^2/g]
  // One row: max over the phantom's materials of mu_rho_total [cm^2/g], which times a block's
  // largest density bounds mu in the block (physics/transport/block_majorant.hh; set with
  // PhantomView::block_max_density_g_cm3, null without it).
  GridTable block_majorant_mu_rho;
};

enum ChargedSpecies : int { kElectron = 0, kPositron = 1, kNumChargedSpecies = 2 };

struct ChargedData {
  // Restricted stopping power: collision losses below the delta-ray cut plus radiative
  // losses below the bremsstrahlung cut [MeV cm^2/g].
  GridTable dedx_restricted;
  GridTable dedx_collision_restricted;  // collision part alone [MeV cm^2/g]
  GridTable dedx_radiative_restricted;  // radiative part alone [MeV cm^2/g]
  // Range with the restricted stopping power, from the grid's lowest energy [g/cm^2].
  GridTable range_restricted;
  // Macroscopic mass cross sections of the discrete (hard) events [cm^2/g]:
  GridTable sigma_hard_collision;  // Moller (e-) / Bhabha (e+), energy transfer above the cut
  GridTable sigma_hard_brems;      // bremsstrahlung photon above the photon production cut
  GridTable sigma_annihilation;    // positrons only (in flight); zero rows for electrons
  // Multiple scattering (screened Rutherford / Wentzel):
  GridTable msc_inv_lambda1;  // first transport cross section 1/lambda_1 [cm^2/g]
  GridTable msc_screening;    // screening parameter eta (dimensionless), as in
                              // dsigma/dOmega ~ 1/(1 - cos(theta) + 2 eta)^2
  // Unrestricted quantities (added by issue 3; for CSDA-mode checks and dose to water):
  GridTable dedx_collision;  // unrestricted collision stopping power [MeV cm^2/g]
  GridTable dedx_radiative;  // unrestricted radiative stopping power [MeV cm^2/g]
  GridTable dedx_total;      // sum of the two [MeV cm^2/g]
  GridTable range_csda;      // CSDA range with dedx_total (ESTAR method) [g/cm^2]
};

// Production and absorption cuts (kinetic energies) [MeV].
struct Cuts {
  double electron_production_mev = 0;  // W_cc: hard Moller/Bhabha threshold (delta-ray energy)
  double photon_production_mev = 0;    // W_cr: hard bremsstrahlung photon threshold
  double electron_absorption_mev = 0;  // e-/e+ transport stops below this (local deposit)
  double photon_absorption_mev = 0;    // photons are absorbed locally below this
};

// Alias tables for the bremsstrahlung photon energy, per (material, electron energy grid
// point): `bins` bins in the reduced variable u = ln(k/W_cr)/ln(T/W_cr) in [0,1), sampled
// with a fixed count of random numbers (see physics/electron/brems_sampling.hh).
struct AliasSet {
  int bins = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  const double* prob = nullptr;   // [(material * grid.n + i) * bins + b]
  const int* alias = nullptr;     // same layout
  const double* edges = nullptr;  // [bins + 1] edges in the reduced variable, if non-uniform
  // Added by issue 3: the electron kinetic-energy grid of these tables (may be coarser than
  // the ChargedData grid); rows exist for every grid point, zero-filled below W_cr.
  LogGrid grid;
};

// The Wentzel screening of the multiple-scattering deflection as a function of its mean
// (physics/electron/msc.hh): row 0 holds ln A, row 1 <w^2>_A / <w>_A, on a uniform grid in
// ln <w> ("energy" of the LogGrid = <w> = (1 - <cos theta>)/2), built at load time from the
// exact solver (physics/tables/material_tables.cc). values == nullptr: no table (the
// solver runs per deflection).
inline constexpr int kMscTableRows = 2;

struct MaterialData {
  int n_materials = 0;
  Cuts cuts;
  PhotonData photon;
  ChargedData charged[kNumChargedSpecies];
  AliasSet brems_photon[kNumChargedSpecies];  // electron/positron bremsstrahlung spectra
  GridTable msc_wentzel;  // kMscTableRows rows, see above (added by issue 20)
};

}  // namespace sabre::phys
