// sabre tables build | query | info: generate physics table files and inspect them (docs/tables.md,
// docs/cli.md).
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/registry.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "core/sha256.hh"
#include "physics/tables/material_tables.hh"
#include "physics/tables/table_builder.hh"

namespace sabre::cli {
namespace {

namespace fs = std::filesystem;
using phys::MaterialData;
using phys::MaterialTables;

struct BuildCli {
  std::string source;
  std::string set = "default";
  std::string output;
  std::vector<std::string> materials;
  std::vector<std::string> defines;
  double e_prod = phys::tables::default_cuts().electron_production_mev;
  double e_abs = phys::tables::default_cuts().electron_absorption_mev;
  double p_prod = phys::tables::default_cuts().photon_production_mev;
  double p_abs = phys::tables::default_cuts().photon_absorption_mev;
};

std::string default_source() {
  return (fs::path(build::data_dir()) / ".." / "shared" / "data" / "physics").lexically_normal().string();
}

std::string default_tables() { return MaterialTables::default_file(); }

void run_build(const BuildCli& o) {
  phys::tables::BuildOptions b;
  b.source_dir = o.source.empty() ? default_source() : o.source;
  b.set_name = o.set;
  for (const auto& m : o.materials) {
    std::stringstream s(m);
    std::string item;
    while (std::getline(s, item, ','))
      if (!item.empty()) b.materials.push_back(item);
  }
  b.user_materials = o.defines;
  b.cuts.electron_production_mev = o.e_prod;
  b.cuts.electron_absorption_mev = o.e_abs;
  b.cuts.photon_production_mev = o.p_prod;
  b.cuts.photon_absorption_mev = o.p_abs;
  spdlog::debug("tables build: source {}, set '{}'", b.source_dir, b.set_name);
  const auto set = phys::tables::build_tables(b);
  phys::tables::write_table_file(set, o.output);
  spdlog::debug("tables build: wrote {} ({} materials)", o.output, set.n_materials());
  std::cout << "wrote " << o.output << ": " << set.n_materials() << " materials, sha256 "
            << sha256_file(o.output) << "\n";
}

struct QueryCli {
  std::string tables;
  std::string material;
  std::string quantity;
  double energy_mev = 0;
  std::string species = "electron";
  bool json = false;
};

struct Quantity {
  std::string name;
  std::string unit;
  bool charged;
  // value at (material, energy)
  double (*get)(const MaterialData&, int species, int material, double e, int extra);
  int extra;
};

double photon_process(const MaterialData& d, int, int m, double e, int p) { return d.photon.mu_rho[p](m, e); }
double photon_total(const MaterialData& d, int, int m, double e, int) { return d.photon.mu_rho_total(m, e); }
double photon_majorant(const MaterialData& d, int, int, double e, int) { return d.photon.majorant_mu_rho(0, e); }
double photon_mfp(const MaterialData& d, int, int m, double e, int) { return 1 / d.photon.mu_rho_total(m, e); }
double charged_q(const MaterialData& d, int s, int m, double e, int q) {
  return (d.charged[s].*(phys::tables::kChargedQuantities[q].member))(m, e);
}
double charged_mfp(const MaterialData& d, int s, int m, double e, int q) {
  const double sigma = charged_q(d, s, m, e, q);
  return sigma > 0 ? 1 / sigma : std::numeric_limits<double>::infinity();
}

std::vector<Quantity> quantities() {
  std::vector<Quantity> q;
  const char* proc[] = {"incoherent", "photoelectric", "pair_nuclear", "pair_electron", "rayleigh"};
  for (int p = 0; p < phys::kNumPhotonProcesses; ++p)
    q.push_back({std::string("mu_rho_") + proc[p], "cm^2/g", false, photon_process, p});
  q.push_back({"mu_rho_total", "cm^2/g", false, photon_total, 0});
  q.push_back({"mu_rho_majorant", "cm^2/g", false, photon_majorant, 0});
  q.push_back({"mfp_photon", "g/cm^2", false, photon_mfp, 0});
  for (int i = 0; i < phys::tables::kNumChargedQuantities; ++i)
    q.push_back({phys::tables::kChargedQuantities[i].name, phys::tables::kChargedQuantities[i].unit,
                 true, charged_q, i});
  q.push_back({"mfp_hard_collision", "g/cm^2", true, charged_mfp, 4});
  q.push_back({"mfp_hard_brems", "g/cm^2", true, charged_mfp, 5});
  q.push_back({"mfp_annihilation", "g/cm^2", true, charged_mfp, 6});
  q.push_back({"msc_lambda1", "g/cm^2", true, charged_mfp, 7});
  return q;
}

std::string number(double v) {
  if (std::isinf(v)) return "inf";
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

void run_query(const QueryCli& o) {
  const std::string path = o.tables.empty() ? default_tables() : o.tables;
  const auto qs = quantities();
  const Quantity* q = nullptr;
  std::string names;
  for (const auto& x : qs) {
    if (x.name == o.quantity) q = &x;
    names += (names.empty() ? "" : ", ") + x.name;
  }
  if (!q) throw UsageError("--quantity: unknown quantity '" + o.quantity + "' (one of: " + names + ")");
  int species = 0;
  if (o.species == "electron") species = phys::kElectron;
  else if (o.species == "positron") species = phys::kPositron;
  else throw UsageError("--species: expected electron or positron, got '" + o.species + "'");
  const MaterialTables t(path);
  const int m = t.index(o.material);
  const auto& grid = q->charged ? t.data().charged[0].dedx_total.grid : t.data().photon.mu_rho_total.grid;
  const double lo = grid.energy(0), hi = grid.energy(grid.n - 1);
  if (!(o.energy_mev >= lo * (1 - 1e-12) && o.energy_mev <= hi * (1 + 1e-12)))
    throw UsageError("--energy: " + number(o.energy_mev) + " MeV is outside the table's grid (" +
                     number(lo) + " to " + number(hi) + " MeV)");
  const double v = q->get(t.data(), species, m, o.energy_mev, q->extra);
  if (o.json) {
    nlohmann::json j;
    j["material"] = o.material;
    j["quantity"] = q->name;
    j["energy_MeV"] = o.energy_mev;
    if (std::isinf(v)) j["value"] = nullptr; else j["value"] = v;
    j["unit"] = q->unit;
    if (q->charged) j["species"] = o.species;
    j["tables"] = path;
    j["tables_sha256"] = t.file_sha256();
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << o.material << " " << q->name << (q->charged ? " (" + o.species + ")" : std::string())
            << " at " << number(o.energy_mev) << " MeV: " << number(v) << " " << q->unit << "\n";
}

struct InfoCli {
  std::string tables;
  bool json = false;
};

void run_info(const InfoCli& o) {
  const std::string path = o.tables.empty() ? default_tables() : o.tables;
  const MaterialTables t(path);
  const auto& c = t.cuts();
  if (o.json) {
    nlohmann::json j;
    j["tables"] = path;
    j["sha256"] = t.file_sha256();
    j["format_version"] = t.format_version();
    j["generator_version"] = t.generator_version();
    j["set_name"] = t.set_name();
    j["cuts_mev"] = {{"electron_production", c.electron_production_mev},
                     {"photon_production", c.photon_production_mev},
                     {"electron_absorption", c.electron_absorption_mev},
                     {"photon_absorption", c.photon_absorption_mev}};
    j["materials"] = nlohmann::json::array();
    for (int m = 0; m < t.n_materials(); ++m)
      j["materials"].push_back({{"name", t.names()[m]}, {"density_g_cm3", t.density_g_cm3(m)},
                                {"i_value_ev", t.i_value_ev(m)}, {"definition", t.definition(m)}});
    j["sources"] = nlohmann::json::array();
    for (const auto& s : t.sources()) j["sources"].push_back({{"file", s.path}, {"sha256", s.sha256}});
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << path << "\n  sha256 " << t.file_sha256() << "\n  format " << t.format_version()
            << ", generator " << t.generator_version() << ", set '" << t.set_name() << "'\n"
            << "  cuts [MeV]: electron production " << number(c.electron_production_mev)
            << ", photon production " << number(c.photon_production_mev) << ", electron absorption "
            << number(c.electron_absorption_mev) << ", photon absorption " << number(c.photon_absorption_mev)
            << "\n  materials (" << t.n_materials() << "):\n";
  for (int m = 0; m < t.n_materials(); ++m)
    std::cout << "    " << t.names()[m] << ": " << number(t.density_g_cm3(m)) << " g/cm^3, I "
              << number(t.i_value_ev(m)) << " eV, " << t.definition(m) << "\n";
  std::cout << "  sources (" << t.sources().size() << "):\n";
  for (const auto& s : t.sources()) std::cout << "    " << s.sha256 << "  " << s.path << "\n";
}

const bool registered = register_command(
    "tables", "Build physics table files from NIST data, or query a table file",
    [](CLI::App& sub) {
      sub.require_subcommand(1, 1);
      auto b = std::make_shared<BuildCli>();
      auto* build = sub.add_subcommand("build", "Generate a physics table file (docs/tables.md)");
      build->add_option("--source", b->source,
                        "Raw NIST data directory (default: ../shared/data/physics beside the data dir)");
      build->add_option("--set", b->set, "Name recorded in the file")->capture_default_str();
      build->add_option("--output", b->output, "Output table file (.h5)")->required();
      build->add_option("--material", b->materials,
                        "Material names (repeat or comma-separate; default: the default set)");
      build->add_option("--define", b->defines,
                        "User material NAME:DENSITY_G_CM3:I_EV:EL=W,EL=W,... (repeatable)");
      build->add_option("--electron-production-cut", b->e_prod, "Delta-ray threshold W_cc [MeV]")
          ->capture_default_str();
      build->add_option("--electron-absorption-cut", b->e_abs, "Electron cut-off [MeV kinetic]")
          ->capture_default_str();
      build->add_option("--photon-production-cut", b->p_prod, "Bremsstrahlung threshold W_cr [MeV]")
          ->capture_default_str();
      build->add_option("--photon-absorption-cut", b->p_abs, "Photon cut-off [MeV]")
          ->capture_default_str();
      build->callback([b] { run_build(*b); });

      auto q = std::make_shared<QueryCli>();
      auto* query = sub.add_subcommand("query", "Print a table value with its unit");
      query->add_option("--tables", q->tables, "Table file (default: physics/data/default.h5)");
      query->add_option("--material", q->material, "Material name in the file")->required();
      query->add_option("--quantity", q->quantity,
                        "Quantity (docs/tables.md), e.g. mu_rho_total, dedx_total, range_csda")
          ->required();
      query->add_option("--energy", q->energy_mev, "Energy [MeV] (kinetic for e-/e+)")->required();
      query->add_option("--species", q->species, "electron or positron")->capture_default_str();
      query->add_flag("--json", q->json, "Print one JSON object");
      query->callback([q] { run_query(*q); });

      auto i = std::make_shared<InfoCli>();
      auto* info = sub.add_subcommand("info", "Print a table file's provenance and materials");
      info->add_option("--tables", i->tables, "Table file (default: physics/data/default.h5)");
      info->add_flag("--json", i->json, "Print one JSON object");
      info->callback([i] { run_info(*i); });
    });

}  // namespace
}  // namespace sabre::cli
