// Physics table loader (see material_tables.hh).
#include "physics/materials/material_tables.hh"

#include <filesystem>

#include "engine/core/build_info.hh"
#include "engine/core/errors.hh"
#include "engine/core/sha256.hh"

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
