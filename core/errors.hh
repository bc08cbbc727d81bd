// sabre error types and process exit codes.
//
// A user error (bad input, bad usage, a device problem) is reported as one clear line on
// stderr and ends the process with one of the documented exit codes below. Anything else
// that escapes to main() is an internal error (a bug in sabre) and gets its own code.
// The codes are documented in docs/cli.md; tests rely on them.
#pragma once

#include <stdexcept>
#include <string>

namespace sabre {

enum class ExitCode : int {
  ok = 0,
  internal = 1,     // a bug in sabre: an invariant failed, an unexpected exception
  usage = 2,        // bad command line: unknown subcommand or option, bad option value
  input = 3,        // bad input data: missing/unreadable/inconsistent file, unsupported plan
  runtime = 4,      // runtime or device failure: no CUDA device, out of memory, write failure
  interrupted = 5,  // stopped by SIGINT or SIGTERM; no output was written
};

// Base class of all errors that are the user's to fix (and so are not bugs).
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(ExitCode::usage, message) {}
};

// Bad input data. The message names the file (when there is one) and the problem:
//   InputError("ct/slice_012.dcm", "truncated: pixel data ends after 1024 of 524288 bytes")
// prints "ct/slice_012.dcm: truncated: ...".
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ExitCode::input, message) {}
  InputError(const std::string& file, const std::string& problem)
      : Error(ExitCode::input, file + ": " + problem), file_(file) {}
  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
};

class RuntimeError : public Error {
 public:
  explicit RuntimeError(const std::string& message) : Error(ExitCode::runtime, message) {}
};

// A CUDA device problem: no device, out of memory, failed launch.
class DeviceError : public RuntimeError {
 public:
  explicit DeviceError(const std::string& message) : RuntimeError(message) {}
};

// Raised when SIGINT/SIGTERM asked the run to stop.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& message = "interrupted")
      : Error(ExitCode::interrupted, message) {}
};

// Internal invariant check, always on: throws std::logic_error (exit code 1: a bug).
#define SABRE_EXPECT(cond, msg)                                                          \
  do {                                                                                   \
    if (!(cond))                                                                         \
      throw std::logic_error(std::string("internal error: ") + (msg) + " [" #cond "] at " \
                             + __FILE__ + ":" + std::to_string(__LINE__));               \
  } while (0)

}  // namespace sabre
