#include "beams/machine_edit.hh"

#include <cstdio>
#include <functional>
#include <regex>

#include "core/errors.hh"

namespace sabre::beams {

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // a TOML float
  return s;
}

// Start of the line containing position p.
std::size_t line_start(const std::string& t, std::size_t p) {
  const std::size_t q = t.rfind('\n', p == 0 ? 0 : p - 1);
  return q == std::string::npos ? 0 : q + 1;
}

// Positions of table headers ("[" at the start of a line).
std::vector<std::size_t> headers(const std::string& t) {
  std::vector<std::size_t> h;
  for (std::size_t p = 0; p < t.size(); p = t.find('\n', p) == std::string::npos ? t.size() : t.find('\n', p) + 1)
    if (t[p] == '[') h.push_back(p);
  return h;
}

std::string header_at(const std::string& t, std::size_t p) { return t.substr(p, t.find('\n', p) - p); }

}  // namespace

MachineText::MachineText(std::string text, std::string path) : text_(std::move(text)), path_(std::move(path)) {}

MachineText::Range MachineText::beam_sub(const std::string& beam, const std::string& sub) const {
  const auto h = headers(text_);
  const std::regex name_re("\\n\\s*name\\s*=\\s*\"([^\"]*)\"");
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (header_at(text_, h[i]).rfind("[[beam]]", 0) != 0) continue;
    const std::size_t end = i + 1 < h.size() ? h[i + 1] : text_.size();
    std::smatch m;
    const std::string body = text_.substr(h[i], end - h[i]);
    if (!std::regex_search(body, m, name_re) || m[1] != beam) continue;
    for (std::size_t j = i + 1; j < h.size(); ++j) {
      const std::string hd = header_at(text_, h[j]);
      if (hd.rfind("[[", 0) == 0) break;  // the next array table: this beam ended
      if (hd.rfind("[beam." + sub + "]", 0) == 0) return {h[j], j + 1 < h.size() ? h[j + 1] : text_.size()};
    }
  }
  throw InputError(path_, "no [beam." + sub + "] table of beam '" + beam + "'");
}

MachineText::Range MachineText::collimator(const std::string& device) const {
  const auto h = headers(text_);
  const std::regex types_re("\\n\\s*dicom_types\\s*=\\s*\\[\\s*\"([^\"]*)\"");
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (header_at(text_, h[i]).rfind("[[collimator]]", 0) != 0) continue;
    const std::size_t end = i + 1 < h.size() ? h[i + 1] : text_.size();
    std::smatch m;
    const std::string body = text_.substr(h[i], end - h[i]);
    if (std::regex_search(body, m, types_re) && m[1] == device) return {h[i], end};
  }
  throw InputError(path_, "no [[collimator]] serving " + device);
}

void MachineText::replace_line(Range r, const std::string& key, const std::string& new_line,
                               const std::string& where) {
  edit_line(r, key, where, [&](const std::string&) { return new_line; });
}

void MachineText::edit_line(Range r, const std::string& key, const std::string& where,
                            const std::function<std::string(const std::string&)>& edit) {
  const std::regex key_re("(^|\\n)[ \\t]*" + key + "[ \\t]*=");
  std::smatch m;
  const std::string body = text_.substr(r.begin, r.end - r.begin);
  if (!std::regex_search(body, m, key_re)) throw InputError(path_, "no key '" + key + "' in " + where);
  const std::size_t at = r.begin + std::size_t(m.position(0)) + (m[1].length() ? 1 : 0);
  const std::size_t s = line_start(text_, at + 1);
  std::size_t e = text_.find('\n', s);
  if (e == std::string::npos) e = text_.size();
  text_.replace(s, e - s, edit(text_.substr(s, e - s)));
}

void MachineText::set_beam_tagged(const std::string& beam, const std::string& sub, const std::string& key,
                                  double value, const std::string& basis, const std::string& source) {
  replace_line(beam_sub(beam, sub), key,
               key + " = { value = " + num(value) + ", basis = " + toml_string(basis) + ", source = " +
                   toml_string(source) + " }",
               "beam." + beam + "." + sub);
}

void MachineText::set_beam_value(const std::string& beam, const std::string& sub, const std::string& key,
                                 double value) {
  const std::string where = "beam." + beam + "." + sub;
  edit_line(beam_sub(beam, sub), key, where, [&](std::string line) {
    const std::regex value_re("(value\\s*=\\s*)[-+0-9.eE]+");
    std::smatch v;
    if (!std::regex_search(line, v, value_re))
      throw InputError(path_, "key '" + key + "' in " + where + " is not a tagged number");
    const std::size_t at = std::size_t(v.position(0)) + std::size_t(v[1].length());
    return line.replace(at, std::size_t(v.length(0) - v[1].length()), num(value));
  });
}

void MachineText::set_beam_array(const std::string& beam, const std::string& sub, const std::string& key,
                                 const std::vector<double>& values, const std::string& basis,
                                 const std::string& source) {
  std::string arr = key + " = [";
  for (std::size_t i = 0; i < values.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.5g", values[i]);
    arr += (i ? ", " : "") + std::string(buf);
  }
  arr += "]";
  const std::string where = "beam." + beam + "." + sub;
  replace_line(beam_sub(beam, sub), key, arr, where);
  replace_line(beam_sub(beam, sub), "basis", "basis = " + toml_string(basis), where);
  replace_line(beam_sub(beam, sub), "source", "source = " + toml_string(source), where);
}

void MachineText::set_collimator_tagged(const std::string& device, const std::string& key, double value,
                                        const std::string& basis, const std::string& source) {
  replace_line(collimator(device), key,
               key + " = { value = " + num(value) + ", basis = " + toml_string(basis) + ", source = " +
                   toml_string(source) + " }",
               "collimator." + device);
}

}  // namespace sabre::beams
