#include "core/memory.hh"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.hh"

namespace sabre {
namespace {

std::uint64_t meminfo_kib(const std::string& key) {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream in(line.substr(key.size() + 1));
      std::uint64_t kib = 0;
      if (in >> kib) return kib;
    }
  return 0;
}

std::uint64_t read_number(const char* path) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s == "max") return std::numeric_limits<std::uint64_t>::max();
  try {
    return std::stoull(s);
  } catch (const std::exception&) {
    return std::numeric_limits<std::uint64_t>::max();
  }
}

std::string gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g GB", bytes / 1e9);
  return b;
}

}  // namespace

std::uint64_t available_memory_bytes() {
  std::uint64_t avail = std::numeric_limits<std::uint64_t>::max();
  if (const std::uint64_t kib = meminfo_kib("MemAvailable")) avail = kib * 1024;
  else if (const long pages = ::sysconf(_SC_PHYS_PAGES); pages > 0)
    avail = std::uint64_t(pages) * std::uint64_t(::sysconf(_SC_PAGESIZE));
  const std::uint64_t cg_max = read_number("/sys/fs/cgroup/memory.max");
  if (cg_max != std::numeric_limits<std::uint64_t>::max()) {
    const std::uint64_t cur = read_number("/sys/fs/cgroup/memory.current");
    avail = std::min(avail, cur < cg_max ? cg_max - cur : 0);
  }
  for (int res : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit rl{};
    if (::getrlimit(res, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) avail = std::min<std::uint64_t>(avail, rl.rlim_cur);
  }
  return avail;
}

void check_grid_memory(std::int64_t voxels, std::uint64_t bytes_per_voxel, const std::string& what) {
  if (voxels <= 0) return;
  const double need = double(voxels) * double(bytes_per_voxel);
  const std::uint64_t avail = available_memory_bytes();
  if (need <= double(avail)) return;
  char n[32];
  std::snprintf(n, sizeof n, "%.3g", double(voxels));
  throw RuntimeError(what + ": a grid of " + n + " voxels needs about " + gib(need) + " of memory (" +
                     std::to_string(bytes_per_voxel) + " bytes per voxel), more than the " + gib(double(avail)) +
                     " available: refused before allocating; use fewer or larger voxels");
}

}  // namespace sabre
