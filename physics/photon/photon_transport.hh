// Photon transport through the voxel phantom by Woodcock (delta) tracking [E. R. Woodcock
// et al., ANL-7050 (1965) 557; as in DPM, J. Sempau et al., Phys. Med. Biol. 45 (2000)
// 2263]: free flights are sampled against the majorant mu_max(E) = max over materials of
// mu/rho(E) x the phantom's largest density, so voxel boundaries cost nothing; at each
// candidate point the interaction is real with probability mu(E, voxel)/mu_max(E), else
// fictitious (the photon goes on unchanged). A real interaction is one of incoherent
// (Klein-Nishina), photoelectric, pair (nuclear and electron field) or Rayleigh, chosen
// by the per-process coefficients of the voxel's material.
// Photons at or below the photon absorption cut deposit their energy where they are
// (Scorer::below_cut). Charged secondaries below the electron absorption cut are
// deposited at the interaction point (below_cut) rather than pushed (positrons are always
// pushed: their annihilation is the charged transport's job).
//
// Preconditions: p is a photon inside the grid (or on its surface moving in).
// Random numbers: 3 per flight (distance, real/fictitious, process) + the interactor's.
#pragma once

#include <cmath>
#include <cstdint>

#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"
#include "physics/geometry/voxel_traversal.hh"
#include "physics/photon/interaction.hh"
#include "physics/photon/klein_nishina.hh"
#include "physics/photon/pair_production.hh"
#include "physics/photon/photoelectric.hh"
#include "physics/photon/rayleigh.hh"
#include "physics/transport/secondaries.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

enum class PhotonFate : int { escaped = 0, absorbed = 1, converted = 2 };

// The voxel holding p, robust for points on the grid surface (rounding): indices are
// clamped into the grid. Use only for points known to be inside up to rounding.
SABRE_HD_INLINE std::int64_t voxel_clamped(const GridGeometry& g, Vec3 p) {
  int i = g.cell(0, p.x), j = g.cell(1, p.y), k = g.cell(2, p.z);
  i = i < 0 ? 0 : (i >= g.nx ? g.nx - 1 : i);
  j = j < 0 ? 0 : (j >= g.ny ? g.ny - 1 : j);
  k = k < 0 ? 0 : (k >= g.nz ? g.nz - 1 : k);
  return g.index(i, j, k);
}

SABRE_HD_INLINE double majorant_density(const TransportParams& tp) {
  return tp.majorant_density_g_cm3 > 0 ? tp.majorant_density_g_cm3
                                       : double(tp.phantom.max_density_g_cm3);
}

// Applies an interactor's charged secondaries at position pos in voxel v.
template <class Scorer, class Stack>
SABRE_HD void emit_secondaries(const TransportParams& tp, const PhotonInteraction& r, Vec3 pos,
                               double weight, std::int64_t v, Scorer& scorer, Stack& stack) {
  const double e_cut = tp.materials.cuts.electron_absorption_mev;
  for (int n = 0; n < r.n_secondaries; ++n) {
    Particle s;
    s.type = r.secondary_type[n];
    s.energy_mev = r.secondary_energy_mev[n];
    s.pos_cm = pos;
    s.dir = r.secondary_dir[n];
    s.weight = weight;
    if (s.type == ParticleType::electron && s.energy_mev <= e_cut) {
      scorer.below_cut(v, s.energy_mev * weight);
      continue;
    }
    push_or_deposit(stack, scorer, s, v);
  }
}

template <class Scorer, class Stack>
SABRE_HD PhotonFate transport_photon(const TransportParams& tp, Particle& p, Rng& rng,
                                     Scorer& scorer, Stack& stack) {
  const GridGeometry& g = tp.phantom.grid;
  const PhotonData& ph = tp.materials.photon;
  const double rho_max = majorant_density(tp);
  const double cut = tp.materials.cuts.photon_absorption_mev;
  const double w = p.weight;
  // The energy's point on the photon grid and the majorant, kept while the energy does not
  // change (fictitious events): one logarithm of the energy per real interaction. All
  // photon tables share one grid (the loader binds them all to the file's photon grid).
  double e_located = -1, f = 0, mu_max_cm = 0;
  int bin = 0;
  // Fictitious events decided per block (physics/transport/block_majorant.hh): a candidate
  // whose acceptance number is at least its block's bound M(E) rho_b is fictitious whatever
  // its voxel holds, so the voxel (a random memory access) is not read. The same decisions
  // as with the voxel read, bit for bit: M is widened by 1e-9 so that rounding in the
  // interpolation cannot put a voxel's mu above its block's bound.
  const float* block_rho = tp.phantom.block_max_density_g_cm3;
  const bool blocks = block_rho && ph.block_majorant_mu_rho.values;
  double m_rho = 0;  // M(E) (1 + 1e-9) [cm^2/g]
  for (;;) {
    if (p.energy_mev <= cut) {
      scorer.below_cut(voxel_clamped(g, p.pos_cm), p.energy_mev * w);
      return PhotonFate::absorbed;
    }
    if (p.energy_mev != e_located) {
      e_located = p.energy_mev;
      bin = ph.mu_rho_total.grid.locate(e_located, f);
      mu_max_cm = ph.majorant_mu_rho.at(0, bin, f) * rho_max;  // [1/cm]
      if (blocks) m_rho = ph.block_majorant_mu_rho.at(0, bin, f) * (1 + 1e-9);
    }
    const double s_cm = -std::log(rng.uniform()) / mu_max_cm;
    p.pos_cm = p.pos_cm + s_cm * p.dir;
    int i, j, k;
    if (!g.locate(p.pos_cm, i, j, k)) {
      scorer.escape(p.energy_mev * w);
      return PhotonFate::escaped;
    }
    const double u_mu = rng.uniform() * mu_max_cm;
    if (blocks && u_mu >= m_rho * double(block_rho[tp.phantom.block_of(i, j, k)])) continue;  // fictitious
    const std::int64_t v = g.index(i, j, k);
    const int m = tp.phantom.material[v];
    const double rho = tp.phantom.density_g_cm3[v];
    const double mu_cm = ph.mu_rho_total.at(m, bin, f) * rho;
    if (u_mu >= mu_cm) continue;  // fictitious
    // Real interaction: pick the process (every photon table on the same grid, above).
    double mu_p[kNumPhotonProcesses];
    double sum = 0;
    for (int q = 0; q < kNumPhotonProcesses; ++q) {
      mu_p[q] = ph.mu_rho[q].at(m, bin, f);
      if (mu_p[q] < 0) mu_p[q] = 0;
      sum += mu_p[q];
    }
    double r = rng.uniform() * sum;
    int proc = kNumPhotonProcesses - 1;
    for (int q = 0; q < kNumPhotonProcesses; ++q) {
      if (r < mu_p[q]) { proc = q; break; }
      r -= mu_p[q];
    }
    while (proc > 0 && mu_p[proc] <= 0) --proc;  // rounding at the top end
    PhotonInteraction out;
    switch (proc) {
      case kIncoherent:
        out = KleinNishinaInteractor{p.energy_mev, p.dir}(rng);
        break;
      case kPhotoelectric:
        out = PhotoelectricInteractor{p.energy_mev, p.dir}(rng);
        break;
      case kPairNuclear:
      case kPairElectron: {
        // Interpolation may leave a tiny pair coefficient just below threshold: no pair
        // can be made there, so the event is fictitious (bias < that tiny coefficient).
        if (p.energy_mev <= 2.0 * kElectronMassMeV) continue;
        const double z = tp.pair_z_eff ? tp.pair_z_eff[m] : kPairDefaultZ;
        out = PairProductionInteractor{p.energy_mev, p.dir, z}(rng);
        break;
      }
      default:  // kRayleigh
        if (!tp.switches.rayleigh) continue;
        out = RayleighInteractor{p.energy_mev, p.dir}(rng);
        break;
    }
    if (out.rest_mass_mev != 0) scorer.rest_mass(out.rest_mass_mev * w);
    if (out.local_deposit_mev > 0) scorer.deposit(v, out.local_deposit_mev * w);
    emit_secondaries(tp, out, p.pos_cm, w, v, scorer, stack);
    if (!out.photon_alive) {
      return proc == kPhotoelectric ? PhotonFate::absorbed : PhotonFate::converted;
    }
    p.energy_mev = out.photon_energy_mev;
    p.dir = out.photon_dir;
  }
}

}  // namespace sabre::phys
