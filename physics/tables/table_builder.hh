// The physics table generator (`sabre tables build`): per material, photon cross sections
// from XCOM, electron/positron stopping powers, ranges, hard-event cross sections,
// multiple-scattering parameters and bremsstrahlung alias tables, on log-spaced grids.
// Methods and references: docs/tables.md. Host only.
#pragma once

#include <string>
#include <vector>

#include "physics/tables/material_catalog.hh"
#include "physics/tables/table_set.hh"

namespace sabre::phys::tables {

// Default cuts: those of the EGSnrc reference (AE = ECUT = 0.700 MeV total energy, i.e.
// 0.189 MeV kinetic; AP = PCUT = 0.010 MeV), ../shared/data/reference/egsnrc/R1-*/README.md.
Cuts default_cuts();

struct BuildOptions {
  std::string source_dir;               // ../shared/data/physics
  std::string set_name = "default";     // recorded in the file
  std::vector<std::string> materials;   // names (material_catalog.hh); empty: default set
  std::vector<std::string> user_materials;  // "NAME:DENSITY:I:EL=W,..." definitions
  Cuts cuts = default_cuts();
};

// The exact (un-tabulated) generator physics of one material: what the tables hold at
// their grid points, evaluated at any energy. Tests use it to measure interpolation error.
class MaterialPhysics {
 public:
  MaterialPhysics(const MaterialSpec& spec, const RawData& raw, const Cuts& cuts);

  const MaterialSpec& spec() const { return spec_; }

  // Photon mass attenuation coefficient of one process [cm^2/g] (XCOM, log-log, mixture
  // rule by mass fraction).
  double mu_rho(int process, double energy_mev) const;
  double mu_rho_total(double energy_mev) const;

  // Density-effect correction delta at kinetic energy t_mev.
  double density_effect(double t_mev) const;
  // Collision stopping power [MeV cm^2/g]: restricted to energy transfers below cut_mev,
  // or unrestricted when cut_mev <= 0 (ICRU Report 37 / Bethe with Moller or Bhabha).
  double dedx_collision(int species, double t_mev, double cut_mev) const;
  // Radiative stopping power [MeV cm^2/g] from Seltzer-Berger, from photons below k_cut_mev
  // (unrestricted when k_cut_mev <= 0). Positrons use the electron value.
  double dedx_radiative(double t_mev, double k_cut_mev) const;
  double dedx_total(int species, double t_mev) const;
  double dedx_restricted(int species, double t_mev) const;
  // Ranges [g/cm^2] from the grid's first energy e0_mev, plus the power-law estimate of the
  // range at e0 (docs/tables.md).
  double range(int species, double t_mev, double e0_mev, bool restricted) const;
  double sigma_hard_collision(int species, double t_mev) const;  // [cm^2/g]
  double sigma_hard_brems(double t_mev) const;                   // [cm^2/g]
  double sigma_annihilation(int species, double t_mev) const;    // [cm^2/g]
  double msc_inv_lambda1(double t_mev) const;                    // [cm^2/g]
  double msc_screening(double t_mev) const;                      // eta
  // Bremsstrahlung photon spectrum at t_mev > W_cr in the reduced variable u: probability of
  // each of `bins` equal bins on [0, 1).
  std::vector<double> brems_u_spectrum(double t_mev, int bins) const;

  double electrons_per_gram() const { return n_el_; }
  // int_a^b dT / S(T) [g/cm^2] (8-point Gauss-Legendre in ln T), S total or restricted.
  double range_integral(int species, double a_mev, double b_mev, bool restricted) const;

 private:
  MaterialSpec spec_;
  const RawData* raw_;
  Cuts cuts_;
  double n_el_ = 0;            // electrons per gram
  std::vector<double> atoms_;  // atoms of each element per gram
  // Sternheimer-Peierls parameters for user materials without a delta table
  double sp_c_ = 0, sp_x0_ = 0, sp_x1_ = 0, sp_a_ = 0;
};

// Energy grids of the shipped format.
LogGrid photon_grid();
LogGrid charged_grid();
LogGrid alias_grid();
inline constexpr int kAliasBins = 64;

// Builds the whole table set in memory.
TableSet build_tables(const BuildOptions& opt);

// Alias table (Walker/Vose) for the discrete distribution p (need not be normalised).
void build_alias(const std::vector<double>& p, double* prob, std::int32_t* alias);

}  // namespace sabre::phys::tables
