// Acceptance 3 of issue 3: the interpolation error of the shipped grids, measured against
// the generator's exact values at the grid mid-points (the worst place for linear
// interpolation in ln E), stays below 0.2 %.
//
// What is measured and what is left out (each printed when the test runs):
//  - photons: the total mu/rho relative to itself; each process's error relative to the
//    total (the error of the interaction probability). Intervals containing an absorption
//    edge of any element of the material are excluded (a step no grid resolves), and so are
//    energies below the photon absorption cut (never transported; high-Z L/M-shell
//    structure there has kinks the grid does not follow).
//  - electrons and positrons: every quantity relative to itself, except, for the quantities
//    with a threshold (restricted stopping powers, hard cross sections), the interval that
//    contains the threshold (W_cc or 2 W_cc, W_cr) and the next kNearSteps - 1 intervals,
//    where the value rises from zero or has a kink.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/build_info.hh"
#include "physics/core/constants.hh"
#include "physics/tables/material_tables.hh"
#include "physics/tables/table_builder.hh"
#include "tests/support/skip.hh"

using namespace sabre::phys;
using namespace sabre::phys::tables;

namespace {

std::string default_file() {
  return (std::filesystem::path(sabre::build::data_dir()) / "physics" / "data" / "default.h5").string();
}

bool has_edge(const RawData& raw, const MaterialSpec& s, double lo, double hi) {
  const double a = std::log(lo), b = std::log(hi);
  for (const auto& [z, w] : s.mass_fractions) {
    const auto& c = raw.xcom(kPhotoelectric, z);
    for (std::size_t i = 1; i < c.ln_e.size(); ++i)
      if (c.ln_e[i] == c.ln_e[i - 1] && c.ln_e[i] >= a - 1e-9 && c.ln_e[i] <= b + 1e-9) return true;
  }
  return false;
}

// The interval starting at lo contains threshold x or lies less than kNearSteps grid
// steps above it: the value rises from zero there (or has a kink) and linear
// interpolation in ln E is poor.
constexpr int kNearSteps = 4;
bool near(const LogGrid& g, double lo, double x) {
  const double steps = std::log(lo / x) * g.inv_dln;
  return steps > -1 && steps < kNearSteps;
}

}  // namespace

TEST_CASE("shipped grids: interpolation error below 0.2 % at grid mid-points", "[tables][acceptance]") {
  SABRE_REQUIRE_SHARED();
  const MaterialTables tabs(default_file());
  const MaterialData& d = tabs.data();
  RawData raw(sabre::test::shared_dir() + "/data/physics");
  const Cuts cuts = tabs.cuts();
  const double mc2 = kElectronMassMeV;

  double worst_photon = 0, worst_charged = 0, worst_near = 0, worst_below_cut = 0, worst_self = 0;
  std::string where_photon, where_charged, where_near, where_below_cut, where_self;
  int excluded = 0, checked = 0;
  for (int m = 0; m < tabs.n_materials(); ++m) {
    const MaterialSpec spec = resolve_material(raw, tabs.names()[m]);
    const MaterialPhysics mp(spec, raw, cuts);
    const LogGrid& pg = d.photon.mu_rho_total.grid;
    for (int i = 0; i + 1 < pg.n; ++i) {
      const double lo = pg.energy(i), hi = pg.energy(i + 1);
      const double e = std::sqrt(lo * hi);
      if (has_edge(raw, spec, lo, hi)) { ++excluded; continue; }
      // Photons below the absorption cut are never transported (deposited locally); there
      // the L/M-shell structure of high-Z XCOM data has kinks the grid does not resolve.
      const bool below_cut = lo < cuts.photon_absorption_mev;
      const double total = mp.mu_rho_total(e);
      for (int p = 0; p <= kNumPhotonProcesses; ++p) {
        const double exact = p < kNumPhotonProcesses ? mp.mu_rho(p, e) : total;
        const double table = p < kNumPhotonProcesses ? d.photon.mu_rho[p](m, e) : d.photon.mu_rho_total(m, e);
        // Per process the error is measured relative to the total attenuation (the error of
        // the interaction probability transport samples with); the total relative to itself.
        // The per-process error relative to the process itself is printed for information:
        // it is larger only just above the pair thresholds, where pair production is a
        // negligible part of the total.
        const double self_err = std::fabs(table / exact - 1);
        const double err = std::fabs(table - exact) / total;
        if (!below_cut && exact > 1e-3 * total && self_err > worst_self) worst_self = self_err, where_self = tabs.names()[m] + " process " + std::to_string(p) + " at " + std::to_string(e);
        if (below_cut) {
          if (err > worst_below_cut) worst_below_cut = err, where_below_cut = tabs.names()[m] + " at " + std::to_string(e);
          continue;
        }
        ++checked;
        if (err > worst_photon) {
          worst_photon = err;
          where_photon = tabs.names()[m] + " photon process " + std::to_string(p) + " at " + std::to_string(e) + " MeV";
        }
      }
    }
    const LogGrid& cg = d.charged[0].dedx_total.grid;
    for (int s = 0; s < kNumChargedSpecies; ++s) {
      for (int i = 0; i + 1 < cg.n; ++i) {
        const double lo = cg.energy(i), hi = cg.energy(i + 1);
        const double e = std::sqrt(lo * hi);
        const double wcc = cuts.electron_production_mev, wcr = cuts.photon_production_mev;
        const double tcc = s == kPositron ? wcc : 2 * wcc;  // lowest T with a hard collision
        const bool near_cc = near(cg, lo, tcc), near_cr = near(cg, lo, wcr);
        // thresholds by quantity (order of kChargedQuantities)
        const bool near_q[kNumChargedQuantities] = {near_cc || near_cr, near_cc, near_cr, false, near_cc,
                                                    near_cr, false, false, false, false, false, false, false};
        const double exact[kNumChargedQuantities] = {
            mp.dedx_restricted(s, e), mp.dedx_collision(s, e, wcc), mp.dedx_radiative(e, wcr),
            // ranges: the table's grid values are the generator's own cumulative integrals,
            // so the exact mid-point value is the grid value plus the integral to e
            d.charged[s].range_restricted.values[m * cg.n + i] + mp.range_integral(s, lo, e, true),
            mp.sigma_hard_collision(s, e), mp.sigma_hard_brems(e),
            mp.sigma_annihilation(s, e), mp.msc_inv_lambda1(e), mp.msc_screening(e),
            mp.dedx_collision(s, e, 0), mp.dedx_radiative(e, 0), mp.dedx_total(s, e),
            d.charged[s].range_csda.values[m * cg.n + i] + mp.range_integral(s, lo, e, false)};
        for (int q = 0; q < kNumChargedQuantities; ++q) {
          if (exact[q] == 0) continue;
          const double table = (d.charged[s].*(kChargedQuantities[q].member))(m, e);
          const double err = std::fabs(table / exact[q] - 1);
          if (near_q[q]) {
            ++excluded;
            if (err > worst_near) worst_near = err, where_near = tabs.names()[m] + " " + kChargedQuantities[q].name + " at " + std::to_string(e);
            continue;
          }
          ++checked;
          if (err > worst_charged) {
            worst_charged = err;
            where_charged = tabs.names()[m] + " " + kChargedQuantities[q].name + " species " +
                            std::to_string(s) + " at " + std::to_string(e) + " MeV";
          }
        }
      }
    }
  }
  std::printf("interpolation: %d mid-point values checked, %d excluded (edges/thresholds)\n", checked, excluded);
  std::printf("  worst photon  %.4f %% (%s)\n", 100 * worst_photon, where_photon.c_str());
  std::printf("  (photon processes relative to themselves: worst %.4f %%, %s)\n", 100 * worst_self, where_self.c_str());
  std::printf("  worst charged %.4f %% (%s)\n", 100 * worst_charged, where_charged.c_str());
  std::printf("  (excluded, within %d grid steps above a threshold: worst %.4f %%, %s)\n", kNearSteps,
              100 * worst_near, where_near.c_str());
  std::printf("  (photons below the %g MeV absorption cut, not checked: worst %.4f %%, %s)\n",
              cuts.photon_absorption_mev, 100 * worst_below_cut, where_below_cut.c_str());
  CHECK(checked > 100000);
  CHECK(worst_photon < 0.002);   // acceptance 3: 0.2 %
  CHECK(worst_charged < 0.002);  // acceptance 3: 0.2 %
}
