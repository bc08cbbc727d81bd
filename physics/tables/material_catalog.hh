// Material definitions for the table generator: by name from the compound files, by
// element, or user-defined (composition by mass fraction, density, I-value). Host only.
//
// Name resolution (docs/tables.md, "Materials"), first match wins:
//  1. a short alias of the catalogue below ("water", "lung", "bone_cortical", ...);
//  2. an element symbol or name ("W", "tungsten", "Ti");
//  3. a compound file stem under electron/density/compounds ("water_liquid",
//     "adiposetissue_icru_1986"); the request is lower-cased and spaces become '_'.
// Anything else is an InputError naming the request.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "physics/tables/raw_data.hh"

namespace sabre::phys::tables {

struct MaterialSpec {
  std::string name;        // name in the table file ("water")
  std::string definition;  // where it came from: "compounds/water_liquid", "elements/tungsten",
                           // or "user: ..." for user-defined materials
  double density_g_cm3 = 0;
  double i_ev = 0;
  std::vector<std::pair<int, double>> mass_fractions;  // (Z, w), sum 1
  // Density-effect correction delta(T) from the density file; empty for user-defined
  // materials, which use Sternheimer & Peierls' general formula (see builder).
  std::vector<double> delta_t_mev;
  std::vector<double> delta;
};

// Aliases of the catalogue: (alias, compound or element file stem, kind).
struct CatalogEntry {
  const char* alias;
  const char* kind;  // "compounds" or "elements"
  const char* stem;
};
const std::vector<CatalogEntry>& catalog();

// The shipped default set, in file order.
const std::vector<std::string>& default_material_set();

// Resolves a material name (see above). `raw` records the density file read.
MaterialSpec resolve_material(RawData& raw, const std::string& request);

// A user-defined material from "NAME:DENSITY_G_CM3:I_EV:EL=W,EL=W,..." (element symbols or
// names, mass fractions summing to 1 within 1e-4). InputError on any problem, e.g.
// "material 'x': mass fractions sum to 0.9, not 1".
MaterialSpec parse_user_material(const std::string& spec);

// Checks a spec (fractions, element data, density, I); InputError naming the material.
void validate_material(const MaterialSpec& m);

}  // namespace sabre::phys::tables
