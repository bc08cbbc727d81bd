// engine/toml_section.hh: the phantom and run files' table reader.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <toml++/toml.h>

#include "core/errors.hh"
#include "engine/toml_section.hh"

using sabre::InputError;
using sabre::TomlSection;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a TOML section reads typed, finite values and refuses unknown keys", "[toml]") {
  const toml::table t = toml::parse(R"(
x = 1.5
n = 3
name = "water"
on = true
v = [1, 2.5, -3]
bad_nan = nan
bad_inf = -inf
bad_int = 2.5
bad_v = [1, nan, 3]
short_v = [1, 2]
)");
  TomlSection s(t, "f.toml", "physics.");
  CHECK(s.num("x") == 1.5);
  CHECK(s.num("n") == 3.0);  // an integer is a number
  CHECK(s.integer("n") == 3);
  CHECK(s.str("name") == "water");
  CHECK(s.flag("on") == true);
  CHECK_FALSE(s.num("absent").has_value());
  double v[3];
  CHECK(s.numbers("v", v, 3));
  CHECK((v[0] == 1.0 && v[1] == 2.5 && v[2] == -3.0));
  CHECK(s.peek("bad_nan"));

  // Each message names the file and the key with its table's prefix.
  CHECK(error_of([&] { s.num("bad_nan"); }) == "f.toml: 'physics.bad_nan': expected a finite number");
  CHECK(error_of([&] { s.num("bad_inf"); }) == "f.toml: 'physics.bad_inf': expected a finite number");
  CHECK(error_of([&] { s.num("name"); }) == "f.toml: 'physics.name': expected a number");
  CHECK(error_of([&] { s.integer("bad_int"); }) == "f.toml: 'physics.bad_int': expected an integer");
  CHECK(error_of([&] { s.str("x"); }) == "f.toml: 'physics.x': expected a string");
  // An integer is not a flag, nor a flag a number (toml++'s value<bool>() alone would read 3
  // as true: `far_steps = 0` was taken as false before).
  CHECK(error_of([&] { s.flag("n"); }) == "f.toml: 'physics.n': expected true or false");
  CHECK(error_of([&] { s.num("on"); }) == "f.toml: 'physics.on': expected a number");
  CHECK(error_of([&] { s.str("n"); }) == "f.toml: 'physics.n': expected a string");
  CHECK(error_of([&] { s.numbers("bad_v", v, 3); }) == "f.toml: 'physics.bad_v': expected an array of 3 finite numbers");
  CHECK(error_of([&] { s.numbers("short_v", v, 3); }) ==
        "f.toml: 'physics.short_v': expected an array of 3 finite numbers");
  s.finish();  // every key was asked for

  TomlSection partial(t, "f.toml", "");
  partial.num("x");
  partial.known("n");
  CHECK(error_of([&] { partial.finish(); }).rfind("f.toml: unknown key '", 0) == 0);
}
