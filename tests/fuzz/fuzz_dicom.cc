// Fuzz harness: the DICOM readers (CT slice series, RT Plan, RT Structure Set, RT Dose).
// Every input goes to all four: each checks the modality and SOP class itself, so a mutated
// file reaches the reader whose checks it gets past.
#include "engine/io/ct_series.hh"
#include "engine/io/rtdose.hh"
#include "engine/io/rtplan.hh"
#include "engine/io/rtstruct.hh"
#include "tests/fuzz/fuzz_target.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sabre;
  const std::string f = fuzz::write_file("input.dcm", data, size);
  fuzz::expect_clean("CT series", [&] { io::read_ct_series(f); });
  fuzz::expect_clean("RT Plan", [&] { io::read_rtplan(f); });
  fuzz::expect_clean("RT Structure Set", [&] { io::read_rtstruct(f); });
  fuzz::expect_clean("RT Dose", [&] { io::read_rtdose(f); });
  return 0;
}
