#include <catch2/catch.hpp>

#include "core/errors.hh"
#include "core/log.hh"

TEST_CASE("exit codes are the documented ones", "[core]") {
  CHECK(static_cast<int>(sabre::ExitCode::usage) == 2);
  CHECK(static_cast<int>(sabre::ExitCode::input) == 3);
  CHECK(static_cast<int>(sabre::ExitCode::runtime) == 4);
  CHECK(static_cast<int>(sabre::ExitCode::interrupted) == 5);
  CHECK(static_cast<int>(sabre::ExitCode::internal) == 1);
}

TEST_CASE("InputError names the file and the problem", "[core]") {
  const sabre::InputError e("ct/slice_001.dcm", "truncated pixel data");
  CHECK(std::string(e.what()) == "ct/slice_001.dcm: truncated pixel data");
  CHECK(e.code() == sabre::ExitCode::input);
  CHECK(e.file() == "ct/slice_001.dcm");
}

TEST_CASE("DeviceError is a runtime error", "[core]") {
  const sabre::DeviceError e("no CUDA device");
  CHECK(e.code() == sabre::ExitCode::runtime);
}

TEST_CASE("log configuration rejects unknown names", "[core]") {
  CHECK_THROWS_AS(sabre::log::configure("loud", "text"), sabre::UsageError);
  CHECK_THROWS_AS(sabre::log::configure("info", "xml"), sabre::UsageError);
  CHECK_NOTHROW(sabre::log::configure("off", "json"));
  CHECK_NOTHROW(sabre::log::configure("warn", "text"));
}
