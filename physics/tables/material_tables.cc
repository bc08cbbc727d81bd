// Physics table loader (see material_tables.hh).
#include "physics/tables/material_tables.hh"

#include <cstdint>
#include <cstring>
#include <filesystem>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/sha256.hh"
#include "physics/electron/msc.hh"

namespace sabre::phys {

MaterialTables::MaterialTables(const std::string& path)
    : set_(tables::read_table_file(path)), path_(path), sha256_(sha256_file(path)) {
  bind();
}

MaterialTables::MaterialTables(tables::TableSet set, std::string label)
    : set_(std::move(set)), path_(std::move(label)) {
  bind();
}

void MaterialTables::bind() {
  data_ = MaterialData{};
  data_.n_materials = set_.n_materials();
  data_.cuts = set_.cuts;
  auto table = [](const LogGrid& g, const std::vector<double>& v) {
    GridTable t;
    t.grid = g;
    t.values = v.data();
    return t;
  };
  for (int p = 0; p < kNumPhotonProcesses; ++p)
    data_.photon.mu_rho[p] = table(set_.photon_grid, set_.photon[p]);
  data_.photon.mu_rho_total = table(set_.photon_grid, set_.photon_total);
  data_.photon.majorant_mu_rho = table(set_.photon_grid, set_.photon_majorant);
  for (int s = 0; s < kNumChargedSpecies; ++s) {
    for (int q = 0; q < tables::kNumChargedQuantities; ++q)
      data_.charged[s].*(tables::kChargedQuantities[q].member) =
          table(set_.charged_grid, set_.charged[s][q]);
    AliasSet& a = data_.brems_photon[s];  // e+ share the electron spectra
    a.bins = set_.alias_bins;
    a.prob = set_.alias_prob.data();
    a.alias = set_.alias_index.data();
    a.edges = nullptr;  // uniform bins
    a.grid = set_.alias_grid;
  }
  // The multiple-scattering screening table (physics/electron/msc.hh): universal, built
  // from the exact solver (~0.1 s once per load).
  const LogGrid g = msc_wentzel_grid();
  msc_table_.assign(std::size_t(kMscTableRows) * g.n, 0.0);
  for (int i = 0; i < g.n; ++i) msc_wentzel_node(g, i, msc_table_[i], msc_table_[g.n + i]);
  data_.msc_wentzel = table(g, msc_table_);
}

namespace {

// Pointer <-> offset in a packed block. Offsets are stored in the pointer members of the
// layout (as offset + 1, so that a null pointer stays null).
template <class T>
const T* as_offset(std::size_t off) {
  return reinterpret_cast<const T*>(static_cast<std::uintptr_t>(off + 1));
}
template <class T>
const T* rebase(const T* p, const unsigned char* base) {
  if (!p) return nullptr;
  const auto off = reinterpret_cast<std::uintptr_t>(p) - 1;
  return reinterpret_cast<const T*>(base + off);
}

template <class F>
void for_each_table(MaterialData& d, F f) {
  for (auto& t : d.photon.mu_rho) f(t);
  f(d.photon.mu_rho_total);
  f(d.photon.majorant_mu_rho);
  for (auto& c : d.charged)
    for (int q = 0; q < tables::kNumChargedQuantities; ++q) f(c.*(tables::kChargedQuantities[q].member));
  f(d.msc_wentzel);
}

}  // namespace

PackedMaterialData MaterialTables::pack() const {
  PackedMaterialData p;
  p.layout = data_;
  auto append = [&](const void* src, std::size_t n) {
    std::size_t off = (p.bytes.size() + 7) / 8 * 8;
    p.bytes.resize(off + n);
    if (n) std::memcpy(p.bytes.data() + off, src, n);
    return off;
  };
  for_each_table(p.layout, [&](GridTable& t) {
    const std::size_t rows = (&t == &p.layout.photon.majorant_mu_rho) ? 1
                             : (&t == &p.layout.msc_wentzel)        ? std::size_t(kMscTableRows)
                                                                    : static_cast<std::size_t>(data_.n_materials);
    t.values = as_offset<double>(append(t.values, rows * static_cast<std::size_t>(t.grid.n) * sizeof(double)));
  });
  // the alias arrays are shared by both species: pack them once
  const std::size_t na = set_.alias_prob.size();
  const std::size_t prob = append(set_.alias_prob.data(), na * sizeof(double));
  const std::size_t alias = append(set_.alias_index.data(), na * sizeof(std::int32_t));
  for (auto& a : p.layout.brems_photon) {
    a.prob = as_offset<double>(prob);
    a.alias = as_offset<int>(alias);
    a.edges = nullptr;
  }
  return p;
}

MaterialData PackedMaterialData::at(const void* base) const {
  MaterialData d = layout;
  const auto* b = static_cast<const unsigned char*>(base);
  for_each_table(d, [&](GridTable& t) { t.values = rebase(t.values, b); });
  for (auto& a : d.brems_photon) {
    a.prob = rebase(a.prob, b);
    a.alias = rebase(a.alias, b);
    a.edges = rebase(a.edges, b);
  }
  return d;
}

std::string MaterialTables::default_file() {
  return (std::filesystem::path(build::data_dir()) / "physics" / "data" / "default.h5").string();
}

int MaterialTables::find(const std::string& name) const {
  for (int i = 0; i < n_materials(); ++i)
    if (set_.names[static_cast<std::size_t>(i)] == name) return i;
  return -1;
}

int MaterialTables::index(const std::string& name) const {
  const int i = find(name);
  if (i >= 0) return i;
  std::string list;
  for (const auto& n : set_.names) list += (list.empty() ? "" : ", ") + n;
  throw InputError(path_, "no material '" + name + "' in this table file (it has: " + list + ")");
}

std::string MaterialTables::format_version() const {
  return std::to_string(set_.format_major) + "." + std::to_string(set_.format_minor);
}

}  // namespace sabre::phys
