// Material catalogue and resolution (see material_catalog.hh).
#include "physics/tables/material_catalog.hh"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/errors.hh"
#include "core/number.hh"

namespace sabre::phys::tables {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  std::replace(s.begin(), s.end(), ' ', '_');
  return s;
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(8);
  s << v;
  return s.str();
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (unsigned char c : n)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

const std::vector<CatalogEntry>& catalog() {
  static const std::vector<CatalogEntry> c = {
      {"water", "compounds", "water_liquid"},
      {"air", "compounds", "air_dry_nearsealevel"},
      {"lung", "compounds", "lung_inflated_icru_1986"},       // 0.26 g/cm^3
      {"lung_tissue", "compounds", "lungtissue_icru_1986"},   // 1.05 g/cm^3 (deflated)
      {"adipose", "compounds", "adiposetissue_icru_1986"},
      {"soft_tissue", "compounds", "tissue_soft_icrp"},
      {"muscle", "compounds", "muscle_skeletal_icru_1986"},
      {"cartilage", "compounds", "cartilage_skeletal_icru_1986"},
      {"blood", "compounds", "blood_whole_icru_1986"},
      {"brain", "compounds", "brain_grey_whitematter_icru_1986"},
      {"skin", "compounds", "skin_icru_1986"},
      {"bone_cortical", "compounds", "bone_cortical_icrp"},
      {"bone_compact", "compounds", "bone_compact_icru"},
      {"pmma", "compounds", "polymethylmethacrylate__lucite___perspex___plexiglas_"},
      {"polystyrene", "compounds", "polystyrene"},
      {"a150", "compounds", "a-150tissue-equivalentplastic"},
      {"solid_water_wt1", "compounds", "wt1watersubstitute_epoxybased"},
      {"b100", "compounds", "b-100bone-equivalentplastic"},
      {"titanium", "elements", "titanium"},
      {"tungsten", "elements", "tungsten"},
      {"aluminum", "elements", "aluminum"},
      {"copper", "elements", "copper"},
      {"lead", "elements", "lead"},
      {"graphite", "elements", "carbon_graphite_1.700g_cm3"},
  };
  return c;
}

const std::vector<std::string>& default_material_set() {
  static const std::vector<std::string> s = {
      "air",      "lung",        "adipose",       "soft_tissue", "muscle",
      "water",    "cartilage",   "bone_cortical", "pmma",        "polystyrene",
      "solid_water_wt1", "titanium", "tungsten"};
  return s;
}

void validate_material(const MaterialSpec& m) {
  const std::string who = "material '" + m.name + "'";
  if (!valid_name(m.name))
    throw InputError(who + ": name must be 1-64 characters of letters, digits, '_', '-', '.'");
  if (!(m.density_g_cm3 > 0) || !std::isfinite(m.density_g_cm3))
    throw InputError(who + ": density must be positive, got " + fmt(m.density_g_cm3));
  if (!(m.i_ev > 0) || !std::isfinite(m.i_ev))
    throw InputError(who + ": mean excitation energy I must be positive, got " + fmt(m.i_ev) + " eV");
  if (m.mass_fractions.empty()) throw InputError(who + ": no elements");
  double sum = 0;
  for (const auto& [z, w] : m.mass_fractions) {
    if (!element_by_z(z))
      throw InputError(who + ": no element data for Z = " + std::to_string(z) +
                       " (the tables cover Z = 1.." + std::to_string(kMaxZ) + ")");
    if (!(w > 0) || !std::isfinite(w))
      throw InputError(who + ": mass fraction of " + element_by_z(z)->symbol +
                       " must be positive, got " + fmt(w));
    sum += w;
  }
  if (std::fabs(sum - 1) > 1e-4)
    throw InputError(who + ": mass fractions sum to " + fmt(sum) + ", not 1 (tolerance 1e-4)");
}

MaterialSpec parse_user_material(const std::string& spec) {
  // NAME:DENSITY:I:EL=W,EL=W
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto p = spec.find(':', start);
    parts.push_back(spec.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  if (parts.size() != 4)
    throw InputError("material definition '" + spec +
                     "': expected NAME:DENSITY_G_CM3:I_EV:EL=W,EL=W,...");
  MaterialSpec m;
  m.name = parts[0];
  const std::string who = "material '" + m.name + "'";
  auto number = [&](const std::string& s, const char* what) {
    if (const auto v = parse_finite(s)) return *v;
    throw InputError(who + ": " + what + " '" + s + "' is not a finite number");
  };
  m.density_g_cm3 = number(parts[1], "density");
  m.i_ev = number(parts[2], "I-value");
  std::stringstream list(parts[3]);
  std::string item;
  while (std::getline(list, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw InputError(who + ": expected EL=FRACTION, got '" + item + "'");
    const std::string el = item.substr(0, eq);
    const ElementInfo* e = find_element(el);
    if (!e) throw InputError(who + ": unknown element '" + el + "' (no element data)");
    for (const auto& [z, w] : m.mass_fractions)
      if (z == e->z) throw InputError(who + ": element " + el + " given twice");
    m.mass_fractions.emplace_back(e->z, number(item.substr(eq + 1), "mass fraction"));
  }
  std::sort(m.mass_fractions.begin(), m.mass_fractions.end());
  m.definition = "user: " + spec;
  validate_material(m);
  return m;
}

MaterialSpec resolve_material(RawData& raw, const std::string& request) {
  const std::string key = lower(request);
  std::string kind, stem, name = key;
  for (const auto& c : catalog())
    if (key == c.alias) {
      kind = c.kind;
      stem = c.stem;
    }
  if (kind.empty()) {
    if (const ElementInfo* e = find_element(key)) {
      kind = "elements";
      stem = e->density_file;
      name = e->name;
    } else if (raw.has_density("compounds", key)) {
      kind = "compounds";
      stem = key;
    } else {
      throw InputError("unknown material '" + request +
                       "': not an alias (docs/tables.md), an element, or a compound file under " +
                       raw.source_dir() + "/electron/density/compounds");
    }
  }
  if (!raw.has_density(kind, stem))
    throw InputError("material '" + request + "': missing element data: no file " +
                     raw.source_dir() + "/electron/density/" + kind + "/" + stem + ".density");
  DensityFile d = raw.density(kind, stem);
  MaterialSpec m;
  m.name = name;
  m.definition = kind + "/" + stem;
  m.density_g_cm3 = d.density_g_cm3;
  m.i_ev = d.i_ev;
  // Normalise the file's fractions (they sum to 1 within rounding of 1e-6).
  double sum = 0;
  for (const auto& p : d.mass_fractions) sum += p.second;
  if (std::fabs(sum - 1) > 1e-4)
    throw InputError(d.path, "mass fractions sum to " + fmt(sum) + ", not 1 (tolerance 1e-4)");
  for (const auto& [z, w] : d.mass_fractions)
    if (w > 0) m.mass_fractions.emplace_back(z, w / sum);  // files list some zero fractions
  m.delta_t_mev = d.t_mev;
  m.delta = d.delta;
  validate_material(m);
  return m;
}

}  // namespace sabre::phys::tables
