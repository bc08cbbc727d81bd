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
  out += "; far_steps ";
  if (s.far_steps && s.far_msc_g1_max > s.msc_g1_max) {
    char b[64];
    std::snprintf(b, sizeof b, "on (msc_g1_max %.6g)", s.far_msc_g1_max);
    out += b;
  } else {
    out += "off";
  }
  return out;
}

void add_efficiency_provenance(std::map<std::string, std::string>& provenance,
                               const phys::PhysicsSwitches& s) {
  provenance["variance_reduction"] = efficiency_description(s);
}

}  // namespace sabre
