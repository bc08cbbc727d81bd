#include "engine/toml_section.hh"

#include <cmath>

#include "core/errors.hh"

namespace sabre {

void TomlSection::fail(const std::string& key, const std::string& what) const {
  throw InputError(file_, "'" + where_ + key + "': " + what);
}

std::optional<double> TomlSection::num(const std::string& key) {
  const auto* n = get(key);
  if (!n) return std::nullopt;
  const auto v = n->value<double>();
  if (!v || !(n->is_integer() || n->is_floating_point())) fail(key, "expected a number");
  if (!std::isfinite(*v)) fail(key, "expected a finite number");
  return *v;
}

std::optional<std::int64_t> TomlSection::integer(const std::string& key) {
  const auto* n = get(key);
  if (!n) return std::nullopt;
  if (!n->is_integer()) fail(key, "expected an integer");
  return *n->value<std::int64_t>();
}

std::optional<std::string> TomlSection::str(const std::string& key) {
  const auto* n = get(key);
  if (!n) return std::nullopt;
  const auto v = n->value<std::string>();
  if (!v) fail(key, "expected a string");
  return *v;
}

std::optional<bool> TomlSection::flag(const std::string& key) {
  const auto* n = get(key);
  if (!n) return std::nullopt;
  // is_boolean(): value<bool>() would also take an integer (3 as true).
  if (!n->is_boolean()) fail(key, "expected true or false");
  return *n->value<bool>();
}

bool TomlSection::numbers(const std::string& key, double* out, int n) {
  const auto* node = get(key);
  if (!node) return false;
  const std::string what = "expected an array of " + std::to_string(n) + " finite numbers";
  const auto* a = node->as_array();
  if (!a || int(a->size()) != n) fail(key, what);
  for (int i = 0; i < n; ++i) {
    const auto v = (*a)[std::size_t(i)].value<double>();
    if (!v || !std::isfinite(*v)) fail(key, what);
    out[i] = *v;
  }
  return true;
}

void TomlSection::finish() const {
  for (const auto& [k, v] : t_)
    if (!seen_.count(std::string(k.str()))) throw InputError(file_, "unknown key '" + where_ + std::string(k.str()) + "'");
}

}  // namespace sabre
