#include "cli/options.hh"

#include <stdexcept>

#include "core/errors.hh"

namespace sabre::cli {

double parse_fraction(const std::string& text, const char* option) {
  std::string t = text;
  double scale = 1;
  if (!t.empty() && t.back() == '%') {
    t.pop_back();
    scale = 0.01;
  }
  try {
    std::size_t n = 0;
    const double v = std::stod(t, &n);
    if (n != t.size()) throw std::invalid_argument(t);
    return v * scale;
  } catch (const std::exception&) {
    throw UsageError(std::string(option) + " " + text + ": expected a fraction such as 2% or 0.02");
  }
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
