#include "engine/io/dicom_util.hh"

#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "core/errors.hh"
#include "core/number.hh"
#include "core/output_file.hh"

namespace sabre::io::dicom {

void register_codecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

bool has_dicm_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[132] = {};
  if (!in.read(buf, sizeof buf)) return false;
  return buf[128] == 'D' && buf[129] == 'I' && buf[130] == 'C' && buf[131] == 'M';
}

std::unique_ptr<DcmFileFormat> load(const std::string& path) {
  // DCMTK's own log lines would add to sabre's one-line error; sabre reports instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    // Elements stored with VR UN whose tag the dictionary knows (files passed through
    // converters that lost the VRs) are read with their real VR.
    dcmEnableUnknownVRConversion.set(OFTrue);
  });
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path, "not a regular file");
  auto ff = std::make_unique<DcmFileFormat>();
  const OFCondition st = ff->loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                      ERM_autoDetect);
  if (st.bad()) {
    std::string why = st.text();
    if (st == EC_StreamNotifyClient || st == EC_ItemEnd || why.find("end of stream") != std::string::npos ||
        why.find("Premature") != std::string::npos)
      why = "truncated or corrupt DICOM file (" + why + ")";
    else
      why = "cannot read as DICOM (" + why + ")";
    throw InputError(path, why);
  }
  return ff;
}

std::vector<DcmItem*> sequence_items(DcmSequenceOfItems& seq) {
  std::vector<DcmItem*> out;
  out.reserve(seq.card());
  for (DcmObject* o = seq.nextInContainer(nullptr); o; o = seq.nextInContainer(o))
    out.push_back(static_cast<DcmItem*>(o));
  return out;
}

std::string str(DcmItem& item, const DcmTagKey& tag) {
  DcmElement* el = nullptr;
  if (item.findAndGetElement(tag, el).bad() || !el) return "";
  std::string r;
  if (el->ident() == EVR_UN || el->ident() == EVR_OB) {
    // A text element stored with VR UN (e.g. by a converter that lost the dictionary):
    // its bytes are the text.
    Uint8* bytes = nullptr;
    if (el->getUint8Array(bytes).good() && bytes) r.assign(reinterpret_cast<const char*>(bytes), el->getLength());
  } else {
    OFString s;
    if (item.findAndGetOFStringArray(tag, s).bad()) return "";
    r = s.c_str();
  }
  while (!r.empty() && (r.back() == ' ' || r.back() == '\0')) r.pop_back();
  while (!r.empty() && r.front() == ' ') r.erase(r.begin());
  return r;
}

namespace {

// The values of a numeric element (DS/IS as text, FL/FD/US/... binary): `bad` gets the text
// of the first value that is not a finite number (and the values before it are returned).
std::vector<double> read_doubles(DcmItem& item, const DcmTagKey& tag, std::string* bad) {
  std::vector<double> v;
  DcmElement* el = nullptr;
  if (item.findAndGetElement(tag, el).bad() || !el) return v;
  const unsigned long n = el->getVM();
  for (unsigned long i = 0; i < n; ++i) {
    Float64 x = 0;
    OFString s;
    if (el->getOFString(s, i).good() && el->ident() != EVR_FL && el->ident() != EVR_FD) {
      // Text (DS, IS): the whole value must be a finite number, blanks around it allowed.
      const auto parsed = parse_finite(std::string_view(s.c_str(), s.length()));
      if (!parsed) {
        if (bad) *bad = s.c_str();
        break;
      }
      x = *parsed;
    } else if (el->getFloat64(x, i).bad() || !std::isfinite(x)) {
      if (bad) *bad = "value " + std::to_string(i + 1);
      break;
    }
    v.push_back(x);
  }
  return v;
}

}  // namespace

std::vector<double> doubles(DcmItem& item, const DcmTagKey& tag) { return read_doubles(item, tag, nullptr); }

std::vector<double> finite_doubles(DcmItem& item, const DcmTagKey& tag, const std::string& path) {
  std::string bad;
  auto v = read_doubles(item, tag, &bad);
  if (!bad.empty())
    throw InputError(path, std::string(DcmTag(tag).getTagName()) + " " + tag.toString().c_str() + ": '" + bad +
                               "' is not a finite number");
  return v;
}

std::string require_str(DcmItem& item, const DcmTagKey& tag, const std::string& path) {
  std::string s = str(item, tag);
  if (s.empty())
    throw InputError(path, std::string("missing ") + DcmTag(tag).getTagName() + " " +
                               tag.toString().c_str());
  return s;
}

std::vector<double> require_doubles(DcmItem& item, const DcmTagKey& tag, std::size_t n,
                                    const std::string& path) {
  auto v = finite_doubles(item, tag, path);
  if (v.size() < n)
    throw InputError(path, std::string("missing or short ") + DcmTag(tag).getTagName() + " " +
                               tag.toString().c_str() + " (needs " + std::to_string(n) +
                               " values, has " + std::to_string(v.size()) + ")");
  return v;
}

namespace {
std::string uid_128(unsigned __int128 x) {
  std::string digits;
  do {
    digits.insert(digits.begin(), char('0' + int(x % 10)));
    x /= 10;
  } while (x != 0);
  return "2.25." + digits;
}
}  // namespace

std::string new_uid() {
  std::random_device rd;
  unsigned __int128 x = 0;
  for (int i = 0; i < 4; ++i) x = (x << 32) | rd();
  // RFC 4122 version 4 / variant bits, as a UUID would carry.
  x &= ~((unsigned __int128)0xF << 76);
  x |= (unsigned __int128)0x4 << 76;
  x &= ~((unsigned __int128)0x3 << 62);
  x |= (unsigned __int128)0x2 << 62;
  return uid_128(x);
}

std::string uid_from(const std::string& seed) {
  // FNV-1a, 128-bit variant (offset basis and prime from the FNV specification).
  unsigned __int128 h = ((unsigned __int128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
  const unsigned __int128 prime = ((unsigned __int128)0x0000000001000000ULL << 64) | 0x000000000000013BULL;
  for (unsigned char c : seed) {
    h ^= c;
    h *= prime;
  }
  return uid_128(h >> 1);  // keep it below 2^127: at most 39 digits, UID length <= 44
}

std::string ds(double v) {
  if (v == 0) return "0";
  char buf[32];
  for (int prec = 12; prec >= 1; --prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::string(buf).size() <= 16) return buf;
  }
  return "0";
}

void save(DcmFileFormat& ff, const std::string& target) {
  OutputFile out(target);
  const std::string path = output_name(target);  // for messages: a caller's temporary shows as its final name
  const OFCondition st = ff.saveFile(out.temp_path().c_str(), EXS_LittleEndianExplicit);
  if (st.bad()) throw RuntimeError(path + ": cannot write DICOM file (" + st.text() + ")");
  // DCMTK's file stream does not report failed writes (a full disk, a file-size limit): read
  // the file back whole and compare its top-level elements with what was to be written.
  DcmFileFormat back;
  OFCondition rd = back.loadFile(out.temp_path().c_str());
  if (rd.good()) rd = back.loadAllDataIntoMemory();
  if (rd.bad() || !back.getDataset() || !ff.getDataset() ||
      back.getDataset()->card() != ff.getDataset()->card())
    throw RuntimeError(path + ": cannot write DICOM file (the file on disk is incomplete: disk full or write error)");
  out.commit();
}

}  // namespace sabre::io::dicom
