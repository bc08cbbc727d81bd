// sabre info: what this machine and this installation offer.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/registry.hh"
#include "core/build_info.hh"
#include "core/devices.hh"
#include "core/log.hh"

namespace sabre::cli {
namespace {

std::vector<std::string> files_in(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

struct InfoOptions {
  bool json = false;
};

void run_info(const InfoOptions& opt) {
  const std::filesystem::path data = build::data_dir();
  const auto tables = files_in(data / "physics" / "data", ".h5");
  const auto machines = files_in(data / "beams" / "machines", ".toml");
  spdlog::debug("info: data directory {}, {} table set(s), {} machine model(s)", data.string(),
                tables.size(), machines.size());
  std::string why;
  const auto gpus = devices::cuda_devices(&why);

  if (opt.json) {
    nlohmann::json j;
    j["version"] = build::version();
    j["commit"] = build::git_commit();
    j["transport_id"] = build::transport_id();
    j["cpu_threads"] = devices::cpu_threads();
    j["cuda_enabled"] = build::cuda_enabled();
    j["cuda_devices"] = nlohmann::json::array();
    for (const auto& g : gpus)
      j["cuda_devices"].push_back({{"index", g.index}, {"name", g.name},
                                   {"memory_bytes", g.memory_bytes},
                                   {"compute_capability", std::to_string(g.cc_major) + "." +
                                                              std::to_string(g.cc_minor)}});
    if (gpus.empty()) j["cuda_none_reason"] = why;
    j["data_dir"] = data.string();
    j["physics_tables"] = tables;
    j["machine_models"] = machines;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "sabre " << build::version() << " (" << build::git_commit() << ")\n";
  std::cout << "CPU threads: " << devices::cpu_threads() << "\n";
  if (gpus.empty()) {
    std::cout << "CUDA devices: none (" << why << ")\n";
  } else {
    std::cout << "CUDA devices: " << gpus.size() << "\n";
    for (const auto& g : gpus)
      std::cout << "  [" << g.index << "] " << g.name << ", "
                << (g.memory_bytes >> 20) << " MiB, compute capability " << g.cc_major << "."
                << g.cc_minor << "\n";
  }
  std::cout << "data directory: " << data.string() << "\n";
  std::cout << "physics table sets (" << tables.size() << "):";
  for (const auto& t : tables) std::cout << " " << t;
  std::cout << (tables.empty() ? " none\n" : "\n");
  std::cout << "machine models (" << machines.size() << "):";
  for (const auto& m : machines) std::cout << " " << m;
  std::cout << (machines.empty() ? " none\n" : "\n");
}

const bool registered = register_command(
    "info", "Show CPU threads, CUDA devices, physics table sets and machine models",
    [](CLI::App& sub) {
      auto opt = std::make_shared<InfoOptions>();
      sub.add_flag("--json", opt->json, "Print one JSON object instead of text");
      sub.callback([opt] { run_info(*opt); });
    });

}  // namespace
}  // namespace sabre::cli
