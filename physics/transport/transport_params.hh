// Everything read-only that transport needs for one run ("params"), on host and device:
// the voxel phantom, the material tables, and the physics switches. Owns nothing; the
// engine keeps the arrays alive. Passed by const reference to every transport functor
// (photon loop in physics/photon/photon_transport.hh, charged-particle step in
// physics/electron/), so a switch added here reaches both.
#pragma once

#include "physics/geometry/voxel_grid.hh"
#include "physics/materials/material_data.hh"

namespace sabre::phys {

// Default of PhysicsSwitches::source_margin_density (and of beams::SourceOptions).
inline constexpr double kDefaultSourceMarginDensity = 0.25;
// Default of the run file's source_splitting (engine/run_config.hh: plan sources, whose head
// sampling is expensive). Everything else (phantom files, commissioning) defaults to 1.
inline constexpr int kDefaultSourceSplitting = 8;

struct PhysicsSwitches {
  // Photons
  bool rayleigh = true;  // coherent scattering on (Thomson angular distribution, see
                         // physics/photon/rayleigh.hh); off: Rayleigh events are treated
                         // as fictitious (no change), i.e. tracking with mu - mu_coh
  // Electrons/positrons (read by physics/electron/)
  bool delta_rays = true;        // hard Moller/Bhabha events
  bool bremsstrahlung = true;    // hard bremsstrahlung events
  bool multiple_scattering = true;
  bool annihilation_in_flight = true;
  // Condensed-history step control (physics/electron/condensed_history.hh, ElectronOptions;
  // docs/electron-transport.md): largest fractional energy loss per step and largest
  // G1 = int dt/lambda_1 per step.
  double estepe = 0.25;
  double msc_g1_max = 0.2;
  // Multiple-scattering angular model: true = two moments (<P1> and <P2> exact per step,
  // physics/electron/msc.hh sample_msc_cos_theta_2m), false = first moment only.
  bool msc_two_moments = true;
  // Efficiency (issue 20; docs/efficiency.md). Each is exact in expectation, on by default,
  // switchable in the phantom and run files ([physics]) and in the output's provenance.
  // The multiple-scattering screening from a table built at load time instead of a Newton
  // solve per deflection (physics/electron/msc.hh).
  bool msc_tables = true;
  // Electron range rejection with Russian roulette (physics/electron/condensed_history.hh):
  // an electron whose residual range cannot take it out of its voxel survives with
  // probability range_rejection_survival (weight / survival, the rest of the voxel's
  // expectation as a local correction) or deposits its energy in the voxel. Exact in
  // expectation, bremsstrahlung included.
  bool range_rejection = true;
  double range_rejection_survival = 0.125;
  // Importance sampling of the linac source's aims (read by the source models, beams/vsm.hh
  // and beams/collimator.hh sampling_window, not by transport): the density of aims in the
  // field-restriction margin (the band outside the projected jaw, cone or Iris opening) is
  // this fraction of the density over the opening, with weight 1 / pdf. Exact in
  // expectation; 1 = uniform over the widened window (the sampling before issue 20).
  double source_margin_density = kDefaultSourceMarginDensity;
  // Longer electron steps away from interfaces (physics/electron/condensed_history.hh,
  // docs/efficiency.md): an electron whose whole residual path cannot reach another material
  // or the grid's surface (the phantom's safety map, physics/transport/step_safety.hh) steps
  // with the multiple-scattering limit far_msc_g1_max instead of msc_g1_max.
  bool far_steps = true;
  double far_msc_g1_max = 1.0;
  // Splitting of the source's particles (physics/transport/history.hh run_history): each
  // primary that leaves the source alive is transported as this many independent copies of
  // weight w / n (DOSXYZnrc's recycling of phase-space particles). Exact in expectation;
  // it pays where sampling the source costs a sizeable part of a history (the linac head's
  // collimators): the run file's default is kDefaultSourceSplitting, 1 (off) elsewhere.
  int source_splitting = 1;
};

struct TransportParams {
  PhantomView phantom;
  MaterialData materials;  // cuts in materials.cuts
  PhysicsSwitches switches;
  // Effective atomic number per material for the pair energy-sharing screening (Coulomb
  // and screening corrections of Bethe-Heitler); nullptr: kPairDefaultZ for all.
  const double* pair_z_eff = nullptr;  // [material]
  // Woodcock majorant multiplier: the phantom's largest density [g/cm^3] (defaults to
  // phantom.max_density_g_cm3 when 0).
  double majorant_density_g_cm3 = 0;
};

inline constexpr double kPairDefaultZ = 7.42;  // water's effective Z (for pair screening)

}  // namespace sabre::phys
