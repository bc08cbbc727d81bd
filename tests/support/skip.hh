// Test helpers shared by all areas: skipping with a reason, paths, running sabre.
#pragma once

#include <string>

namespace sabre::test {

// Marks the current test skipped: prints "SKIPPED: <why>" and, under CTest, exits with
// code 77 (reported by CTest as Skipped). Outside CTest it returns and the caller must
// `return` from the test case. Use through the macros below.
void skip(const std::string& why);

// Returns the reason there is no usable CUDA device, or "" when there is one.
std::string no_gpu_reason();

// ../shared beside the source tree, or "" when it is absent.
std::string shared_dir();

// Runs a shell command; returns its exit status, stdout and stderr (captured to files).
struct Result {
  int status = -1;
  std::string out;
  std::string err;
};
Result run(const std::string& command);

// The sabre executable under test.
std::string sabre_exe();

}  // namespace sabre::test

#define SABRE_REQUIRE_GPU()                                                      \
  do {                                                                           \
    const std::string why_ = ::sabre::test::no_gpu_reason();                     \
    if (!why_.empty()) {                                                         \
      ::sabre::test::skip("needs a CUDA GPU: " + why_);                          \
      return;                                                                    \
    }                                                                            \
  } while (0)

#define SABRE_REQUIRE_SHARED()                                                   \
  do {                                                                           \
    if (::sabre::test::shared_dir().empty()) {                                   \
      ::sabre::test::skip("needs ../shared beside the source tree");             \
      return;                                                                    \
    }                                                                            \
  } while (0)
