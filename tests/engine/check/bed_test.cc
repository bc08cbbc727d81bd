// BED and EQD2 (engine/check/check.hh) against worked values of the linear-quadratic model:
// BED = n d (1 + d / (alpha/beta)), EQD2 = BED / (1 + 2 / (alpha/beta)).
// 54 Gy in 3 fractions, alpha/beta 10 Gy: BED = 54 (1 + 18/10) = 151.2 Gy (the figure quoted
// for lung SBRT, e.g. Onishi et al.), EQD2 = 151.2 / 1.2 = 126 Gy. 2 Gy fractions leave EQD2
// equal to the total dose (the definition). Names for constraint matching ignore case,
// spaces, '-' and '_'.
#include <catch2/catch.hpp>

#include "engine/check/check.hh"

using namespace sabre::check;

TEST_CASE("BED and EQD2: lung SBRT 54 Gy in 3, and 2 Gy fractions", "[check]") {
  CHECK(bed(54, 3, 10) == Approx(151.2).epsilon(1e-12));
  CHECK(eqd2(54, 3, 10) == Approx(126.0).epsilon(1e-12));
  CHECK(eqd2(60, 30, 3) == Approx(60.0).epsilon(1e-12));
  CHECK(eqd2(60, 30, 10) == Approx(60.0).epsilon(1e-12));
  // Spinal cord limit of TG-101, 21.9 Gy in 3, alpha/beta 2: BED = 21.9 (1 + 7.3/2).
  CHECK(bed(21.9, 3, 2) == Approx(21.9 * (1 + 7.3 / 2)).epsilon(1e-12));
}

TEST_CASE("constraint names: case, spaces, '-' and '_' ignored", "[check]") {
  CHECK(canonical_name("Spinal_Cord") == "SPINALCORD");
  CHECK(canonical_name("spinal cord") == "SPINALCORD");
  CHECK(canonical_name("Lung-R") == "LUNGR");
  CHECK(canonical_name("PTV_1") == "PTV1");
}
