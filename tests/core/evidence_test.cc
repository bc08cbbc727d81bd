// tests/support/evidence: the JSON rows validation/run.py reads (issue 21).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/evidence.hh"

TEST_CASE("evidence rows are one JSON object per line, NaN as null, strings escaped", "[core][evidence]") {
  sabre::test::Evidence r;
  r.id = "case/1MeV";
  r.quantity = "a \"quoted\" word\\";
  r.kind = "independent";
  r.reference = 1.0;
  r.value = 0.5;
  r.pass = true;
  const std::string j = sabre::test::to_json(r);
  CHECK(j.find('\n') == std::string::npos);
  CHECK(j.find("\"quantity\": \"a \\\"quoted\\\" word\\\\\"") != std::string::npos);
  CHECK(j.find("\"sigma\": null") != std::string::npos);
  CHECK(j.find("\"value\": 0.5") != std::string::npos);
  CHECK(j.find("\"pass\": true") != std::string::npos);
}

TEST_CASE("evidence rows are appended to $SABRE_EVIDENCE; a wrong kind is refused", "[core][evidence]") {
  const auto path = std::filesystem::temp_directory_path() / "sabre_evidence_test.jsonl";
  std::filesystem::remove(path);
  ::setenv("SABRE_EVIDENCE", path.c_str(), 1);
  sabre::test::Evidence r;
  r.id = "a";
  r.kind = "guard";
  sabre::test::record(r);
  r.id = "b";
  sabre::test::record(r);
  r.kind = "proof";
  CHECK_THROWS(sabre::test::record(r));
  ::unsetenv("SABRE_EVIDENCE");
  sabre::test::record(r);  // unset: nothing written, nothing thrown
  std::ifstream f(path);
  std::string l1, l2, l3;
  std::getline(f, l1);
  std::getline(f, l2);
  CHECK_FALSE(std::getline(f, l3));
  CHECK(l1.rfind("{\"id\": \"a\"", 0) == 0);
  CHECK(l2.rfind("{\"id\": \"b\"", 0) == 0);
  std::filesystem::remove(path);
}
