// Option values shared by several subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>

namespace sabre::cli {

// "2%" or "0.02" -> 0.02; anything else (NaN and infinity included) is a UsageError naming
// `option` and the text.
double parse_fraction(const std::string& text, const char* option);

// Integer options as users type them: "1e8", "2.5e7" and "100000000" alike. Adds to every
// integer option of `app` and its subcommands (recursively) a transform that turns a number
// in floating-point notation whose value is a whole number (exactly representable, below
// 2^53) into its digits, and refuses anything else with one message naming the option
// ("--histories: 1.5e-3 is not a whole number").
void accept_counts_in_any_notation(CLI::App& app);

// "K/N" (--part) -> (K, N) with 0 <= K < N; a UsageError otherwise.
std::pair<int, int> parse_part(const std::string& text);

}  // namespace sabre::cli
