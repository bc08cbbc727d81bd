// The chemical elements Z = 1..100: symbol, name, standard atomic weight, and the file of
// the raw density-effect data (../shared/data/physics/electron/density/elements/). Host only.
#pragma once

#include <string>

namespace sabre::phys::tables {

inline constexpr int kMaxZ = 100;

struct ElementInfo {
  int z;
  const char* symbol;          // "W"
  const char* name;            // "tungsten" (lower case)
  const char* density_file;    // stem of the density file: "tungsten"
  double atomic_weight_g_mol;  // standard atomic weight [g/mol]
};

// Z in 1..kMaxZ, else nullptr.
const ElementInfo* element_by_z(int z);
// By symbol ("W", case-sensitive first letter ignored: "w" works) or by name
// ("tungsten", any case); nullptr if unknown.
const ElementInfo* find_element(const std::string& symbol_or_name);

}  // namespace sabre::phys::tables
