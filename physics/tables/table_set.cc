// Physics table file I/O (layout: docs/tables.md).
#include "physics/tables/table_set.hh"

#include <cmath>

#include "core/errors.hh"
#include "core/crash_guard.hh"
#include "core/h5.hh"
#include "core/output_file.hh"

namespace sabre::phys::tables {

const ChargedQuantity kChargedQuantities[kNumChargedQuantities] = {
    {"dedx_restricted", "MeV cm^2/g", &ChargedData::dedx_restricted},
    {"dedx_collision_restricted", "MeV cm^2/g", &ChargedData::dedx_collision_restricted},
    {"dedx_radiative_restricted", "MeV cm^2/g", &ChargedData::dedx_radiative_restricted},
    {"range_restricted", "g/cm^2", &ChargedData::range_restricted},
    {"sigma_hard_collision", "cm^2/g", &ChargedData::sigma_hard_collision},
    {"sigma_hard_brems", "cm^2/g", &ChargedData::sigma_hard_brems},
    {"sigma_annihilation", "cm^2/g", &ChargedData::sigma_annihilation},
    {"msc_inv_lambda1", "cm^2/g", &ChargedData::msc_inv_lambda1},
    {"msc_screening", "1", &ChargedData::msc_screening},
    {"dedx_collision", "MeV cm^2/g", &ChargedData::dedx_collision},
    {"dedx_radiative", "MeV cm^2/g", &ChargedData::dedx_radiative},
    {"dedx_total", "MeV cm^2/g", &ChargedData::dedx_total},
    {"range_csda", "g/cm^2", &ChargedData::range_csda},
};

namespace {

constexpr int kDeflate = 6;

void write_grid(const h5::Group& g, const LogGrid& grid) {
  g.set_attr("grid_ln_e0", grid.ln_e0);
  g.set_attr("grid_inv_dln", grid.inv_dln);
  g.set_attr("grid_n", grid.n);
  g.set_attr("grid_e_min_mev", grid.energy(0));
  g.set_attr("grid_e_max_mev", grid.energy(grid.n - 1));
}

LogGrid read_grid(const h5::Group& g) {
  LogGrid grid;
  grid.ln_e0 = g.attr_double("grid_ln_e0");
  grid.inv_dln = g.attr_double("grid_inv_dln");
  grid.n = static_cast<int>(g.attr_int("grid_n"));
  if (grid.n < 2 || !(grid.inv_dln > 0) || !std::isfinite(grid.ln_e0))
    throw InputError(g.file(), g.path() + ": bad energy grid");
  return grid;
}

void write_rows(const h5::Group& g, const char* name, const std::vector<double>& v, int rows,
                int n, const char* unit) {
  g.write(name, v, {static_cast<hsize_t>(rows), static_cast<hsize_t>(n)}, kDeflate);
  // Attribute on the dataset: open it as a group-like object is not possible; units of every
  // dataset are listed in the group's "units" attribute instead (see below).
  (void)unit;
}

std::vector<double> read_rows(const h5::Group& g, const char* name, int rows, int n) {
  std::vector<double> v;
  const auto dims = g.read(name, v);
  if (dims.size() != 2 || dims[0] != static_cast<hsize_t>(rows) ||
      dims[1] != static_cast<hsize_t>(n))
    throw InputError(g.file(), g.path() + "/" + name + ": expected " + std::to_string(rows) +
                                   " x " + std::to_string(n) + " values");
  return v;
}

}  // namespace

void write_table_file(const TableSet& t, const std::string& path) {
  OutputFile out(path);
  {
    auto f = h5::File::create(out.temp_path());
    const auto root = f.root();
    root.set_attr("format", t.format);
    root.set_attr("format_version_major", t.format_major);
    root.set_attr("format_version_minor", t.format_minor);
    root.set_attr("format_version",
                  std::to_string(t.format_major) + "." + std::to_string(t.format_minor));
    root.set_attr("generator", "sabre tables build");
    root.set_attr("generator_version", t.generator_version);
    root.set_attr("set_name", t.set_name);
    root.set_attr("n_materials", t.n_materials());

    const auto cuts = root.create_group("cuts");
    cuts.set_attr("electron_production_mev", t.cuts.electron_production_mev);
    cuts.set_attr("photon_production_mev", t.cuts.photon_production_mev);
    cuts.set_attr("electron_absorption_mev", t.cuts.electron_absorption_mev);
    cuts.set_attr("photon_absorption_mev", t.cuts.photon_absorption_mev);

    const auto src = root.create_group("sources");
    std::vector<std::string> files, digests;
    for (const auto& s : t.sources) {
      files.push_back(s.path);
      digests.push_back(s.sha256);
    }
    src.set_attr("files", files);
    src.set_attr("sha256", digests);

    const auto mat = root.create_group("materials");
    const int n = t.n_materials();
    mat.set_attr("names", t.names);
    mat.set_attr("definitions", t.definitions);
    mat.write("density_g_cm3", t.density_g_cm3, {static_cast<hsize_t>(n)}, kDeflate);
    mat.write("i_value_ev", t.i_value_ev, {static_cast<hsize_t>(n)}, kDeflate);
    mat.write("composition_offset", t.composition_offset, {static_cast<hsize_t>(n + 1)}, kDeflate);
    mat.write("composition_z", t.composition_z, {t.composition_z.size()}, kDeflate);
    mat.write("composition_mass_fraction", t.composition_w, {t.composition_w.size()}, kDeflate);

    const auto ph = root.create_group("photon");
    write_grid(ph, t.photon_grid);
    ph.set_attr("unit", "cm^2/g");
    for (int p = 0; p < kNumPhotonProcesses; ++p)
      write_rows(ph, kPhotonDatasets[p], t.photon[p], n, t.photon_grid.n, "cm^2/g");
    write_rows(ph, "total", t.photon_total, n, t.photon_grid.n, "cm^2/g");
    write_rows(ph, "majorant", t.photon_majorant, 1, t.photon_grid.n, "cm^2/g");

    for (int s = 0; s < kNumChargedSpecies; ++s) {
      const auto g = root.create_group(kSpeciesGroup[s]);
      write_grid(g, t.charged_grid);
      std::string units;
      for (int q = 0; q < kNumChargedQuantities; ++q) {
        write_rows(g, kChargedQuantities[q].name, t.charged[s][q], n, t.charged_grid.n,
                   kChargedQuantities[q].unit);
        units += std::string(q ? ";" : "") + kChargedQuantities[q].name + "=" +
                 kChargedQuantities[q].unit;
      }
      g.set_attr("units", units);
    }

    const auto al = root.create_group("brems_alias");
    write_grid(al, t.alias_grid);
    al.set_attr("bins", t.alias_bins);
    al.set_attr("variable", "u = ln(k/W_cr)/ln(T/W_cr), uniform bins on [0,1)");
    al.set_attr("species", "electron and positron (positrons use the electron spectra)");
    const std::vector<hsize_t> dims = {static_cast<hsize_t>(n), static_cast<hsize_t>(t.alias_grid.n),
                                       static_cast<hsize_t>(t.alias_bins)};
    al.write("prob", t.alias_prob, dims, kDeflate);
    al.write("alias", t.alias_index, dims, kDeflate);
    f.close();
  }
  out.commit();
}

static TableSet read_table_file_unguarded(const std::string& path) {
  auto f = h5::File::open(path);
  const auto root = f.root();
  TableSet t;
  if (!root.has_attr("format") || root.attr_string("format") != kFormatName)
    throw InputError(path, std::string("not a sabre physics table file (attribute format != '") +
                               kFormatName + "')");
  t.format_major = static_cast<int>(root.attr_int("format_version_major"));
  t.format_minor = static_cast<int>(root.attr_int("format_version_minor"));
  if (t.format_major != kFormatMajor)
    throw InputError(path, "unsupported table format version " + std::to_string(t.format_major) +
                               "." + std::to_string(t.format_minor) + " (this sabre reads " +
                               std::to_string(kFormatMajor) + ".x); regenerate the tables");
  t.generator_version = root.attr_string("generator_version");
  t.set_name = root.attr_string("set_name");

  const auto cuts = root.group("cuts");
  t.cuts.electron_production_mev = cuts.attr_double("electron_production_mev");
  t.cuts.photon_production_mev = cuts.attr_double("photon_production_mev");
  t.cuts.electron_absorption_mev = cuts.attr_double("electron_absorption_mev");
  t.cuts.photon_absorption_mev = cuts.attr_double("photon_absorption_mev");

  const auto src = root.group("sources");
  std::vector<std::string> files, digests;
  files = src.string_list("files");
  digests = src.string_list("sha256");
  if (files.size() != digests.size())
    throw InputError(path, "/sources: files and sha256 differ in length");
  for (std::size_t i = 0; i < files.size(); ++i) t.sources.push_back({files[i], digests[i]});

  const auto mat = root.group("materials");
  t.names = mat.string_list("names");
  const int n = t.n_materials();
  if (n < 1) throw InputError(path, "/materials: no materials");
  t.definitions = mat.string_list("definitions");
  mat.read("density_g_cm3", t.density_g_cm3);
  mat.read("i_value_ev", t.i_value_ev);
  mat.read("composition_offset", t.composition_offset);
  mat.read("composition_z", t.composition_z);
  mat.read("composition_mass_fraction", t.composition_w);
  if (t.definitions.size() != t.names.size() || t.density_g_cm3.size() != t.names.size() ||
      t.i_value_ev.size() != t.names.size() ||
      t.composition_offset.size() != t.names.size() + 1 ||
      t.composition_z.size() != t.composition_w.size() ||
      t.composition_offset.back() != static_cast<std::int32_t>(t.composition_z.size()))
    throw InputError(path, "/materials: inconsistent array lengths");

  const auto ph = root.group("photon");
  t.photon_grid = read_grid(ph);
  for (int p = 0; p < kNumPhotonProcesses; ++p)
    t.photon[p] = read_rows(ph, kPhotonDatasets[p], n, t.photon_grid.n);
  t.photon_total = read_rows(ph, "total", n, t.photon_grid.n);
  t.photon_majorant = read_rows(ph, "majorant", 1, t.photon_grid.n);

  for (int s = 0; s < kNumChargedSpecies; ++s) {
    const auto g = root.group(kSpeciesGroup[s]);
    const LogGrid grid = read_grid(g);
    if (s == 0) t.charged_grid = grid;
    if (grid.n != t.charged_grid.n || grid.ln_e0 != t.charged_grid.ln_e0 ||
        grid.inv_dln != t.charged_grid.inv_dln)
      throw InputError(path, "/positron: grid differs from /electron");
    for (int q = 0; q < kNumChargedQuantities; ++q)
      t.charged[s][q] = read_rows(g, kChargedQuantities[q].name, n, grid.n);
  }

  const auto al = root.group("brems_alias");
  t.alias_grid = read_grid(al);
  t.alias_bins = static_cast<int>(al.attr_int("bins"));
  if (t.alias_bins < 1) throw InputError(path, "/brems_alias: bad bin count");
  al.read("prob", t.alias_prob);
  al.read("alias", t.alias_index);
  const std::size_t want = static_cast<std::size_t>(n) * t.alias_grid.n * t.alias_bins;
  if (t.alias_prob.size() != want || t.alias_index.size() != want)
    throw InputError(path, "/brems_alias: expected " + std::to_string(want) + " entries");
  for (auto a : t.alias_index)
    if (a < 0 || a >= t.alias_bins) throw InputError(path, "/brems_alias: alias index out of range");
  return t;
}


TableSet read_table_file(const std::string& path) {
  // A corrupted file can crash the HDF5 library (core/crash_guard.hh): one message instead.
  TableSet out;
  guarded_read(path, [&] { out = read_table_file_unguarded(path); });
  return out;
}

}  // namespace sabre::phys::tables
