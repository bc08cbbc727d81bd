// Option values shared by several subcommands.
#pragma once

#include <string>

namespace sabre::cli {

// "2%" or "0.02" -> 0.02; anything else is a UsageError naming `option` and the text.
double parse_fraction(const std::string& text, const char* option);

}  // namespace sabre::cli
