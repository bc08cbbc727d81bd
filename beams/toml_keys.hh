// Reading one table of a native plan file (beams/robotic_plan.cc, beams/tomo_plan.cc) with
// toml++: typed values by key, each error an InputError naming the file and the place
// ("[plan]", "node 3"), and finish() refusing any key that was not asked for. Host only.
#pragma once

#include <cmath>
#include <set>
#include <string>
#include <vector>
#include <toml++/toml.h>

#include "core/errors.hh"

namespace sabre::beams {

// A TOML file parsed; a syntax error is an InputError naming the file and the line.
inline toml::table parse_toml_file(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(path, "TOML syntax error at line " + std::to_string(e.source().begin.line) + ": " +
                               std::string(e.description()));
  }
}

class TomlKeys {
 public:
  TomlKeys(const toml::table& t, std::string file, std::string where)
      : t_(t), file_(std::move(file)), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& what) const { throw InputError(file_, where_ + ": " + what); }
  bool has(const std::string& k) const { return t_.get(k) != nullptr; }
  const toml::node* get(const std::string& k, bool required) {
    seen_.insert(k);
    const toml::node* n = t_.get(k);
    if (!n && required) fail("missing '" + k + "'");
    return n;
  }
  double number(const std::string& k, bool required = true, double def = 0) {
    const toml::node* n = get(k, required);
    if (!n) return def;
    if (!(n->is_floating_point() || n->is_integer())) fail("'" + k + "' must be a number");
    const double v = *n->value<double>();
    if (!std::isfinite(v)) fail("'" + k + "' must be finite");
    return v;
  }
  std::string str(const std::string& k, bool required = true, const std::string& def = "") {
    const toml::node* n = get(k, required);
    if (!n) return def;
    const auto v = n->value<std::string>();
    if (!v) fail("'" + k + "' must be a string");
    return *v;
  }
  bool flag(const std::string& k, bool def) {
    const toml::node* n = get(k, false);
    if (!n) return def;
    if (!n->is_boolean()) fail("'" + k + "' must be true or false");
    return *n->value<bool>();
  }
  // The numbers of array `k` (empty when absent and not required).
  std::vector<double> numbers(const std::string& k, bool required = true) {
    const toml::node* n = get(k, required);
    return n ? numbers_of(n, "'" + k + "'") : std::vector<double>{};
  }
  // The numbers of an array node, `what` naming it in errors.
  std::vector<double> numbers_of(const toml::node* n, const std::string& what) const {
    std::vector<double> out;
    const auto* a = n ? n->as_array() : nullptr;
    if (!a) fail(what + " must be an array of numbers");
    for (const auto& e : *a) {
      if (!(e.is_floating_point() || e.is_integer())) fail(what + " must hold numbers only");
      const double v = *e.value<double>();
      if (!std::isfinite(v)) fail(what + " must hold finite numbers");
      out.push_back(v);
    }
    return out;
  }
  void finish() const {
    for (const auto& [k, v] : t_) {
      const std::string ks(k.str());
      if (!seen_.count(ks)) fail("unknown key '" + ks + "'");
    }
  }

 private:
  const toml::table& t_;
  std::string file_, where_;
  std::set<std::string> seen_;
};

}  // namespace sabre::beams
