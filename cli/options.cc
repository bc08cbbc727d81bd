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

}  // namespace sabre::cli
