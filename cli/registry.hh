// Subcommand registry. Each cli/cmd_*.cc registers one subcommand with a static
// registrar, so that adding a subcommand touches no shared file:
//
//   static const bool registered = sabre::cli::register_command(
//       "info", "Show CPU threads, CUDA devices, physics tables and machine models",
//       [](CLI::App& sub) { ...add options...; sub.callback([&] { ... }); });
//
// Callbacks report user errors by throwing sabre::Error subclasses (core/errors.hh);
// main() turns them into one line on stderr and the documented exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sabre::cli {

struct Command {
  std::string name;
  std::string description;
  std::function<void(CLI::App&)> setup;  // adds options and sets the callback
};

bool register_command(std::string name, std::string description,
                      std::function<void(CLI::App&)> setup);
const std::vector<Command>& commands();

// The exit status of a command that ran to its end but has a result to signal (e.g. `sabre
// check`: 10, "ran, failed tolerance"); 0 unless set. Errors still throw (core/errors.hh).
void set_exit_status(int status);

}  // namespace sabre::cli
