// Deep copy of the read-only transport data (TransportParams and a source) into another
// memory space: every array the structs point to is handed to `copy(ptr, count)`, which
// returns where the copy lives, and the pointers are patched. The CUDA back end uses a
// device-memory copier; tests use a host copier and check that transport through the
// relocated copy gives bit-identical results (so a forgotten array shows up on the CPU).
//
// Whoever adds a pointer member to TransportParams, MaterialData, PhantomView or a source
// adds it here too; the relocation test fails on the CPU if a pointer still aliases the
// original storage (kernels/params_relocation_test.cc checks every pointer moved).
#pragma once

#include <cstddef>
#include <cstdint>

#include <vector>

#include "beams/delivery.hh"
#include "beams/linac_source.hh"
#include "beams/phsp_source.hh"
#include "beams/source.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::kernels {

// Copier concept:  template <class T> const T* copy(const T* src, std::size_t count);
// `copy` must copy at once (relocation hands it temporaries: the patched array of beam
// views), and must accept count == 0 only through the null checks below (never called).

template <class Copier>
void relocate_table(phys::GridTable& t, int rows, Copier& c) {
  if (t.values) t.values = c.copy(t.values, std::size_t(rows) * std::size_t(t.grid.n));
}

template <class Copier>
void relocate_alias(phys::AliasSet& a, int n_materials, Copier& c) {
  const std::size_t n = std::size_t(n_materials) * std::size_t(a.grid.n) * std::size_t(a.bins);
  if (a.prob) a.prob = c.copy(a.prob, n);
  if (a.alias) a.alias = c.copy(a.alias, n);
  if (a.edges) a.edges = c.copy(a.edges, std::size_t(a.bins) + 1);
}

template <class Copier>
void relocate_materials(phys::MaterialData& m, Copier& c) {
  const int nm = m.n_materials;
  for (auto& t : m.photon.mu_rho) relocate_table(t, nm, c);
  relocate_table(m.photon.mu_rho_total, nm, c);
  relocate_table(m.photon.majorant_mu_rho, 1, c);
  for (auto& ch : m.charged) {
    for (phys::GridTable* t :
         {&ch.dedx_restricted, &ch.dedx_collision_restricted, &ch.dedx_radiative_restricted,
          &ch.range_restricted, &ch.sigma_hard_collision, &ch.sigma_hard_brems,
          &ch.sigma_annihilation, &ch.msc_inv_lambda1, &ch.msc_screening, &ch.dedx_collision,
          &ch.dedx_radiative, &ch.dedx_total, &ch.range_csda})
      relocate_table(*t, nm, c);
  }
  for (auto& a : m.brems_photon) relocate_alias(a, nm, c);
}

template <class Copier>
phys::TransportParams relocate(const phys::TransportParams& host, Copier& c) {
  phys::TransportParams tp = host;
  const std::size_t nvox = std::size_t(tp.phantom.grid.size());
  if (tp.phantom.material) tp.phantom.material = c.copy(tp.phantom.material, nvox);
  if (tp.phantom.density_g_cm3) tp.phantom.density_g_cm3 = c.copy(tp.phantom.density_g_cm3, nvox);
  relocate_materials(tp.materials, c);
  if (tp.pair_z_eff) tp.pair_z_eff = c.copy(tp.pair_z_eff, std::size_t(tp.materials.n_materials));
  return tp;
}

template <class Copier>
beams::SimpleSource relocate(const beams::SimpleSource& host, Copier& c) {
  beams::SimpleSource s = host;
  if (s.spectrum.n_bins > 0) {
    s.spectrum.edges_mev = c.copy(s.spectrum.edges_mev, std::size_t(s.spectrum.n_bins) + 1);
    s.spectrum.cdf = c.copy(s.spectrum.cdf, std::size_t(s.spectrum.n_bins) + 1);
  }
  return s;
}

// Delivery: the per-beam control-point arrays, then the array of beam views itself (a
// patched temporary copy, so the views in the new memory point at the new arrays).
template <class Copier>
beams::DeliveryView relocate(const beams::DeliveryView& host, Copier& c) {
  beams::DeliveryView d = host;
  if (host.n_beams <= 0) return d;
  std::vector<beams::BeamDeliveryView> views(host.beams, host.beams + host.n_beams);
  for (auto& b : views) {
    const std::size_t n = std::size_t(b.n_cp);
    if (n == 0) continue;
    for (const double** a : {&b.meterset, &b.gantry_deg, &b.collimator_deg, &b.couch_deg,
                             &b.pitch_deg, &b.roll_deg})
      if (*a) *a = c.copy(*a, n);
    if (b.jaws_cm) b.jaws_cm = c.copy(b.jaws_cm, 4 * n);
    if (b.leaves_cm && b.n_pairs > 0)
      b.leaves_cm = c.copy(b.leaves_cm, 2 * std::size_t(b.n_pairs) * n);
  }
  d.beams = c.copy(views.data(), views.size());
  if (host.beam_cdf) d.beam_cdf = c.copy(host.beam_cdf, std::size_t(host.n_beams) + 1);
  return d;
}

template <class Copier>
beams::CollimatorGeometry relocate(const beams::CollimatorGeometry& host, Copier& c) {
  beams::CollimatorGeometry g = host;
  if (g.boundaries_cm && g.n_pairs > 0)
    g.boundaries_cm = c.copy(g.boundaries_cm, std::size_t(g.n_pairs) + 1);
  return g;
}

template <class Copier>
beams::VsmView relocate(const beams::VsmView& host, Copier& c) {
  beams::VsmView v = host;
  if (v.n_bins > 0) {
    if (v.edges_mev) v.edges_mev = c.copy(v.edges_mev, std::size_t(v.n_bins) + 1);
    if (v.cdf) v.cdf = c.copy(v.cdf, std::size_t(v.n_bins) + 1);
  }
  if (v.n_fluence > 0) {
    if (v.fluence_r_cm) v.fluence_r_cm = c.copy(v.fluence_r_cm, std::size_t(v.n_fluence));
    if (v.fluence_rel) v.fluence_rel = c.copy(v.fluence_rel, std::size_t(v.n_fluence));
  }
  return v;
}

template <class Copier>
beams::LinacSourceView relocate(const beams::LinacSourceView& host, Copier& c) {
  beams::LinacSourceView s = host;
  s.delivery = relocate(host.delivery, c);
  s.vsm = relocate(host.vsm, c);
  s.collimator = relocate(host.collimator, c);
  return s;
}

template <class Copier>
beams::PhspSourceView relocate(const beams::PhspSourceView& host, Copier& c) {
  beams::PhspSourceView s = host;
  if (s.particles && s.n > 0) s.particles = c.copy(s.particles, std::size_t(s.n));
  s.delivery = relocate(host.delivery, c);
  s.collimator = relocate(host.collimator, c);
  return s;
}

}  // namespace sabre::kernels
