// Fuzz harness: the text tables (energy spectra in EGSnrc and CSV form, the CT calibration
// CSV, measured beam data as CSV, w2CAD and PTW mcc). Every input goes to each, under the
// file name each expects.
#include "beams/spectrum.hh"
#include "engine/ct_calibration.hh"
#include "engine/io/beam_data.hh"
#include "tests/fuzz/fuzz_target.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sabre;
  const std::string spectrum = fuzz::write_file("input.spectrum", data, size);
  const std::string csv = fuzz::write_file("input.csv", data, size);
  const std::string asc = fuzz::write_file("input.asc", data, size);
  const std::string mcc = fuzz::write_file("input.mcc", data, size);
  fuzz::expect_clean("spectrum (.spectrum)", [&] { beams::load_spectrum(spectrum); });
  fuzz::expect_clean("spectrum (.csv)", [&] { beams::load_spectrum(csv); });
  fuzz::expect_clean("CT calibration", [&] { CtCalibration::load(csv); });
  fuzz::expect_clean("beam data CSV", [&] { io::read_beam_data_csv(csv); });
  fuzz::expect_clean("beam data w2CAD", [&] { io::read_beam_data_w2cad(asc); });
  fuzz::expect_clean("beam data mcc", [&] { io::read_beam_data_mcc(mcc); });
  return 0;
}
