// Machine-readable evidence rows for validation/run.py (issue 21).
//
// A test that carries a validation figure (a comparison with NIST data, an analytic result,
// a theorem, another code) records it here as well as checking it. When the environment
// variable SABRE_EVIDENCE names a file, each row is appended to it as one JSON object per
// line; otherwise record() does nothing. validation/run.py sets the variable, runs the test,
// and reads the rows by their `id`: a row it expects and does not find is an error naming
// the row, so a reworded message or a deleted line cannot drop a figure silently, and the
// tolerance and the verdict in the report are the test's own.
#pragma once

#include <limits>
#include <string>

namespace sabre::test {

struct Evidence {
  // Stable key that validation/run.py looks rows up by, e.g. "attenuation/1.25MeV".
  std::string id;
  // What is compared, in words.
  std::string quantity;
  // "independent": against a reference outside the code (another code, NIST data, a
  //   measurement, an analytic result or theorem);
  // "guard": self-consistency or regression (the code against itself: another step size,
  //   another density with the same random numbers, another thread count);
  // "tool": a check of an analysis tool, not of dose.
  std::string kind;
  // The reference and where it comes from.
  std::string reference_source;
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  double reference = none;
  double value = none;
  double difference = none;  // as the tolerance reads it (relative or absolute: see unit)
  double sigma = none;       // 1 sigma of the difference, when statistical
  double tolerance = none;   // the bound |difference| is held to, when numeric
  std::string tolerance_text;  // the criterion in words when it is not |difference| <= tolerance
  std::string unit;
  long histories = 0;
  bool pass = false;
};

// Appends the row to $SABRE_EVIDENCE (no-op when unset). Throws on an unwritable file.
void record(const Evidence& row);

// The JSON line record() writes (exposed for its unit test).
std::string to_json(const Evidence& row);

}  // namespace sabre::test
