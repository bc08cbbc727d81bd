#include "engine/efficiency.hh"

#include <cstdio>

namespace sabre {

std::string efficiency_description(const phys::PhysicsSwitches& s) {
  std::string out = std::string("msc_tables ") + (s.msc_tables ? "on" : "off") + "; range_rejection ";
  if (s.range_rejection && s.range_rejection_survival < 1) {
    char b[64];
    std::snprintf(b, sizeof b, "on (survival %.6g)", s.range_rejection_survival);
    out += b;
  } else {
    out += "off";
  }
  out += "; source_margin_density ";
  if (s.source_margin_density < 1) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", s.source_margin_density);
    out += b;
  } else {
    out += "1 (off)";
  }
  return out;
}

void add_efficiency_provenance(std::map<std::string, std::string>& provenance,
                               const phys::PhysicsSwitches& s) {
  provenance["variance_reduction"] = efficiency_description(s);
}

}  // namespace sabre
