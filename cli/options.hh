// Option values shared by several subcommands.
#pragma once

#include <string>
#include <utility>

namespace sabre::cli {

// "2%" or "0.02" -> 0.02; anything else is a UsageError naming `option` and the text.
double parse_fraction(const std::string& text, const char* option);

// "K/N" (--part) -> (K, N) with 0 <= K < N; a UsageError otherwise.
std::pair<int, int> parse_part(const std::string& text);

}  // namespace sabre::cli
