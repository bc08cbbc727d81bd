#include "tests/support/evidence.hh"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sabre::test {

namespace {

std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string to_json(const Evidence& r) {
  std::ostringstream o;
  o << "{\"id\": " << quoted(r.id) << ", \"quantity\": " << quoted(r.quantity) << ", \"kind\": " << quoted(r.kind)
    << ", \"reference_source\": " << quoted(r.reference_source) << ", \"reference\": " << number(r.reference)
    << ", \"value\": " << number(r.value) << ", \"difference\": " << number(r.difference)
    << ", \"sigma\": " << number(r.sigma) << ", \"tolerance\": " << number(r.tolerance)
    << ", \"tolerance_text\": " << quoted(r.tolerance_text) << ", \"unit\": " << quoted(r.unit)
    << ", \"histories\": " << r.histories << ", \"pass\": " << (r.pass ? "true" : "false") << "}";
  return o.str();
}

void record(const Evidence& r) {
  const char* path = std::getenv("SABRE_EVIDENCE");
  if (!path || !*path) return;
  if (r.kind != "independent" && r.kind != "guard" && r.kind != "tool")
    throw std::invalid_argument("evidence row " + r.id + ": kind must be independent, guard or tool");
  std::ofstream f(path, std::ios::app);
  f << to_json(r) << '\n';
  if (!f) throw std::runtime_error(std::string("cannot append to SABRE_EVIDENCE file ") + path);
}

}  // namespace sabre::test
