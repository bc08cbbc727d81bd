#include "core/output_file.hh"

#include <fstream>

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "core/errors.hh"

namespace sabre {
namespace fs = std::filesystem;

namespace {
void check_one(const std::string& path) {
  if (path.empty()) throw RuntimeError("empty output path");
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw RuntimeError(path + ": cannot write output: it is a directory");
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec))
    throw RuntimeError(path + ": cannot write output: directory " + dir.string() +
                       " does not exist");
  if (::access(dir.c_str(), W_OK) != 0)
    throw RuntimeError(path + ": cannot write output: directory " + dir.string() +
                       " is not writable");
}
}  // namespace

void check_output_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) check_one(p);
}

// Temporaries of runs that were killed (SIGKILL, power loss) cannot be removed by those runs:
// the next OutputFile for the same target removes every ".<name>.tmp-<pid>-<n>" beside it
// whose process <pid> is gone.
void remove_stale_temporaries(const fs::path& target) {
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) continue;
    pid_t pid = 0;
    try {
      pid = pid_t(std::stol(rest.substr(0, dash)));
    } catch (const std::exception&) {
      continue;
    }
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  check_one(path_);
  static std::atomic<int> counter{0};
  const fs::path p(path_);
  remove_stale_temporaries(p);
  temp_ = (p.parent_path() / ("." + p.filename().string() + ".tmp-" +
                              std::to_string(::getpid()) + "-" + std::to_string(counter++)))
              .string();
}

OutputFile::~OutputFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
}

void OutputFile::commit() {
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) throw RuntimeError(path_ + ": cannot write output: " + ec.message());
  committed_ = true;
}

std::string output_name(const std::string& path) {
  const fs::path p(path);
  const std::string f = p.filename().string();
  const auto t = f.rfind(".tmp-");
  if (f.size() < 2 || f[0] != '.' || t == std::string::npos || t < 2) return path;
  return (p.parent_path() / f.substr(1, t - 1)).string();
}

void write_text_file(const std::string& path, const std::string& text) {
  OutputFile out(path);
  {
    std::ofstream f(out.temp_path());
    f << text;
    f.close();  // flush before checking: a full disk shows here, not in the destructor
    if (!f) throw RuntimeError(path + ": cannot write output (disk full or write error)");
  }
  out.commit();
}

}  // namespace sabre
