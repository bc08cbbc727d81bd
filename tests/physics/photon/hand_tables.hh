// A small hand-made material table set for photon tests that must not depend on the
// shipped table file: two materials ("water-like" and "bone-like"), photon coefficients
// from simple analytic forms on a log-energy grid (1 keV - 100 MeV). NOT physics data:
// only self-consistent numbers, so tests of tracking and bookkeeping can compare with
// the same table's mu. Electron tables are left empty.
#pragma once

#include <cmath>
#include <vector>

#include "physics/core/constants.hh"
#include "physics/materials/material_data.hh"

namespace sabre::test {

// Klein-Nishina total cross section per free electron [cm^2] (Heitler, "The quantum
// theory of radiation", 3rd ed., eq. 22.10).
inline double kn_sigma_cm2(double e_mev) {
  using namespace sabre::phys;
  const double k = e_mev / kElectronMassMeV;
  const double l = std::log(1 + 2 * k);
  return 2 * kPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm *
         ((1 + k) / (k * k) * (2 * (1 + k) / (1 + 2 * k) - l / k) + l / (2 * k) -
          (1 + 3 * k) / ((1 + 2 * k) * (1 + 2 * k)));
}

struct HandTables {
  static constexpr int kMaterials = 2;
  static constexpr int kPoints = 301;
  std::vector<double> proc[phys::kNumPhotonProcesses];
  std::vector<double> total, majorant;
  phys::MaterialData data;

  HandTables() {
    using namespace sabre::phys;
    LogGrid grid;
    grid.ln_e0 = std::log(1e-3);
    grid.n = kPoints;
    grid.inv_dln = (kPoints - 1) / (std::log(100.0) - std::log(1e-3));
    const double electrons_per_g[kMaterials] = {3.343e23, 3.19e23};
    const double photo_scale[kMaterials] = {2.0e-6, 1.2e-5};  // x E^-3 [cm^2/g]
    const double pair_scale[kMaterials] = {1.0e-3, 1.5e-3};   // x ln(E/1.022) [cm^2/g]
    for (auto& v : proc) v.assign(kMaterials * kPoints, 0.0);
    total.assign(kMaterials * kPoints, 0.0);
    majorant.assign(kPoints, 0.0);
    for (int m = 0; m < kMaterials; ++m) {
      for (int i = 0; i < kPoints; ++i) {
        const double e = grid.energy(i);
        const int at = m * kPoints + i;
        proc[kIncoherent][at] = kn_sigma_cm2(e) * electrons_per_g[m];
        proc[kPhotoelectric][at] = photo_scale[m] / (e * e * e);
        proc[kPairNuclear][at] = e > 1.03 ? pair_scale[m] * std::log(e / 1.022) : 0.0;
        proc[kPairElectron][at] = e > 2.05 ? 0.1 * pair_scale[m] * std::log(e / 2.044) : 0.0;
        proc[kRayleigh][at] = 0.01 * proc[kIncoherent][at] / (1 + 20 * e);
        double s = 0;
        for (int q = 0; q < kNumPhotonProcesses; ++q) s += proc[q][at];
        total[at] = s;
        majorant[i] = std::fmax(majorant[i], s);
      }
    }
    data.n_materials = kMaterials;
    for (int q = 0; q < kNumPhotonProcesses; ++q) data.photon.mu_rho[q] = {grid, proc[q].data()};
    data.photon.mu_rho_total = {grid, total.data()};
    data.photon.majorant_mu_rho = {grid, majorant.data()};
    data.cuts.photon_absorption_mev = 0.01;
    data.cuts.electron_absorption_mev = 0.189;
    data.cuts.electron_production_mev = 0.189;
    data.cuts.photon_production_mev = 0.01;
  }
  HandTables(const HandTables&) = delete;
  HandTables& operator=(const HandTables&) = delete;
};

}  // namespace sabre::test
