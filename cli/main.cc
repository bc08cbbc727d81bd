// The sabre command: global options, subcommand dispatch and the mapping from errors to
// exit codes (docs/cli.md). Subcommands live in cli/cmd_*.cc.
#include <CLI/CLI.hpp>
#include <hdf5.h>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "cli/options.hh"
#include "cli/registry.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "core/ranks.hh"

namespace sabre::cli {

std::vector<Command>& registry() {
  static std::vector<Command> cmds;
  return cmds;
}

bool register_command(std::string name, std::string description,
                      std::function<void(CLI::App&)> setup) {
  registry().push_back({std::move(name), std::move(description), std::move(setup)});
  return true;
}

const std::vector<Command>& commands() { return registry(); }

namespace {
int g_exit_status = 0;
}
void set_exit_status(int status) { g_exit_status = status; }

namespace {

void print_version() {
  std::printf("sabre %s\n", build::version());
  std::printf("commit: %s\n", build::git_commit());
  std::printf("transport: %.12s (core/transport_id.cmake; the commissioning basis cache's key)\n",
              build::transport_id());
  std::printf("build type: %s\n", build::build_type());
  if (build::cuda_enabled())
    std::printf("CUDA: on (architectures %s)\n", build::cuda_architectures());
  else
    std::printf("CUDA: off\n");
  std::printf("MPI: %s\n", ranks::built_with_mpi() ? "on" : "off");
  std::printf("compiler: %s\n", build::compiler());
}

int fail(ExitCode code, const std::string& message) {
  std::fflush(stdout);
  if (ranks::size() == 1)
    std::fprintf(stderr, "sabre: error: %s\n", message.c_str());
  else if (ranks::rank() == 0 || code != ExitCode::interrupted)  // other ranks: quiet on a shared interrupt
    std::fprintf(stderr, "sabre: error: %s%s\n",
                 ranks::rank() == 0 ? "" : ("rank " + std::to_string(ranks::rank()) + ": ").c_str(), message.c_str());
  return static_cast<int>(code);
}

std::string command_list() {
  std::string s;
  for (const auto& c : commands()) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

}  // namespace
}  // namespace sabre::cli

int sabre_main(int argc, char** argv);

namespace {

// With several MPI ranks (core/ranks.hh): rank 0 reports errors as one process does; another
// rank reports its own prefixed with its number; an error other than a coordinated interrupt
// ends every rank (MPI_Abort with the exit code), so no rank waits for a dead one and no
// output is written. One rank: the exit code is returned.
int finish(int code) {
  if (code != 0 && sabre::ranks::size() > 1 && code != static_cast<int>(sabre::ExitCode::interrupted)) {
    std::fflush(stdout);
    std::fflush(stderr);
    sabre::ranks::abort_all(code);
  }
  sabre::ranks::finalize();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // HDF5 1.10 crashes in its exit handler when a file failed to close (a full disk): keep
  // it from running; sabre closes what it opens, and the process ends anyway.
  H5dont_atexit();
  sabre::ranks::init(argc, argv);
  return finish(sabre_main(argc, argv));
}

int sabre_main(int argc, char** argv) {
  using namespace sabre;
  using namespace sabre::cli;

  auto& cmds = registry();
  std::sort(cmds.begin(), cmds.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });

  CLI::App app{"sabre: Monte Carlo dose engine for stereotactic radiotherapy", "sabre"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  std::string log_level = "info";
  std::string log_format = "text";
  app.add_flag("--version", show_version, "Print version, commit, build type and CUDA support");
  app.add_option("--log-level", log_level,
                 "Log level: trace, debug, info, warn, error, critical, off")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "Log format on stderr: text or json")
      ->capture_default_str();
  // Logging must be configured before any subcommand callback runs.
  // MPI ranks other than 0 log warnings and errors only (rank 0 reports the progress).
  app.parse_complete_callback([&] {
    const bool quiet_rank = sabre::ranks::rank() != 0 &&
                            (log_level == "trace" || log_level == "debug" || log_level == "info");
    sabre::log::configure(quiet_rank ? "warn" : log_level, log_format);
  });

  for (const auto& c : cmds) c.setup(*app.add_subcommand(c.name, c.description));
  accept_counts_in_any_notation(app);  // --histories 1e8 (cli/options.hh)

  try {
    app.parse(argc, argv);
    if (show_version) {
      print_version();
      return 0;
    }
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
      return fail(ExitCode::usage, "no subcommand given (expected one of: " + command_list() + ")");
    }
    return sabre::cli::g_exit_status;
  } catch (const CLI::CallForHelp&) {
    std::cout << (app.get_subcommands().empty() ? app.help()
                                                : app.get_subcommands().front()->help());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ExtrasError& e) {
    // "sabre frobnicate": the first unexpected word is taken as an unknown subcommand.
    const auto& rem = app.remaining();
    if (app.get_subcommands().empty() && !rem.empty() && !rem.front().empty() &&
        rem.front()[0] != '-')
      return fail(ExitCode::usage, "unknown subcommand '" + rem.front() +
                                       "' (expected one of: " + command_list() + ")");
    return fail(ExitCode::usage, std::string(e.what()) + " (see sabre --help)");
  } catch (const CLI::ParseError& e) {
    return fail(ExitCode::usage, std::string(e.what()) + " (see sabre --help)");
  } catch (const sabre::Error& e) {
    return fail(e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return fail(ExitCode::runtime, "out of host memory");
  } catch (const std::exception& e) {
    return fail(ExitCode::internal, std::string("internal error (please report): ") + e.what());
  }
}
