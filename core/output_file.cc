#include "core/output_file.hh"

#include <fstream>

#include <unistd.h>

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

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  check_one(path_);
  static std::atomic<int> counter{0};
  const fs::path p(path_);
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

void write_text_file(const std::string& path, const std::string& text) {
  OutputFile out(path);
  {
    std::ofstream f(out.temp_path());
    f << text;
    if (!f) throw RuntimeError("cannot write " + out.temp_path());
  }
  out.commit();
}

}  // namespace sabre
