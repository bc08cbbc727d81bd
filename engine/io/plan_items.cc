#include "engine/io/plan_items.hh"

#include <cmath>
#include <stdexcept>

#include "core/errors.hh"
#include "core/number.hh"
#include "engine/io/dicom_util.hh"

namespace sabre::io::detail {

// Text values trimmed (dicom::str also reads text stored with VR UN).
std::string get_str(DcmItem& item, const DcmTagKey& tag) { return dicom::str(item, tag); }

bool has(DcmItem& item, const DcmTagKey& tag) {
  DcmElement* el = nullptr;
  return item.findAndGetElement(tag, el, OFFalse).good() && el && el->getLength() > 0;
}

namespace {

double parse_number(const std::string& text, const DcmTagKey& tag, const std::string& where) {
  if (const auto x = parse_finite(text)) return *x;
  throw InputError(where + ": " + DcmTag(tag).getTagName() + " value '" + text + "' is not a finite number");
}

}  // namespace

std::vector<double> get_doubles(DcmItem& item, const DcmTagKey& tag, const std::string& where) {
  std::vector<double> v;
  DcmElement* el = nullptr;
  if (item.findAndGetElement(tag, el, OFFalse).bad() || !el || el->getLength() == 0) return v;
  const DcmEVR vr = el->ident();
  if (vr == EVR_FD) {
    // Binary double: the value itself, no round trip through text. (FL, e.g.
    // ApplicatorOpening, keeps the text path below: its short decimal form, as before.)
    for (unsigned long i = 0; i < el->getVM(); ++i) {
      Float64 x = 0;
      if (el->getFloat64(x, i).bad()) break;
      if (!std::isfinite(x)) throw InputError(where + ": " + DcmTag(tag).getTagName() + " is not finite");
      v.push_back(x);
    }
    return v;
  }
  if (vr == EVR_UN || vr == EVR_OB) {
    // Decimal text stored without its VR (a private element read without a dictionary).
    std::string text = get_str(item, tag);
    std::size_t a = 0;
    while (a <= text.size()) {
      std::size_t b = text.find('\\', a);
      if (b == std::string::npos) b = text.size();
      std::string t = text.substr(a, b - a);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\0')) t.pop_back();
      while (!t.empty() && t.front() == ' ') t.erase(t.begin());
      const double x = parse_number(t, tag, where);
      if (!std::isfinite(x)) throw InputError(where + ": " + DcmTag(tag).getTagName() + " is not finite");
      v.push_back(x);
      a = b + 1;
    }
    return v;
  }
  const unsigned long n = el->getVM();
  for (unsigned long i = 0; i < n; ++i) {
    OFString s;
    Float64 x = 0;
    if (el->getOFString(s, i).good()) {
      if (const auto parsed = parse_finite(std::string_view(s.c_str(), s.length()))) {
        x = *parsed;
      } else if (el->getFloat64(x, i).bad()) {
        throw InputError(where + ": " + DcmTag(tag).getTagName() + " value '" + s.c_str() + "' is not a number");
      }
    } else if (el->getFloat64(x, i).bad()) {
      break;
    }
    if (!std::isfinite(x))
      throw InputError(where + ": " + DcmTag(tag).getTagName() + " is not finite");
    v.push_back(x);
  }
  return v;
}

double get_double(DcmItem& item, const DcmTagKey& tag, const std::string& where, double dflt) {
  auto v = get_doubles(item, tag, where);
  return v.empty() ? dflt : v[0];
}

std::vector<DcmItem*> items(DcmItem& parent, const DcmTagKey& seq_tag) {
  std::vector<DcmItem*> out;
  DcmSequenceOfItems* seq = nullptr;
  if (parent.findAndGetSequence(seq_tag, seq, OFFalse).bad() || !seq) return out;
  return dicom::sequence_items(*seq);
}

}  // namespace sabre::io::detail
