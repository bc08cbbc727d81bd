#include "core/number.hh"

#include <charconv>
#include <cmath>
#include <system_error>

namespace sabre {

std::optional<double> parse_finite(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\0'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) return std::nullopt;  // "+-1"
  }
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<double> parse_fraction_text(std::string_view text) {
  if (!has_percent_sign(text)) return parse_finite(text);
  text.remove_suffix(1);
  if (const auto v = parse_finite(text)) return *v / 100.0;
  return std::nullopt;
}

}  // namespace sabre
