// One table of a TOML input file that sabre's engine reads (the phantom file, the run file):
// typed values by key, each error an InputError naming the file and the key as the user wrote
// it ("'physics.far_steps': expected true or false"), and finish() refusing any key that was
// not asked for (a misspelt key is an error, never silently ignored). Numbers must be finite:
// TOML's nan and inf parse as numbers but are no value of any of these files. Host only.
//
// (beams/toml_keys.hh is the native plan files' reader, whose messages name a place such as
// "node 3" rather than a dotted key; beams/machine.cc's also records each value's basis.)
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <toml++/toml.h>

namespace sabre {

class TomlSection {
 public:
  // `where`: the prefix of this table's keys in messages ("" for the top level, "physics.").
  TomlSection(const toml::table& t, std::string file, std::string where)
      : t_(t), file_(std::move(file)), where_(std::move(where)) {}

  // The node of `key` (nullptr when absent); the key counts as read.
  const toml::node* get(const std::string& key) {
    seen_.insert(key);
    return t_.get(key);
  }
  // The key counts as read (its value is read elsewhere).
  void known(const std::string& key) { seen_.insert(key); }
  // Whether the key is present, without marking it read.
  bool peek(const std::string& key) const { return t_.get(key) != nullptr; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

  std::optional<double> num(const std::string& key);  // an integer or a float, finite
  std::optional<std::int64_t> integer(const std::string& key);
  std::optional<std::string> str(const std::string& key);
  std::optional<bool> flag(const std::string& key);
  // An array of exactly `n` finite numbers into out[0..n); false when absent.
  bool numbers(const std::string& key, double* out, int n);

  // Throws for the first key of the table that no call above asked for.
  void finish() const;

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }

 private:
  const toml::table& t_;
  std::string file_;
  std::string where_;
  std::set<std::string> seen_;
};

}  // namespace sabre
