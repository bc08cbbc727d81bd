// engine/phantom_generator.hh: the --slabs specification of `sabre phantom slabs`.
#include <catch2/catch.hpp>

#include <string>

#include "core/errors.hh"
#include "engine/phantom_generator.hh"

using namespace sabre;

TEST_CASE("slab specifications read keywords and HU values, and refuse anything else", "[phantom]") {
  const auto slabs = parse_slabs("water:20,lung:30,HU500:10,HU-1000:5");
  REQUIRE(slabs.size() == 4);
  CHECK(slabs[0].thickness_mm == 20.0);
  CHECK(slabs[2].hu == 500.0);
  CHECK(slabs[3].hu == -1000.0);
  CHECK(slabs[3].thickness_mm == 5.0);
  // Each not wholly a finite number (before: 'HU12abc' was read as 12 HU, 'HUnan' as NaN).
  for (const char* bad : {"HU12abc:10", "HUnan:10", "HUinf:10", "water:20mm", "water:nan", "water:inf", "water:"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_slabs(bad), UsageError);
  }
}
