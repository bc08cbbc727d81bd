// Reading a number from text that must be exactly one finite number.
//
// Every input reader (DICOM text values, run and phantom files, beam-data files, command-line
// options, phase-space headers) needs the same rule: the whole text is one decimal number, and
// that number is finite. "1.5abc", "nan", "inf", "0x10" and "" are not numbers; a reader that
// took the leading digits of "1.5abc", or NaN as a value, would compute on something the user
// never wrote. One function so that the rule is the same everywhere.
#pragma once

#include <optional>
#include <string_view>

namespace sabre {

// `text` as one finite decimal number ("1.5", "-2", " +015.0 ", "38.544E-03"): blanks (space,
// tab, and the NUL padding of DICOM values) around it and one leading '+' allowed, nothing
// else; std::nullopt for anything else, infinity and NaN included.
std::optional<double> parse_finite(std::string_view text);

// A fraction as users write it: a finite number as parse_finite reads it ("0.02"), or one
// followed by '%' ("2%", "2 %": divided by 100). The '%' must be the last character.
// std::nullopt for anything else ("%", "2%%", "2% ", "nan%").
std::optional<double> parse_fraction_text(std::string_view text);

// Whether `text` ends in '%' (the form a run file's string value must have: a bare number
// there is written as a TOML number).
inline bool has_percent_sign(std::string_view text) { return !text.empty() && text.back() == '%'; }

}  // namespace sabre
