// Spectrum file readers (formats in beams/spectrum.hh and docs/phantom-file.md).
#include "beams/spectrum.hh"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/errors.hh"
#include "core/number.hh"

namespace sabre::beams {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(trim(item));
  return out;
}

bool parse_double(const std::string& s, double& v) {
  const auto parsed = parse_finite(s);
  if (parsed) v = *parsed;
  return parsed.has_value();
}

// Numbers on a line separated by commas and/or blanks.
std::vector<double> numbers(const std::string& line, bool& ok) {
  std::string t = line;
  std::replace(t.begin(), t.end(), ',', ' ');
  std::stringstream ss(t);
  std::vector<double> out;
  std::string tok;
  ok = true;
  while (ss >> tok) {
    double v;
    if (!parse_double(tok, v)) { ok = false; return out; }
    out.push_back(v);
  }
  return out;
}

Spectrum read_egsnrc(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot open the spectrum file");
  std::string title, line;
  if (!std::getline(in, title)) throw InputError(path, "empty spectrum file");
  if (!std::getline(in, line)) throw InputError(path, "missing the 'NENSRC, ENMIN, MODE' line");
  bool ok;
  auto head = numbers(line, ok);
  if (!ok || head.size() < 3)
    throw InputError(path, "line 2: expected 'NENSRC, ENMIN, MODE', got '" + trim(line) + "'");
  // Checked as numbers before any conversion to int (a huge value would not fit: the
  // conversion is undefined; tests/fuzz/corpus/text/crash-spectrum-mode-1e16).
  if (!(head[0] >= 1 && head[0] <= 1e6 && head[0] == std::floor(head[0])))
    throw InputError(path, "line 2: NENSRC must be a positive integer (at most 1000000)");
  if (head[2] != 0 && head[2] != 1) {
    std::ostringstream mode_text;  // the number as read, not converted to int
    mode_text << head[2];
    throw InputError(path, "line 2: MODE " + mode_text.str() +
                               " is not supported (0 = counts per bin, 1 = counts per MeV)");
  }
  const int n = int(head[0]);
  const double emin = head[1];
  const int mode = int(head[2]);
  if (!(emin >= 0)) throw InputError(path, "line 2: ENMIN must be >= 0");
  Spectrum s;
  s.source_file = path;
  double lo = emin;
  for (int b = 0; b < n; ++b) {
    if (!std::getline(in, line))
      throw InputError(path, "expected " + std::to_string(n) + " bins, found " + std::to_string(b));
    auto v = numbers(line, ok);
    if (!ok || v.size() < 2)
      throw InputError(path, "line " + std::to_string(b + 3) + ": expected 'upper edge, value'");
    const double hi = v[0], val = v[1];
    if (!(hi > lo)) throw InputError(path, "line " + std::to_string(b + 3) + ": bin edges must increase");
    if (!(val >= 0)) throw InputError(path, "line " + std::to_string(b + 3) + ": negative value");
    s.edges_lo_mev.push_back(lo);
    s.edges_hi_mev.push_back(hi);
    s.probability.push_back(mode == 1 ? val * (hi - lo) : val);
    lo = hi;
  }
  return s;
}

Spectrum read_csv(const std::string& path, const std::string& column) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot open the spectrum file");
  std::string line;
  std::vector<std::string> header;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    header = split_csv(t);
    break;
  }
  if (header.empty()) throw InputError(path, "no header line (e_lo_MeV,e_hi_MeV,<weight>)");
  int c_lo = -1, c_hi = -1, c_w = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string h = lower(header[c]);
    if (h == "e_lo_mev") c_lo = int(c);
    if (h == "e_hi_mev") c_hi = int(c);
    if (!column.empty() && h == lower(column)) c_w = int(c);
  }
  if (c_lo < 0 || c_hi < 0) throw InputError(path, "the header must name columns e_lo_MeV and e_hi_MeV");
  if (!column.empty() && c_w < 0) throw InputError(path, "no column named '" + column + "'");
  if (column.empty()) {
    if (header.size() < 3) throw InputError(path, "no weight column after e_lo_MeV,e_hi_MeV");
    c_w = 2;
  }
  Spectrum s;
  s.source_file = path;
  const int need = std::max({c_lo, c_hi, c_w}) + 1;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto f = split_csv(t);
    double lo, hi, w;
    if (int(f.size()) < need || !parse_double(f[c_lo], lo) || !parse_double(f[c_hi], hi) ||
        !parse_double(f[c_w], w))
      throw InputError(path, "line " + std::to_string(line_no) + ": expected numbers, got '" + t + "'");
    if (!(hi > lo) || lo < 0)
      throw InputError(path, "line " + std::to_string(line_no) + ": need 0 <= e_lo < e_hi");
    if (!(w >= 0)) throw InputError(path, "line " + std::to_string(line_no) + ": negative weight");
    if (!s.edges_hi_mev.empty() && lo < s.edges_hi_mev.back() - 1e-12)
      throw InputError(path, "line " + std::to_string(line_no) + ": bins overlap or are not increasing");
    s.edges_lo_mev.push_back(lo);
    s.edges_hi_mev.push_back(hi);
    s.probability.push_back(w);
  }
  if (s.probability.empty()) throw InputError(path, "no spectrum bins");
  return s;
}

}  // namespace

void finish_spectrum(Spectrum& s) {
  double total = 0;
  for (double p : s.probability) total += p;
  if (!(total > 0)) throw InputError(s.source_file, "the spectrum has zero total weight");
  for (double& p : s.probability) p /= total;
  s.table_edges_mev.clear();
  s.table_cdf.clear();
  s.table_edges_mev.push_back(s.edges_lo_mev.front());
  s.table_cdf.push_back(0);
  double c = 0;
  for (size_t b = 0; b < s.probability.size(); ++b) {
    if (s.edges_lo_mev[b] > s.table_edges_mev.back()) {  // a gap: zero-probability bin
      s.table_edges_mev.push_back(s.edges_lo_mev[b]);
      s.table_cdf.push_back(c);
    }
    c += s.probability[b];
    s.table_edges_mev.push_back(s.edges_hi_mev[b]);
    s.table_cdf.push_back(c);
  }
  s.table_cdf.back() = 1.0;
  // A zero-energy lower edge is fine for sampling (energy uniform in the bin), but a
  // photon of exactly 0 MeV is not: transport treats it as below the cut.
}

double Spectrum::mean_energy_mev() const {
  double m = 0;
  for (size_t b = 0; b < probability.size(); ++b)
    m += probability[b] * 0.5 * (edges_lo_mev[b] + edges_hi_mev[b]);
  return m;
}

SpectrumView Spectrum::view() const {
  SpectrumView v;
  v.n_bins = int(table_edges_mev.size()) - 1;
  v.edges_mev = table_edges_mev.data();
  v.cdf = table_cdf.data();
  return v;
}

Spectrum load_spectrum(const std::string& path, const std::string& column) {
  const std::string l = lower(path);
  auto ends = [&](const std::string& e) {
    return l.size() >= e.size() && l.compare(l.size() - e.size(), e.size(), e) == 0;
  };
  Spectrum s;
  if (ends(".spectrum")) {
    if (!column.empty()) throw InputError(path, "a column name applies to CSV spectra only");
    s = read_egsnrc(path);
  } else if (ends(".csv")) {
    s = read_csv(path, column);
  } else {
    throw InputError(path, "unknown spectrum format (expected a .spectrum or .csv file)");
  }
  finish_spectrum(s);
  return s;
}

}  // namespace sabre::beams
