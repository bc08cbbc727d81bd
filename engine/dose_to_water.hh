#pragma once
// Dose to water from dose to medium (issue 19, item 1): D_w = D_m x s_w,m per voxel, with
// s_w,m the water-to-medium ratio of unrestricted electron collision stopping powers averaged
// over the electron fluence spectrum in the medium (Bragg-Gray cavity theory, the conversion
// of Siebers et al., Phys. Med. Biol. 45 (2000) 983-995). The spectrum is the slowing-down
// spectrum of the Compton electrons the beam's photon spectrum sets in motion:
//
//   N(T)   = sum_k w_k dsigma_KN/dT (E_k, T)         electrons started at kinetic energy T
//   Phi(T) = (1 / S_tot,m(T)) int_T^Tmax N(T') dT'    continuous slowing down in the medium
//   s_w,m  = int Phi S_col,w dT / int Phi S_col,m dT  from 10 keV (or the table's lowest
//                                                      energy) to the highest Compton edge
//
// Pair production and the photoelectric effect (a few per cent of the electrons at 6 MV) and
// the hardening of the photon spectrum with depth are left out: Siebers et al. show the ratio
// changing by well under 1 % with depth, field size and beam energy from 6 to 18 MV. One
// factor per material for the whole run; the relative statistical uncertainty of each voxel
// is unchanged (a constant factor per voxel). Stopping powers: the table set's (NIST ESTAR
// method, docs/physics-tables.md). Checked against Siebers et al.'s values in
// tests/engine/dose_to_water_test.cc.
#include <string>
#include <vector>

#include "physics/tables/material_tables.hh"

namespace sabre {

// s_w,m for one material of `tables`, for a photon spectrum (bin energies [MeV] and relative
// fluence weights). 1 for water itself. InputError if the table set has no "water".
double water_to_medium_stopping_power_ratio(const phys::MaterialTables& tables, int material,
                                            const std::vector<double>& photon_energies_mev,
                                            const std::vector<double>& photon_weights);

// One factor per name in `material_names` (names of `tables`).
std::vector<double> water_to_medium_factors(const phys::MaterialTables& tables,
                                            const std::vector<std::string>& material_names,
                                            const std::vector<double>& photon_energies_mev,
                                            const std::vector<double>& photon_weights);

// What the provenance and reports say of the conversion.
inline constexpr const char* kDoseToWaterMethod =
    "Bragg-Gray: D_w = D_m x s_w,m per voxel, s_w,m = ratio of unrestricted collision stopping "
    "powers (table set) over the Compton-electron slowing-down spectrum of the beam's photon "
    "spectrum, one factor per material (Siebers et al., Phys. Med. Biol. 45 (2000) 983)";

}  // namespace sabre
