// SHA-256 digests (FIPS PUB 180-4) of byte strings and files, as lowercase hex: used for
// provenance (physics table sources, table files, run inputs). Host only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sabre {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  std::string hex();  // finishes the digest; the object must not be updated afterwards

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t fill_ = 0;
  std::uint64_t bytes_ = 0;
};

std::string sha256_hex(const std::string& bytes);
// Digest of a file's contents; throws InputError naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace sabre
