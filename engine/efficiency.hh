// The efficiency techniques of PhysicsSwitches (issue 20, docs/efficiency.md) as they are
// recorded in an output's provenance and summary.
#pragma once

#include <map>
#include <string>

#include "physics/transport/transport_params.hh"

namespace sabre {

class TomlSection;

// One line, e.g. "msc_tables on; range_rejection on (survival 0.125); source_margin_density 0.25".
std::string efficiency_description(const phys::PhysicsSwitches& s);

// Adds "variance_reduction" (the line above) to a provenance map.
void add_efficiency_provenance(std::map<std::string, std::string>& provenance,
                               const phys::PhysicsSwitches& s);

// Reads the numbers of a [physics] section that the phantom and run files share into s when
// present: range_rejection_survival and far_msc_g1_max, refusing a value outside (0, 1], and
// source_splitting, refusing anything but a whole number in [1, kMaxSourceSplitting]; the
// message names the key, the file and what the number is.
void read_efficiency_numbers(TomlSection& section, phys::PhysicsSwitches& s);

inline constexpr int kMaxSourceSplitting = 1000;

}  // namespace sabre
