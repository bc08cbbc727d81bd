// The sabre command's contract: --version, info, unknown subcommand, exit codes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "core/errors.hh"
#include "tests/support/skip.hh"

using sabre::test::run;
using sabre::test::sabre_exe;

namespace {
int code(sabre::ExitCode c) { return static_cast<int>(c); }
long count_lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }
}  // namespace

TEST_CASE("sabre --version prints version, commit, build type and CUDA", "[cli]") {
  const auto r = run(sabre_exe() + " --version");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("sabre 0.") == 0);
  CHECK(r.out.find("commit: ") != std::string::npos);
  CHECK(r.out.find("build type: ") != std::string::npos);
  CHECK(r.out.find("CUDA: ") != std::string::npos);
#ifdef SABRE_HAVE_CUDA
  CHECK(r.out.find("CUDA: on (architectures ") != std::string::npos);
#else
  CHECK(r.out.find("CUDA: off") != std::string::npos);
#endif
}

TEST_CASE("info lists threads, CUDA devices, tables and machines, and exits 0", "[cli]") {
  const auto r = run(sabre_exe() + " info");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("CPU threads: ") != std::string::npos);
  CHECK(r.out.find("CUDA devices: ") != std::string::npos);
  CHECK(r.out.find("physics table sets") != std::string::npos);
  CHECK(r.out.find("machine models") != std::string::npos);
  if (!sabre::test::no_gpu_reason().empty())
    CHECK(r.out.find("CUDA devices: none") != std::string::npos);
}

TEST_CASE("info --json is one JSON object", "[cli]") {
  const auto r = run(sabre_exe() + " info --json");
  REQUIRE(r.status == 0);
  CHECK(r.out.front() == '{');
  CHECK(r.out.find("\"cpu_threads\"") != std::string::npos);
  CHECK(r.out.find("\"cuda_devices\"") != std::string::npos);
}

TEST_CASE("an unknown subcommand gives one line and the usage exit code", "[cli]") {
  const auto r = run(sabre_exe() + " frobnicate");
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("unknown subcommand 'frobnicate'") != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("an unknown option gives one line and the usage exit code", "[cli]") {
  const auto r = run(sabre_exe() + " info --no-such-option");
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(count_lines(r.err) == 1);
}

TEST_CASE("a bad log level is a usage error", "[cli]") {
  const auto r = run(sabre_exe() + " --log-level loud info");
  CHECK(r.status == code(sabre::ExitCode::usage));
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("unknown log level 'loud'") != std::string::npos);
}

TEST_CASE("JSON logs are one object per line", "[cli]") {
  const auto r = run(sabre_exe() + " --log-format json --log-level debug info");
  REQUIRE(r.status == 0);
  REQUIRE(!r.err.empty());
  std::size_t start = 0;
  while (start < r.err.size()) {
    const auto end = r.err.find('\n', start);
    const std::string line = r.err.substr(start, end - start);
    CHECK(line.rfind("{\"time\":", 0) == 0);
    CHECK(line.find("\"level\":\"debug\"") != std::string::npos);
    CHECK(line.back() == '}');
    if (end == std::string::npos) break;
    start = end + 1;
  }
}
