// Host memory: what this process may still use, and the refusal of a grid that cannot fit
// before anything is allocated for it (issue 23).
#pragma once

#include <cstdint>
#include <string>

namespace sabre {

// Bytes this process may still allocate: the smallest of /proc/meminfo's MemAvailable (the
// physical memory when it has none), the cgroup v2 limit (memory.max less memory.current)
// and RLIMIT_AS / RLIMIT_DATA; UINT64_MAX when none can be read.
std::uint64_t available_memory_bytes();

// Host bytes per voxel of a transport run: material (4) and density (4) maps, the batch's
// fixed-point array (8), the tally (8 + 16 per batch size, two sizes at most), dose and
// uncertainty (8 + 8), with the dose file's float copies on output: 80.
inline constexpr std::uint64_t kTransportBytesPerVoxel = 80;

// Throws RuntimeError (exit 4) naming `what` with the grid's voxel count, the memory it needs
// and the memory available when voxels x bytes_per_voxel exceeds what is available.
void check_grid_memory(std::int64_t voxels, std::uint64_t bytes_per_voxel, const std::string& what);

}  // namespace sabre
