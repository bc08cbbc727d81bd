// IAEA phase-space files (Capote et al., "Phase-space database for external beam
// radiotherapy", IAEA INDC(NDS)-0484, 2006): an ASCII header NAME.IAEAheader with
// "$KEYWORD:" blocks and a binary NAME.IAEAphsp of fixed-length records. Host-only.
//
// Record layout (RECORD_LENGTH bytes, byte order from $BYTE_ORDER, 1234 = little endian):
//   int8   particle type (1 photon, 2 electron, 3 positron, 4 neutron, 5 proton); its sign
//          is the sign of the direction cosine w (w itself is not stored: w = ±sqrt(1-u²-v²))
//   float  energy [MeV]; a negative value marks the first particle of a new history
//   float  x, y, z [cm]      each only when $RECORD_CONTENTS says it is stored; otherwise
//   float  u, v              its value is in $RECORD_CONSTANT (in the order x y z u v w wt)
//   float  weight            (when stored)
//   float  extra floats      ($RECORD_CONTENTS count, each with a type code)
//   int32  extra longs       (type 1 = incremental history number: 0 = same history)
// Checks on reading: record length = the layout's, file size = $CHECKSUM =
// RECORD_LENGTH x $PARTICLES, particle type codes, |u|,|v| and u² + v² <= 1 (within float
// rounding). Every failure is an InputError naming the file, and for records the index.
#pragma once

#include <array>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/output_file.hh"

namespace sabre::beams {

enum class IaeaParticle : int { photon = 1, electron = 2, positron = 3, neutron = 4, proton = 5 };

struct PhspRecord {
  IaeaParticle type = IaeaParticle::photon;
  bool new_history = true;   // energy was stored negative
  double energy_mev = 0;
  double x_cm = 0, y_cm = 0, z_cm = 0;
  double u = 0, v = 0, w = 1;  // direction cosines
  double weight = 1;
  std::vector<float> extra_floats;
  std::vector<std::int32_t> extra_longs;
};

// Variables in the order of $RECORD_CONTENTS / $RECORD_CONSTANT.
enum IaeaVar : int { kVarX = 0, kVarY, kVarZ, kVarU, kVarV, kVarW, kVarWeight, kNumIaeaVars };

struct IaeaHeader {
  std::string title;
  int file_type = 0;                       // 0: phase space
  std::array<bool, kNumIaeaVars> stored{true, true, true, true, true, false, true};
  std::array<double, kNumIaeaVars> constant{0, 0, 0, 0, 0, 1, 1};
  std::vector<int> extra_float_types;      // one type code per extra float
  std::vector<int> extra_long_types;       // one type code per extra long (1: history increment)
  int record_length = 0;                   // bytes
  bool little_endian = true;               // $BYTE_ORDER 1234 (4321: big endian)
  std::int64_t checksum = 0;               // bytes of the .IAEAphsp file
  std::int64_t orig_histories = 0;
  std::int64_t particles = 0;
  std::int64_t photons = 0, electrons = 0, positrons = 0;
  std::map<std::string, std::string> other;  // other blocks, kept verbatim (e.g. $COORDINATE_SYSTEM_DESCRIPTION)

  int computed_record_length() const;      // from `stored` and the extra counts
};

// NAME, NAME.IAEAheader or NAME.IAEAphsp -> NAME.
std::string iaea_base(const std::string& path);

// Parses NAME.IAEAheader. Throws InputError (file, problem).
IaeaHeader read_iaea_header(const std::string& path);

class IaeaReader {
 public:
  explicit IaeaReader(const std::string& path);  // NAME or either file
  const IaeaHeader& header() const { return header_; }
  // Reads the next record; false at the end. Throws InputError for a malformed record.
  bool next(PhspRecord& r);
  std::int64_t index() const { return index_; }  // records read so far

 private:
  IaeaHeader header_;
  std::string phsp_path_;
  std::ifstream in_;
  std::int64_t index_ = 0;
  std::vector<unsigned char> buf_;
};

// Writes records, then the header on finish(); both files appear only when finish()
// succeeds (temporary names, renamed). The layout (stored variables, constants, extras)
// comes from `layout`; counts and checksum are filled in.
class IaeaWriter {
 public:
  IaeaWriter(const std::string& path, const IaeaHeader& layout);
  ~IaeaWriter();
  void write(const PhspRecord& r);
  void finish(std::int64_t orig_histories);

 private:
  IaeaHeader h_;
  std::string base_;
  std::unique_ptr<sabre::OutputFile> phsp_, head_;
  std::ofstream out_;
  std::vector<unsigned char> buf_;
  bool finished_ = false;
};

}  // namespace sabre::beams
