// Deep copy of the read-only transport data (TransportParams and a source) into another
// memory space: every array the structs point to is handed to `copy(ptr, count)`, which
// returns where the copy lives, and the pointers are patched. The CUDA back end uses a
// device-memory copier; tests use a host copier and check that transport through the
// relocated copy gives bit-identical results (so a forgotten array shows up on the CPU).
//
// The transport data are relocated here; a source view relocates itself (its
// `relocated(copier)` member, next to its definition in beams/), so a new source kind
// brings its own. Whoever adds a pointer member to TransportParams, MaterialData,
// PhantomView or a source view adds it to the matching function; the relocation test
// fails on the CPU if a pointer still aliases the original storage
// (tests/kernels/params_relocation_test.cc checks every pointer moved).
#pragma once

#include <cstddef>
#include <cstdint>

#include <vector>

#include <variant>

#include "beams/source_kinds.hh"
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
  relocate_table(m.photon.block_majorant_mu_rho, 1, c);
  for (auto& ch : m.charged) {
    for (phys::GridTable* t :
         {&ch.dedx_restricted, &ch.dedx_collision_restricted, &ch.dedx_radiative_restricted,
          &ch.range_restricted, &ch.sigma_hard_collision, &ch.sigma_hard_brems,
          &ch.sigma_annihilation, &ch.msc_inv_lambda1, &ch.msc_screening, &ch.dedx_collision,
          &ch.dedx_radiative, &ch.dedx_total, &ch.range_csda})
      relocate_table(*t, nm, c);
  }
  for (auto& a : m.brems_photon) relocate_alias(a, nm, c);
  relocate_table(m.msc_wentzel, phys::kMscTableRows, c);
}

template <class Copier>
phys::TransportParams relocate(const phys::TransportParams& host, Copier& c) {
  phys::TransportParams tp = host;
  const std::size_t nvox = std::size_t(tp.phantom.grid.size());
  if (tp.phantom.material) tp.phantom.material = c.copy(tp.phantom.material, nvox);
  if (tp.phantom.density_g_cm3) tp.phantom.density_g_cm3 = c.copy(tp.phantom.density_g_cm3, nvox);
  if (tp.phantom.step_safety) tp.phantom.step_safety = c.copy(tp.phantom.step_safety, nvox);
  if (tp.phantom.material_min_density_g_cm3)
    tp.phantom.material_min_density_g_cm3 =
        c.copy(tp.phantom.material_min_density_g_cm3, std::size_t(tp.materials.n_materials));
  if (tp.phantom.block_max_density_g_cm3)
    tp.phantom.block_max_density_g_cm3 =
        c.copy(tp.phantom.block_max_density_g_cm3, std::size_t(tp.phantom.block_total()));
  for (int a = 0; a < 3; ++a)
    if (tp.phantom.grid.edges_cm[a])
      tp.phantom.grid.edges_cm[a] = c.copy(tp.phantom.grid.edges_cm[a], std::size_t(tp.phantom.grid.count(a)) + 1);
  relocate_materials(tp.materials, c);
  if (tp.pair_z_eff) tp.pair_z_eff = c.copy(tp.pair_z_eff, std::size_t(tp.materials.n_materials));
  return tp;
}

// A source view: each kind knows its own arrays (its `relocated` member, beams/).
template <class Copier>
beams::SourceView relocate(const beams::SourceView& host, Copier& c) {
  return std::visit([&c](const auto& s) { return beams::SourceView(s.relocated(c)); }, host);
}

}  // namespace sabre::kernels
