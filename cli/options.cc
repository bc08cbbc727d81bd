#include "cli/options.hh"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "core/errors.hh"
#include "core/number.hh"

namespace sabre::cli {

double parse_fraction(const std::string& text, const char* option) {
  if (const auto v = parse_fraction_text(text)) return *v;
  throw UsageError(std::string(option) + " " + text + ": expected a fraction such as 2% or 0.02");
}

namespace {

// "1e8" -> "100000000"; an integer as it is; otherwise an error message ("" = fine).
std::string whole_number(std::string& text) {
  const char* b = text.c_str();
  char* end = nullptr;
  errno = 0;
  (void)std::strtoll(b, &end, 10);
  if (!text.empty() && *end == '\0' && errno == 0) return "";  // digits (range: CLI11's check)
  errno = 0;
  const double v = std::strtod(b, &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    return "expected a whole number such as 100000000 or 1e8, not '" + text + "'";
  if (v != std::floor(v)) return text + " is not a whole number";
  if (std::fabs(v) >= 9007199254740992.0) return text + " is too large (at most 2^53 in this notation)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  text = buf;
  return "";
}

}  // namespace

void accept_counts_in_any_notation(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    const std::string& t = o->get_type_name();
    if (t == "INT" || t == "UINT") o->transform(CLI::Validator(whole_number, "", "whole number"));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) accept_counts_in_any_notation(*sub);
}

std::pair<int, int> parse_part(const std::string& s) {
  const auto slash = s.find('/');
  try {
    if (slash != std::string::npos && slash > 0 && slash + 1 < s.size()) {
      std::size_t a = 0, b = 0;
      const int k = std::stoi(s.substr(0, slash), &a);
      const int n = std::stoi(s.substr(slash + 1), &b);
      if (a == slash && b == s.size() - slash - 1 && n >= 1 && k >= 0 && k < n) return {k, n};
    }
  } catch (const std::exception&) {
  }
  throw UsageError("--part " + s + ": expected K/N with 0 <= K < N (e.g. 0/4 ... 3/4)");
}

}  // namespace sabre::cli
