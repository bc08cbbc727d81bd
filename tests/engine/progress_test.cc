#include <catch2/catch.hpp>

#include "engine/progress.hh"

TEST_CASE("ETA follows the first stopping rule", "[engine]") {
  sabre::ProgressState s;
  s.histories = 1000;
  s.elapsed_s = 10;  // 100 histories/s
  s.target_histories = 3000;
  CHECK(sabre::estimate_remaining_s(s) == Approx(20));
  // uncertainty 4 % -> 2 % needs 4x the histories: 3000 more, 30 s; histories rule is sooner
  s.uncertainty = 0.04;
  s.target_uncertainty = 0.02;
  CHECK(sabre::estimate_remaining_s(s) == Approx(20));
  s.target_histories = 0;
  CHECK(sabre::estimate_remaining_s(s) == Approx(30));
  s.time_limit_s = 15;
  CHECK(sabre::estimate_remaining_s(s) == Approx(5));
}

TEST_CASE("the progress line shows histories, rate, uncertainty and ETA", "[engine]") {
  sabre::ProgressState s;
  s.histories = 1200000;
  s.elapsed_s = 30;
  s.uncertainty = 0.0231;
  s.target_uncertainty = 0.02;
  const auto line = sabre::format_progress(s);
  CHECK(line.find("1.2e+06 histories") != std::string::npos);
  CHECK(line.find("4e+04/s") != std::string::npos);
  CHECK(line.find("uncertainty 2.31 % (target 2.00 %)") != std::string::npos);
  CHECK(line.find("ETA") != std::string::npos);
}
