// Counter-based random numbers: Philox4x32-10 [J. K. Salmon, M. A. Moraes, R. O. Dror,
// D. E. Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11 (2011), section 4.2;
// round constants and multipliers from its table 1 / the Random123 specification].
//
// The generator is a pure function of (key, counter): key = the run seed (64 bits),
// counter = (history index [64 bits], stream [32 bits], block count [32 bits]). So the
// numbers a history draws depend only on (seed, history, stream), never on the thread or
// device that runs it, nor on how many other histories ran before: results do not depend
// on the thread count, and one history can be replayed alone.
//
// Each Philox block yields 128 bits = two doubles with 53 random bits each; uniform()
// returns a double in the OPEN interval (0, 1) (never 0, never 1), so -log(u) and 1/u are
// always finite. Shared by host and device: no state besides this small struct.
#pragma once

#include <cstdint>

#include "physics/core/macros.hh"

namespace sabre::phys {

namespace philox_detail {

inline constexpr std::uint32_t kM0 = 0xD2511F53u;  // Philox4x32 multipliers
inline constexpr std::uint32_t kM1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kW0 = 0x9E3779B9u;  // Weyl key increments (golden ratio,
inline constexpr std::uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1)

SABRE_HD_INLINE void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                             std::uint32_t& lo) {
  const std::uint64_t p = std::uint64_t(a) * std::uint64_t(b);
  hi = std::uint32_t(p >> 32);
  lo = std::uint32_t(p);
}

// Ten rounds of Philox4x32 on counter c with key (k0, k1); result in out.
SABRE_HD_INLINE void philox4x32_10(const std::uint32_t c[4], std::uint32_t k0,
                                   std::uint32_t k1, std::uint32_t out[4]) {
  std::uint32_t x0 = c[0], x1 = c[1], x2 = c[2], x3 = c[3];
  for (int r = 0; r < 10; ++r) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, x0, hi0, lo0);
    mulhilo(kM1, x2, hi1, lo1);
    const std::uint32_t y0 = hi1 ^ x1 ^ k0;
    const std::uint32_t y1 = lo1;
    const std::uint32_t y2 = hi0 ^ x3 ^ k1;
    const std::uint32_t y3 = lo0;
    x0 = y0; x1 = y1; x2 = y2; x3 = y3;
    k0 += kW0;
    k1 += kW1;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

}  // namespace philox_detail

// Named streams of one history (the third counter word). Sources, transport and any
// later variance reduction use different streams so that adding draws to one never
// shifts the numbers of another.
enum RngStream : std::uint32_t {
  kStreamSource = 0,     // primary particle sampling
  kStreamTransport = 1,  // everything transport draws
  kStreamTest = 7,       // free for tests
};

struct Rng {
  std::uint32_t key[2] = {0, 0};
  std::uint32_t ctr[4] = {0, 0, 0, 0};  // (history lo, history hi, stream, block)
  std::uint32_t buf[4] = {0, 0, 0, 0};
  int used = 4;  // 32-bit words of buf consumed (4: a new block is due)

  Rng() = default;
  SABRE_HD Rng(std::uint64_t seed, std::uint64_t history, std::uint32_t stream) {
    key[0] = std::uint32_t(seed);
    key[1] = std::uint32_t(seed >> 32);
    ctr[0] = std::uint32_t(history);
    ctr[1] = std::uint32_t(history >> 32);
    ctr[2] = stream;
    ctr[3] = 0;
  }

  // Next 64 random bits.
  SABRE_HD std::uint64_t next_u64() {
    if (used >= 4) {
      philox_detail::philox4x32_10(ctr, key[0], key[1], buf);
      ++ctr[3];  // 2^32 blocks = 2^33 doubles per (history, stream): never exhausted
      used = 0;
    }
    const std::uint64_t v = (std::uint64_t(buf[used]) << 32) | buf[used + 1];
    used += 2;
    return v;
  }

  // Uniform double in the open interval (0, 1): (m + 0.5) / 2^53 with m the top 53 bits.
  SABRE_HD double uniform() {
    const std::uint64_t m = next_u64() >> 11;
    return (double(m) + 0.5) * (1.0 / 9007199254740992.0);
  }
};

}  // namespace sabre::phys
