// core/number.hh: the one rule every reader uses for "this text is a finite number".
#include <catch2/catch.hpp>

#include <string>

#include "core/number.hh"

using sabre::parse_finite;

TEST_CASE("parse_finite reads whole finite decimal numbers", "[number]") {
  CHECK(parse_finite("1.5") == 1.5);
  CHECK(parse_finite("-2") == -2.0);
  CHECK(parse_finite("+015.0") == 15.0);
  CHECK(parse_finite("38.544E-03") == 38.544e-3);
  CHECK(parse_finite("1e-300") == 1e-300);
  // Blanks around the number: DICOM pads text values with a space or NUL, hand-written files
  // with spaces and tabs.
  CHECK(parse_finite(" 0.25 ") == 0.25);
  CHECK(parse_finite("\t7\t") == 7.0);
  CHECK(parse_finite(std::string("3.5\0", 4)) == 3.5);
}

TEST_CASE("parse_finite refuses anything that is not wholly one finite number", "[number]") {
  for (const char* bad : {"", " ", "+", "-", "abc", "1.5abc", "1.5 2", "1,5", "2%", "nan", "NaN", "-nan", "inf",
                          "+inf", "-Infinity", "1e400", "-1e400", "0x10", "+-1", "++1", "- 1", "1e", "."}) {
    INFO("text '" << bad << "'");
    CHECK_FALSE(parse_finite(bad).has_value());
  }
}

TEST_CASE("parse_fraction_text reads a fraction or a percentage", "[number]") {
  using sabre::parse_fraction_text;
  CHECK(parse_fraction_text("0.02") == 0.02);
  CHECK(parse_fraction_text("2%") == 2.0 / 100.0);
  CHECK(parse_fraction_text("2 %") == 2.0 / 100.0);
  CHECK(parse_fraction_text(" 0.3%") == 0.3 / 100.0);
  CHECK(parse_fraction_text("150%") == 1.5);
  // The '%' divides by 100 once: "2%" and "0.02" are the same fraction.
  CHECK(*parse_fraction_text("2%") == Approx(*parse_fraction_text("0.02")).epsilon(1e-15));
  for (const char* bad : {"", "%", " %", "2%%", "2% ", "%2", "nan%", "inf%", "2abc%", "x", "2 x%"}) {
    INFO("text '" << bad << "'");
    CHECK_FALSE(parse_fraction_text(bad).has_value());
  }
  CHECK(sabre::has_percent_sign("2%"));
  CHECK_FALSE(sabre::has_percent_sign("2"));
  CHECK_FALSE(sabre::has_percent_sign(""));
}
