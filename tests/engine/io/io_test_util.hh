// Helpers for the io tests: scratch directories and generated phantoms.
#pragma once

#include <filesystem>
#include <string>

#include "engine/phantom_generator.hh"

namespace sabre::test::io {

// An empty scratch directory under the build tree (removed first if present).
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(SABRE_BINARY_DIR) / "test-scratch" / "io" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes a generated phantom into scratch_dir(name); returns the directory.
inline std::filesystem::path write_phantom(const std::string& name, PhantomSpec spec) {
  auto dir = scratch_dir(name);
  auto p = generate_phantom(spec);
  write_generated_phantom(dir.string(), p, "test/" + name);
  return dir;
}

}  // namespace sabre::test::io
