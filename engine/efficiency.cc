#include "engine/efficiency.hh"

#include <cstdio>
#include <string>

#include "engine/toml_section.hh"

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
  out += "; source_splitting ";
  out += s.source_splitting > 1 ? std::to_string(s.source_splitting) : std::string("1 (off)");
  return out;
}

void add_efficiency_provenance(std::map<std::string, std::string>& provenance,
                               const phys::PhysicsSwitches& s) {
  provenance["variance_reduction"] = efficiency_description(s);
}

void read_efficiency_numbers(TomlSection& section, phys::PhysicsSwitches& s) {
  const struct {
    const char* key;
    double* value;
    const char* meaning;
  } fractions[] = {
      {"range_rejection_survival", &s.range_rejection_survival, "the roulette's survival probability"},
      {"far_msc_g1_max", &s.far_msc_g1_max, "the largest int ds/lambda_1 per far step"},
  };
  for (const auto& f : fractions)
    if (const auto x = section.num(f.key)) {
      if (!(*x > 0 && *x <= 1)) section.fail(f.key, std::string("must be in (0, 1]: ") + f.meaning);
      *f.value = *x;
    }
  if (const auto x = section.num("source_splitting")) {
    if (!(*x >= 1 && *x <= kMaxSourceSplitting && *x == double(int(*x))))
      section.fail("source_splitting", "must be a whole number from 1 to " + std::to_string(kMaxSourceSplitting) +
                                           ": the copies each source particle is transported as (1 = off)");
    s.source_splitting = int(*x);
  }
}

}  // namespace sabre
