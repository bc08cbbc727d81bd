#include "tests/support/skip.hh"

#include <unistd.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/devices.hh"

namespace sabre::test {

void skip(const std::string& why) {
  std::cout << "SKIPPED: " << why << std::endl;
  if (std::getenv("SABRE_TEST_UNDER_CTEST")) std::_Exit(77);
}

std::string no_gpu_reason() {
  std::string why;
  if (!devices::cuda_devices(&why).empty()) return "";
  return why.empty() ? "no CUDA device" : why;
}

std::string shared_dir() {
  const std::filesystem::path p = SABRE_SHARED_DIR;
  std::error_code ec;
  return std::filesystem::is_directory(p / "data", ec) ? p.string() : "";
}

static std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Result run(const std::string& command) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  const std::string out = (dir / ("sabre_test_out_" + tag)).string();
  const std::string err = (dir / ("sabre_test_err_" + tag)).string();
  const std::string full = command + " >" + out + " 2>" + err;
  const int raw = std::system(full.c_str());
  Result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::error_code ec;
  std::filesystem::remove(out, ec);
  std::filesystem::remove(err, ec);
  return r;
}

std::string sabre_exe() { return SABRE_EXE; }

}  // namespace sabre::test
