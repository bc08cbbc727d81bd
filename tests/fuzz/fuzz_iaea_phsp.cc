// Fuzz harness: the IAEA phase-space reader (NAME.IAEAheader + NAME.IAEAphsp). The input's
// first two bytes give the header's length n (little endian); the next n bytes are the
// header, the rest the binary records. All records are read (at most 100 000).
#include "beams/iaea_phsp.hh"
#include "tests/fuzz/fuzz_target.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sabre;
  if (size < 2) return 0;
  std::size_t n = std::size_t(data[0]) | (std::size_t(data[1]) << 8);
  data += 2;
  size -= 2;
  if (n > size) n = size;
  fuzz::write_file("input.IAEAheader", data, n);
  fuzz::write_file("input.IAEAphsp", data + n, size - n);
  fuzz::expect_clean("IAEA phase space", [&] {
    beams::IaeaReader r((fuzz::scratch() / "input").string());
    beams::PhspRecord rec;
    for (int i = 0; i < 100000 && r.next(rec); ++i) {
    }
  });
  return 0;
}
