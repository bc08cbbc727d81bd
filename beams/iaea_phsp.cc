#include "beams/iaea_phsp.hh"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/errors.hh"
#include "core/number.hh"

namespace sabre::beams {
namespace fs = std::filesystem;

namespace {

const char* kVarNames[kNumIaeaVars] = {"X", "Y", "Z", "U", "V", "W", "Weight"};

bool host_little_endian() {
  const std::uint16_t one = 1;
  unsigned char c;
  std::memcpy(&c, &one, 1);
  return c == 1;
}

// Copies 4 bytes, swapping when the file's byte order is not the host's.
void copy4(unsigned char* dst, const unsigned char* src, bool swap) {
  if (swap) { dst[0] = src[3]; dst[1] = src[2]; dst[2] = src[1]; dst[3] = src[0]; }
  else std::memcpy(dst, src, 4);
}

float get_f(const unsigned char* p, bool swap) {
  unsigned char b[4];
  copy4(b, p, swap);
  float f;
  std::memcpy(&f, b, 4);
  return f;
}
std::int32_t get_i(const unsigned char* p, bool swap) {
  unsigned char b[4];
  copy4(b, p, swap);
  std::int32_t i;
  std::memcpy(&i, b, 4);
  return i;
}
void put_f(unsigned char* p, float f, bool swap) {
  unsigned char b[4];
  std::memcpy(b, &f, 4);
  copy4(p, b, swap);
}
void put_i(unsigned char* p, std::int32_t i, bool swap) {
  unsigned char b[4];
  std::memcpy(b, &i, 4);
  copy4(p, b, swap);
}

// Strips // and /* */ comments and surrounding blanks from one line.
std::string clean(std::string s) {
  const auto c = s.find("//");
  if (c != std::string::npos) s.erase(c);
  for (auto a = s.find("/*"); a != std::string::npos; a = s.find("/*")) {
    const auto b = s.find("*/", a + 2);
    s.erase(a, b == std::string::npos ? std::string::npos : b + 2 - a);
  }
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::vector<std::string> value_lines(const std::string& block) {
  std::vector<std::string> out;
  std::istringstream in(block);
  std::string line;
  while (std::getline(in, line)) {
    line = clean(line);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::int64_t to_int(const std::string& s, const std::string& file, const std::string& key) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (...) {
    throw InputError(file, "$" + key + ": '" + s + "' is not an integer");
  }
}
double to_double(const std::string& s, const std::string& file, const std::string& key) {
  if (const auto v = parse_finite(s)) return *v;
  throw InputError(file, "$" + key + ": '" + s + "' is not a finite number");
}

}  // namespace

int IaeaHeader::computed_record_length() const {
  int n = 1 + 4;  // type, energy
  for (int v = 0; v < kNumIaeaVars; ++v)
    if (stored[v] && v != kVarW) n += 4;
  return n + 4 * int(extra_float_types.size()) + 4 * int(extra_long_types.size());
}

std::string iaea_base(const std::string& path) {
  for (const char* ext : {".IAEAheader", ".IAEAphsp"}) {
    const std::string e(ext);
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
      return path.substr(0, path.size() - e.size());
  }
  return path;
}

IaeaHeader read_iaea_header(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, fs::exists(path) ? "cannot be read" : "no such file");
  std::map<std::string, std::string> blocks;
  std::string line, key;
  while (std::getline(in, line)) {
    const std::string c = clean(line);
    if (!c.empty() && c.front() == '$') {
      const auto colon = c.find(':');
      if (colon == std::string::npos) throw InputError(path, "block name '" + c + "' lacks its ':'");
      key = c.substr(1, colon - 1);
      if (blocks.count(key)) throw InputError(path, "block $" + key + " appears twice");
      blocks[key] = c.substr(colon + 1) + "\n";
    } else if (!key.empty()) {
      blocks[key] += line + "\n";
    } else if (!c.empty()) {
      throw InputError(path, "text before the first $KEYWORD: block: '" + c + "'");
    }
  }
  auto need = [&](const std::string& k) -> std::vector<std::string> {
    const auto it = blocks.find(k);
    if (it == blocks.end()) throw InputError(path, "missing $" + k + ": block");
    auto v = value_lines(it->second);
    if (v.empty()) throw InputError(path, "$" + k + ": block is empty");
    return v;
  };
  IaeaHeader h;
  if (blocks.count("TITLE")) {
    const auto t = value_lines(blocks["TITLE"]);
    if (!t.empty()) h.title = t[0];
  }
  h.file_type = int(to_int(need("FILE_TYPE")[0], path, "FILE_TYPE"));
  if (h.file_type != 0)
    throw InputError(path, "$FILE_TYPE " + std::to_string(h.file_type) + ": only phase-space files (0) are supported");
  h.checksum = to_int(need("CHECKSUM")[0], path, "CHECKSUM");
  {
    const auto rc = need("RECORD_CONTENTS");
    if (rc.size() < 9)
      throw InputError(path, "$RECORD_CONTENTS: needs 9 lines (X Y Z U V W Weight stored flags, extra float and extra long counts), has " +
                                 std::to_string(rc.size()));
    for (int v = 0; v < kNumIaeaVars; ++v) {
      const auto f = to_int(rc[v], path, "RECORD_CONTENTS");
      if (f != 0 && f != 1)
        throw InputError(path, std::string("$RECORD_CONTENTS: the ") + kVarNames[v] + " flag must be 0 or 1");
      h.stored[v] = f == 1;
    }
    if (h.stored[kVarW])
      throw InputError(path, "$RECORD_CONTENTS: W stored in the records is not supported (W follows from U, V and the type's sign)");
    const auto nf = to_int(rc[7], path, "RECORD_CONTENTS"), nl = to_int(rc[8], path, "RECORD_CONTENTS");
    if (nf < 0 || nl < 0 || nf > 16 || nl > 16)
      throw InputError(path, "$RECORD_CONTENTS: extra float/long counts must be 0..16");
    if (rc.size() != std::size_t(9 + nf + nl))
      throw InputError(path, "$RECORD_CONTENTS: " + std::to_string(nf) + " extra floats and " + std::to_string(nl) +
                                 " extra longs need " + std::to_string(9 + nf + nl) + " lines, found " +
                                 std::to_string(rc.size()));
    for (int i = 0; i < nf; ++i) h.extra_float_types.push_back(int(to_int(rc[9 + i], path, "RECORD_CONTENTS")));
    for (int i = 0; i < nl; ++i) h.extra_long_types.push_back(int(to_int(rc[9 + nf + i], path, "RECORD_CONTENTS")));
  }
  {
    std::vector<std::string> cons;
    if (blocks.count("RECORD_CONSTANT")) cons = value_lines(blocks["RECORD_CONSTANT"]);
    std::size_t k = 0;
    for (int v = 0; v < kNumIaeaVars; ++v) {
      if (h.stored[v] || v == kVarW) continue;
      if (k >= cons.size())
        throw InputError(path, std::string("$RECORD_CONSTANT: no value for ") + kVarNames[v] + " (not stored)");
      h.constant[v] = to_double(cons[k++], path, "RECORD_CONSTANT");
    }
    if (k != cons.size())
      throw InputError(path, "$RECORD_CONSTANT: " + std::to_string(cons.size()) + " values for " +
                                 std::to_string(k) + " constant variables");
  }
  h.record_length = int(to_int(need("RECORD_LENGTH")[0], path, "RECORD_LENGTH"));
  if (h.record_length != h.computed_record_length())
    throw InputError(path, "$RECORD_LENGTH " + std::to_string(h.record_length) + " does not match $RECORD_CONTENTS (" +
                               std::to_string(h.computed_record_length()) + " bytes)");
  {
    const auto bo = need("BYTE_ORDER")[0];
    if (bo == "1234") h.little_endian = true;
    else if (bo == "4321") h.little_endian = false;
    else throw InputError(path, "$BYTE_ORDER '" + bo + "' is not supported (1234 or 4321)");
  }
  h.particles = to_int(need("PARTICLES")[0], path, "PARTICLES");
  if (h.particles < 0) throw InputError(path, "$PARTICLES must be >= 0");
  if (h.checksum != h.particles * h.record_length)
    throw InputError(path, "$CHECKSUM " + std::to_string(h.checksum) + " is not $RECORD_LENGTH x $PARTICLES (" +
                               std::to_string(h.particles * h.record_length) + ")");
  if (blocks.count("ORIG_HISTORIES")) h.orig_histories = to_int(need("ORIG_HISTORIES")[0], path, "ORIG_HISTORIES");
  if (blocks.count("PHOTONS")) h.photons = to_int(need("PHOTONS")[0], path, "PHOTONS");
  if (blocks.count("ELECTRONS")) h.electrons = to_int(need("ELECTRONS")[0], path, "ELECTRONS");
  if (blocks.count("POSITRONS")) h.positrons = to_int(need("POSITRONS")[0], path, "POSITRONS");
  for (const auto& [k, v] : blocks)
    if (k != "TITLE" && k != "FILE_TYPE" && k != "CHECKSUM" && k != "RECORD_CONTENTS" && k != "RECORD_CONSTANT" &&
        k != "RECORD_LENGTH" && k != "BYTE_ORDER" && k != "PARTICLES" && k != "ORIG_HISTORIES" && k != "PHOTONS" &&
        k != "ELECTRONS" && k != "POSITRONS")
      h.other[k] = v;
  return h;
}

IaeaReader::IaeaReader(const std::string& path) {
  const std::string base = iaea_base(path);
  header_ = read_iaea_header(base + ".IAEAheader");
  phsp_path_ = base + ".IAEAphsp";
  std::error_code ec;
  if (!fs::exists(phsp_path_, ec)) throw InputError(phsp_path_, "no such file (the header's data file)");
  const auto size = std::int64_t(fs::file_size(phsp_path_, ec));
  if (ec) throw InputError(phsp_path_, "cannot read its size");
  if (size != header_.checksum) {
    std::string why = "has " + std::to_string(size) + " bytes, the header says " + std::to_string(header_.checksum) +
                      " (" + std::to_string(header_.particles) + " records of " +
                      std::to_string(header_.record_length) + " bytes)";
    if (size < header_.checksum) why = "truncated: " + why;
    if (header_.record_length > 0 && size % header_.record_length != 0)
      why += "; the last record is incomplete";
    throw InputError(phsp_path_, why);
  }
  in_.open(phsp_path_, std::ios::binary);
  if (!in_) throw InputError(phsp_path_, "cannot be opened");
  buf_.resize(header_.record_length);
}

bool IaeaReader::next(PhspRecord& r) {
  if (index_ >= header_.particles) return false;
  if (!in_.read(reinterpret_cast<char*>(buf_.data()), buf_.size()))
    throw InputError(phsp_path_, "truncated at record " + std::to_string(index_));
  const bool swap = header_.little_endian != host_little_endian();
  const std::string where = "record " + std::to_string(index_);
  const auto type = static_cast<signed char>(buf_[0]);
  const int code = type < 0 ? -type : type;
  if (code < 1 || code > 5)
    throw InputError(phsp_path_, where + ": particle type " + std::to_string(int(type)) + " (valid: ±1..5)");
  r.type = static_cast<IaeaParticle>(code);
  const unsigned char* p = buf_.data() + 1;
  const float e = get_f(p, swap);
  p += 4;
  if (!std::isfinite(e) || e == 0)
    throw InputError(phsp_path_, where + ": energy " + std::to_string(e) + " is not a finite non-zero number");
  r.new_history = e < 0;
  r.energy_mev = std::abs(double(e));
  double val[kNumIaeaVars];
  for (int v = 0; v < kNumIaeaVars; ++v) {
    if (v == kVarW) continue;
    if (header_.stored[v]) {
      val[v] = get_f(p, swap);
      p += 4;
      if (!std::isfinite(val[v])) throw InputError(phsp_path_, where + ": " + kVarNames[v] + " is not finite");
    } else {
      val[v] = header_.constant[v];
    }
  }
  r.x_cm = val[kVarX]; r.y_cm = val[kVarY]; r.z_cm = val[kVarZ];
  r.u = val[kVarU]; r.v = val[kVarV];
  r.weight = val[kVarWeight];
  const double uv = r.u * r.u + r.v * r.v;
  if (uv > 1 + 1e-5)
    throw InputError(phsp_path_, where + ": direction cosines u, v give u² + v² = " + std::to_string(uv) + " > 1");
  r.w = std::sqrt(std::max(0.0, 1 - uv)) * (type < 0 ? -1 : 1);
  r.extra_floats.resize(header_.extra_float_types.size());
  for (auto& f : r.extra_floats) { f = get_f(p, swap); p += 4; }
  r.extra_longs.resize(header_.extra_long_types.size());
  for (auto& l : r.extra_longs) { l = get_i(p, swap); p += 4; }
  ++index_;
  return true;
}

IaeaWriter::IaeaWriter(const std::string& path, const IaeaHeader& layout) : h_(layout), base_(iaea_base(path)) {
  if (h_.stored[kVarW]) throw UsageError("IAEA writer: W is never stored (it follows from U, V and the type's sign)");
  h_.record_length = h_.computed_record_length();
  h_.particles = h_.photons = h_.electrons = h_.positrons = 0;
  phsp_ = std::make_unique<OutputFile>(base_ + ".IAEAphsp");
  head_ = std::make_unique<OutputFile>(base_ + ".IAEAheader");
  out_.open(phsp_->temp_path(), std::ios::binary);
  if (!out_) throw RuntimeError(base_ + ".IAEAphsp: cannot be written");
  buf_.resize(h_.record_length);
}

IaeaWriter::~IaeaWriter() = default;  // without finish(), the OutputFiles remove the temporaries

void IaeaWriter::write(const PhspRecord& r) {
  SABRE_EXPECT(!finished_, "IaeaWriter::write after finish");
  const bool swap = h_.little_endian != host_little_endian();
  SABRE_EXPECT(r.energy_mev > 0, "phase-space energy must be > 0");
  SABRE_EXPECT(r.extra_floats.size() == h_.extra_float_types.size() &&
                   r.extra_longs.size() == h_.extra_long_types.size(),
               "phase-space record extras do not match the layout");
  const int code = int(r.type);
  buf_[0] = static_cast<unsigned char>(static_cast<signed char>(r.w < 0 ? -code : code));
  unsigned char* p = buf_.data() + 1;
  put_f(p, float(r.new_history ? -r.energy_mev : r.energy_mev), swap);
  p += 4;
  const double val[kNumIaeaVars] = {r.x_cm, r.y_cm, r.z_cm, r.u, r.v, r.w, r.weight};
  for (int v = 0; v < kNumIaeaVars; ++v)
    if (h_.stored[v] && v != kVarW) { put_f(p, float(val[v]), swap); p += 4; }
  for (float f : r.extra_floats) { put_f(p, f, swap); p += 4; }
  for (std::int32_t l : r.extra_longs) { put_i(p, l, swap); p += 4; }
  out_.write(reinterpret_cast<const char*>(buf_.data()), buf_.size());
  if (!out_) throw RuntimeError(base_ + ".IAEAphsp: write failed");
  ++h_.particles;
  if (r.type == IaeaParticle::photon) ++h_.photons;
  else if (r.type == IaeaParticle::electron) ++h_.electrons;
  else if (r.type == IaeaParticle::positron) ++h_.positrons;
}

void IaeaWriter::finish(std::int64_t orig_histories) {
  SABRE_EXPECT(!finished_, "IaeaWriter::finish twice");
  out_.close();
  if (!out_) throw RuntimeError(base_ + ".IAEAphsp: write failed");
  h_.orig_histories = orig_histories;
  h_.checksum = h_.particles * h_.record_length;
  std::ofstream o(head_->temp_path());
  o << "$IAEA_INDEX:\n0   // sabre-written, not an IAEA database entry\n\n";
  o << "$TITLE:\n" << (h_.title.empty() ? "sabre phase space" : h_.title) << "\n\n";
  o << "$FILE_TYPE:\n0\n\n";
  o << "$CHECKSUM:\n" << h_.checksum << "\n\n";
  o << "$RECORD_CONTENTS:\n";
  for (int v = 0; v < kNumIaeaVars; ++v)
    o << (h_.stored[v] ? 1 : 0) << "     // " << kVarNames[v] << " is stored ?\n";
  o << h_.extra_float_types.size() << "     // Extra floats stored ?\n";
  o << h_.extra_long_types.size() << "     // Extra longs stored ?\n";
  for (int t : h_.extra_float_types) o << t << "     // extra float type\n";
  for (int t : h_.extra_long_types) o << t << "     // extra long type\n";
  o << "\n$RECORD_CONSTANT:\n";
  o.precision(9);
  for (int v = 0; v < kNumIaeaVars; ++v)
    if (!h_.stored[v] && v != kVarW) o << h_.constant[v] << "     // Constant " << kVarNames[v] << "\n";
  o << "\n$RECORD_LENGTH:\n" << h_.record_length << "\n\n";
  o << "$BYTE_ORDER:\n" << (h_.little_endian ? "1234" : "4321") << "\n\n";
  o << "$ORIG_HISTORIES:\n" << h_.orig_histories << "\n\n";
  o << "$PARTICLES:\n" << h_.particles << "\n\n";
  o << "$PHOTONS:\n" << h_.photons << "\n\n";
  o << "$ELECTRONS:\n" << h_.electrons << "\n\n";
  o << "$POSITRONS:\n" << h_.positrons << "\n\n";
  for (const auto& [k, v] : h_.other) o << "$" << k << ":" << v << "\n";
  o.close();
  if (!o) throw RuntimeError(base_ + ".IAEAheader: write failed");
  phsp_->commit();
  head_->commit();
  finished_ = true;
}

}  // namespace sabre::beams
