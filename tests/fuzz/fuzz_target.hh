// What the fuzz harnesses (issue 23, item 1) share. Each harness defines
// LLVMFuzzerTestOneInput and feeds the bytes to one family of sabre's readers through a
// temporary file (the readers take paths, as sabre does). A reader may refuse the input with
// a sabre::Error (the user's to fix: the clean outcome); any other exception (a
// std::logic_error from an internal check, std::bad_alloc from a size taken on trust, ...)
// escapes, and libFuzzer reports it as a crash, as it does signals and sanitizer reports.
//
// Built two ways (tests/fuzz/CMakeLists.txt): with clang and SABRE_FUZZ=ON as libFuzzer
// programs (scripts/fuzz.sh runs them for a stated time), and in every build as replay
// programs that run each kept input (tests/fuzz/corpus/<harness>/: seeds and every input
// that ever crashed a harness) once, under CTest.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <spdlog/spdlog.h>

#include "core/errors.hh"

namespace sabre::fuzz {

// A scratch directory of this process (under TMPDIR), made once.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    spdlog::set_level(spdlog::level::off);  // readers' info lines: noise at 10^4 inputs per second
    auto d = std::filesystem::temp_directory_path() / ("sabre-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes bytes to scratch()/name and returns the path.
inline std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto p = scratch() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                            static_cast<std::streamsize>(size));
  return p.string();
}

// Runs one reader: a sabre::Error is a clean refusal; anything else escapes.
// With SABRE_FUZZ_VERBOSE set, says what each reader made of the input (to check seeds).
template <class F>
void expect_clean(const char* reader, F&& read) {
  static const bool verbose = std::getenv("SABRE_FUZZ_VERBOSE") != nullptr;
  try {
    read();
    if (verbose) std::printf("  %s: read\n", reader);
  } catch (const sabre::Error& e) {
    if (verbose) std::printf("  %s: refused: %s\n", reader, e.what());
  }
}

}  // namespace sabre::fuzz
