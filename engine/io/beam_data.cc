// Measured beam data: sabre's CSV form, w2CAD and PTW mcc. The forms, the facts taken from
// each and their sources are in docs/beam-data.md; this file follows that page.
#include "engine/io/beam_data.hh"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/number.hh"
#include "core/output_file.hh"

namespace sabre::io {
namespace {

constexpr const char* kCsvSignature = "# sabre-beam-data/1";
constexpr const char* kCsvColumns[] = {"kind",       "axis",        "field_x_cm",
                                       "field_y_cm", "ssd_cm",      "depth_cm",
                                       "detector",   "position_cm", "value"};
// The optional column: the relative 1-sigma of a value (a fraction of it).
constexpr const char* kCsvSigmaColumn = "sigma_rel";
// Coordinates the other axes of a scan may stray from their nominal value (w2CAD points).
constexpr double kAxisTolerance_mm = 0.5;

// ---- text -------------------------------------------------------------------------------

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t b = 0;
  for (std::size_t e; (e = s.find(sep, b)) != std::string::npos; b = e + 1)
    out.push_back(trim(s.substr(b, e - b)));
  out.push_back(trim(s.substr(b)));
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while ((b = s.find_first_not_of(" \t", b)) != std::string::npos) {
    const auto e = s.find_first_of(" \t", b);
    out.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
    b = e;
  }
  return out;
}

// The shortest text that reads back as `v` (CSV output and messages).
std::string num(double v) {
  if (v == 0) return "0";  // also -0
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// The file's lines without line ends (LF or CRLF) and without a UTF-8 byte-order mark.
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the beam-data file");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(std::move(l));
  }
  if (!lines.empty() && starts_with(lines[0], "\xEF\xBB\xBF")) lines[0].erase(0, 3);
  return lines;
}

// ---- errors -----------------------------------------------------------------------------

// Throws "path:line: problem" (or "path: problem" without a line).
[[noreturn]] void fail(const std::string& path, int line, const std::string& problem) {
  throw InputError(line > 0 ? path + ":" + std::to_string(line) : path, problem);
}

double number(const std::string& s, const std::string& path, int line, const std::string& what) {
  if (const auto v = parse_finite(s)) return *v;
  fail(path, line, what + ": '" + s + "' is not a number");
}

// ---- curves (shared by every form) ------------------------------------------------------

// A curve being read: the curve, its name in messages ("curve 2") and the line of each point.
struct CurveBuilder {
  MeasuredCurve c;
  std::string name;
  int first_line = 0;
  std::vector<int> lines;
  bool any_sigma = false;
  void add(double position_cm, double value, double sigma_rel, int line) {
    c.position_cm.push_back(position_cm);
    c.value.push_back(value);
    c.sigma_rel.push_back(sigma_rel);
    any_sigma = any_sigma || sigma_rel > 0;
    lines.push_back(line);
  }
};

// Checks a finished curve and puts it in increasing order. A curve scanned in decreasing order
// (depth doses are often scanned upwards) is reversed; any other order is refused, never sorted:
// a scan that turns back is a file problem the user should see.
MeasuredCurve finish(CurveBuilder b, const std::string& path) {
  MeasuredCurve& c = b.c;
  const std::string who = b.name + ": ";
  const auto n = c.position_cm.size();
  if (n == 0) fail(path, b.first_line, who + "has no points (an empty curve)");
  if (n == 1) fail(path, b.first_line, who + "has one point; a curve needs at least two");
  if (!(c.field_x_cm > 0) || !(c.field_y_cm > 0))
    fail(path, b.first_line,
         who + "field size " + num(c.field_x_cm) + " x " + num(c.field_y_cm) +
             " cm is not positive");
  if (!(c.ssd_cm > 0))
    fail(path, b.first_line, who + "SSD " + num(c.ssd_cm) + " cm is not positive");
  if (c.kind == CurveKind::profile && c.depth_cm < 0)
    fail(path, b.first_line,
         who + "profile depth " + num(c.depth_cm) + " cm is above the water surface");
  // The first step sets the direction; every step must keep it.
  const auto& p = c.position_cm;
  const double direction = p[1] - p[0];
  for (std::size_t i = 1; i < n; ++i)
    if (!((p[i] - p[i - 1]) * direction > 0))
      fail(path, b.lines[i],
           who + "positions must all increase or all decrease: " + num(p[i]) + " cm follows " +
               num(p[i - 1]) + " cm (a curve is scanned in one direction)");
  if (direction < 0) {
    std::reverse(c.position_cm.begin(), c.position_cm.end());
    std::reverse(c.value.begin(), c.value.end());
    std::reverse(c.sigma_rel.begin(), c.sigma_rel.end());
    std::reverse(b.lines.begin(), b.lines.end());
  }
  if (!b.any_sigma) c.sigma_rel.clear();  // none given: the fit's stated uncertainty applies
  bool any_dose = false;
  // Small negative values are the noise of a background-subtracted tail and are kept; below
  // -1 % of the curve's maximum a value is a sign or unit problem.
  const double vmax = *std::max_element(c.value.begin(), c.value.end());
  for (std::size_t i = 0; i < n; ++i) {
    if (c.value[i] < 0 && !(vmax > 0 && c.value[i] >= -0.01 * vmax))
      fail(path, b.lines[i],
           who + "negative value " + num(c.value[i]) + " at " + num(p[i]) +
               " cm (more negative than -1 % of the curve's maximum)");
    if (c.kind == CurveKind::depth_dose && p[i] < 0)
      fail(path, b.lines[i],
           who + "depth " + num(p[i]) +
               " cm is above the water surface (depths are positive below it)");
    any_dose = any_dose || c.value[i] > 0;
  }
  if (!any_dose) fail(path, b.first_line, who + "every value is zero");
  return std::move(b.c);
}

// Names each curve's source: the file alone when it holds one curve, else "file: curve k".
void name_sources(BeamData& d, const std::string& path) {
  for (std::size_t i = 0; i < d.curves.size(); ++i)
    d.curves[i].source = d.curves.size() == 1 ? path : path + ": curve " + std::to_string(i + 1);
}

// Keyword = value pairs of one w2CAD measurement or mcc scan, with their lines.
struct Keywords {
  std::map<std::string, std::pair<std::string, int>> kv;
  // Adds a keyword; the same keyword twice with different values is refused.
  void add(const std::string& key, const std::string& value, const std::string& path, int line,
           const std::string& who) {
    const auto [it, fresh] = kv.emplace(key, std::make_pair(value, line));
    if (!fresh && it->second.first != value)
      fail(path, line,
           who + key + " is given twice with different values (also at line " +
               std::to_string(it->second.second) + ")");
  }
  const std::pair<std::string, int>* find(const std::string& key) const {
    const auto it = kv.find(key);
    return it == kv.end() ? nullptr : &it->second;
  }
};

}  // namespace

const char* to_string(CurveKind k) { return k == CurveKind::depth_dose ? "depth_dose" : "profile"; }

const char* to_string(ProfileAxis a) {
  switch (a) {
    case ProfileAxis::crossplane:
      return "crossplane";
    case ProfileAxis::inplane:
      return "inplane";
    case ProfileAxis::diagonal:
      return "diagonal";
  }
  return "?";
}

void BeamData::append(const BeamData& other) {
  curves.insert(curves.end(), other.curves.begin(), other.curves.end());
  output_factors.insert(output_factors.end(), other.output_factors.begin(),
                        other.output_factors.end());
}

// ---- sabre's CSV form -------------------------------------------------------------------

BeamData read_beam_data_csv(const std::string& path) {
  const auto lines = read_lines(path);
  if (lines.empty() || trim(lines[0]) != kCsvSignature) {
    if (!lines.empty() && starts_with(trim(lines[0]), "# sabre-beam-data/"))
      fail(path, 1,
           "unsupported version '" + trim(lines[0]) + "' (this sabre reads '" + kCsvSignature +
               "')");
    fail(path, 1,
         std::string("not sabre's beam-data CSV: the first line must be '") + kCsvSignature + "'");
  }
  std::map<std::string, std::size_t> col;  // column name -> index
  BeamData d;
  std::optional<CurveBuilder> cur;
  auto end_curve = [&] {
    if (cur) d.curves.push_back(finish(std::move(*cur), path));
    cur.reset();
  };
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int ln = int(i) + 1;
    const std::string line = trim(lines[i]);
    if (line.empty()) {  // a blank line ends a curve
      end_curve();
      continue;
    }
    if (line[0] == '#') continue;
    const auto f = split(line, ',');
    if (col.empty()) {  // the header row: every column named once, in any order, in cm
      for (std::size_t k = 0; k < f.size(); ++k) {
        const std::string& name = f[k];
        if (name != kCsvSigmaColumn &&
            std::find(std::begin(kCsvColumns), std::end(kCsvColumns), name) == std::end(kCsvColumns)) {
          if (name == "depth_dose" || name == "profile" || name == "output_factor")
            fail(path, ln, "a data row before the header row (kind,axis,field_x_cm,...)");
          for (const char* stem : {"position", "depth", "ssd", "field_x", "field_y"})
            if (starts_with(name, std::string(stem) + "_"))
              fail(path, ln,
                   "column '" + name + "': sabre's beam-data CSV is in cm (" + stem + "_cm)");
          fail(path, ln, "unknown column '" + name + "'");
        }
        if (!col.emplace(name, k).second) fail(path, ln, "column '" + name + "' appears twice");
      }
      for (const char* name : kCsvColumns)
        if (!col.count(name))
          fail(path, ln, std::string("no column '") + name + "' in the header row");
      continue;
    }
    if (f.size() != col.size())
      fail(path, ln,
           "has " + std::to_string(f.size()) + " fields; the header row has " +
               std::to_string(col.size()));
    for (const auto& x : f)
      if (!x.empty() && x[0] == '"')
        fail(path, ln, "quoted fields are not part of sabre's beam-data CSV");
    auto field = [&](const char* name) -> const std::string& { return f[col.at(name)]; };
    auto need = [&](const char* name, const std::string& kind) {
      if (field(name).empty()) fail(path, ln, kind + " row without " + name);
      return number(field(name), path, ln, name);
    };
    // The optional relative 1-sigma: blank, 0 or absent = not given; else a fraction in
    // (0, 1] (a larger one is almost surely a percentage written as a number).
    auto sigma = [&]() {
      if (!col.count(kCsvSigmaColumn) || field(kCsvSigmaColumn).empty()) return 0.0;
      const double v = number(field(kCsvSigmaColumn), path, ln, kCsvSigmaColumn);
      if (!(v >= 0 && v <= 1))
        fail(path, ln,
             std::string(kCsvSigmaColumn) + " " + num(v) +
                 " is not a relative 1-sigma in [0, 1] (a fraction of the value: 0.004 for 0.4 %)");
      return v;
    };
    auto none = [&](const char* name, const std::string& kind) {
      if (!field(name).empty())
        fail(path, ln, std::string(name) + " must be empty on a " + kind + " row");
    };
    const std::string kind = field("kind");
    if (kind == "output_factor") {
      end_curve();
      none("axis", kind);
      none("position_cm", kind);
      OutputFactor o;
      o.field_x_cm = need("field_x_cm", kind);
      o.field_y_cm = need("field_y_cm", kind);
      o.ssd_cm = need("ssd_cm", kind);
      o.depth_cm = need("depth_cm", kind);
      o.detector = field("detector");
      o.value = need("value", kind);
      o.sigma_rel = sigma();
      o.source = path + ": output factor " + std::to_string(d.output_factors.size() + 1);
      if (!(o.field_x_cm > 0) || !(o.field_y_cm > 0) || !(o.ssd_cm > 0) || o.depth_cm < 0)
        fail(path, ln,
             "output factor set-up: field size and SSD must be positive, depth not negative");
      if (!(o.value > 0)) fail(path, ln, "output factor " + num(o.value) + " is not positive");
      d.output_factors.push_back(o);
      continue;
    }
    MeasuredCurve s;  // this row's set-up
    if (kind == "depth_dose") {
      s.kind = CurveKind::depth_dose;
      none("axis", kind);
      none("depth_cm", kind);
    } else if (kind == "profile") {
      s.kind = CurveKind::profile;
      const std::string& a = field("axis");
      if (a == "crossplane")
        s.axis = ProfileAxis::crossplane;
      else if (a == "inplane")
        s.axis = ProfileAxis::inplane;
      else if (a == "diagonal")
        s.axis = ProfileAxis::diagonal;
      else
        fail(path, ln, "profile axis '" + a + "' is not crossplane, inplane or diagonal");
      s.depth_cm = need("depth_cm", kind);
    } else {
      fail(path, ln, "unknown kind '" + kind + "' (depth_dose, profile, output_factor)");
    }
    s.field_x_cm = need("field_x_cm", kind);
    s.field_y_cm = need("field_y_cm", kind);
    s.ssd_cm = need("ssd_cm", kind);
    s.detector = field("detector");
    const double position_cm = need("position_cm", kind), value = need("value", kind);
    const bool same = cur && cur->c.kind == s.kind && cur->c.axis == s.axis &&
                      cur->c.field_x_cm == s.field_x_cm && cur->c.field_y_cm == s.field_y_cm &&
                      cur->c.ssd_cm == s.ssd_cm && cur->c.depth_cm == s.depth_cm &&
                      cur->c.detector == s.detector;
    if (!same) {  // a new set-up starts a new curve
      end_curve();
      cur = CurveBuilder{s, "curve " + std::to_string(d.curves.size() + 1), ln, {}};
    }
    cur->add(position_cm, value, sigma(), ln);
  }
  end_curve();
  if (col.empty()) fail(path, 0, "no header row (kind,axis,field_x_cm,...)");
  if (d.curves.empty() && d.output_factors.empty()) fail(path, 0, "no data rows");
  name_sources(d, path);
  return d;
}

void write_beam_data_csv(const BeamData& data, const std::string& path) {
  auto check_detector = [](const std::string& det, const std::string& source) {
    if (det.find_first_of(",\"\r\n") != std::string::npos)
      throw InputError(
          source,
          "detector name '" + det +
              "' has a comma, quote or line break, which sabre's beam-data CSV cannot hold");
  };
  OutputFile out(path);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << kCsvSignature << "\n# written by sabre " << build::version()
      << "; lengths in cm; docs/beam-data.md\n";
    // The optional sigma_rel column only when some point has one (a round trip is exact).
    bool sig = false;
    for (const auto& c : data.curves) sig = sig || !c.sigma_rel.empty();
    for (const auto& o : data.output_factors) sig = sig || o.sigma_rel > 0;
    for (std::size_t k = 0; k < std::size(kCsvColumns); ++k) f << (k ? "," : "") << kCsvColumns[k];
    if (sig) f << "," << kCsvSigmaColumn;
    f << "\n";
    auto sigma_field = [&](double v) { return !sig ? std::string() : v > 0 ? "," + num(v) : std::string(","); };
    for (const auto& c : data.curves) {
      check_detector(c.detector, c.source);
      f << "\n# " << c.source << "\n";
      const std::string axis = c.kind == CurveKind::profile ? to_string(c.axis) : "";
      const std::string depth = c.kind == CurveKind::profile ? num(c.depth_cm) : "";
      for (std::size_t i = 0; i < c.position_cm.size(); ++i)
        f << to_string(c.kind) << "," << axis << "," << num(c.field_x_cm) << ","
          << num(c.field_y_cm) << "," << num(c.ssd_cm) << "," << depth << "," << c.detector << ","
          << num(c.position_cm[i]) << "," << num(c.value[i])
          << sigma_field(c.sigma_rel.empty() ? 0.0 : c.sigma_rel[i]) << "\n";
    }
    if (!data.output_factors.empty()) f << "\n";
    for (const auto& o : data.output_factors) {
      check_detector(o.detector, o.source);
      f << "output_factor,," << num(o.field_x_cm) << "," << num(o.field_y_cm) << ","
        << num(o.ssd_cm) << "," << num(o.depth_cm) << "," << o.detector << ",," << num(o.value)
        << sigma_field(o.sigma_rel) << "\n";
    }
    f.close();
    if (!f) throw RuntimeError(path + ": cannot write output");
  }
  out.commit();
}

// ---- w2CAD ------------------------------------------------------------------------------

namespace {

// One $STOM ... $ENOM measurement: its keywords, detector comment and points (mm).
struct W2Block {
  int line = 0;  // of $STOM
  Keywords kw;
  std::string detector_comment;               // "# Detector: ..."
  std::vector<std::array<double, 4>> points;  // X Y Z dose
  std::vector<int> point_lines;
};

MeasuredCurve w2cad_curve(const W2Block& b, const std::string& path, const std::string& who_name) {
  const std::string who = who_name + ": ";
  auto need = [&](const char* key, const char* what) -> const std::pair<std::string, int>& {
    const auto* v = b.kw.find(key);
    if (!v || v->first.empty()) fail(path, b.line, who + "no " + key + " (" + what + ")");
    return *v;
  };
  auto mm = [&](const char* key, const char* what) {
    const auto& [text, ln] = need(key, what);
    return number(text, path, ln, who + key);
  };
  CurveBuilder cb{{}, who_name, b.line, {}};
  MeasuredCurve& c = cb.c;
  // What kind of curve along which axis.
  const auto& [type, type_line] =
      need("%TYPE", "curve type: OPD depth dose, OPP profile, DPR diagonal profile");
  const auto& [axis, axis_line] = need("%AXIS", "scan axis: X, Y, Z or D");
  if (b.kw.find("%WDGL") || b.kw.find("%WDGD") || starts_with(type, "W"))
    fail(path, type_line,
         who + "wedged curves (%TYPE " + type + ") are not read: sabre's beam data have no wedge");
  if (type == "OPD") {
    c.kind = CurveKind::depth_dose;
    if (axis != "Z")
      fail(path, axis_line,
           who + "a depth dose (%TYPE OPD) must be scanned along Z, not %AXIS " + axis);
  } else if (type == "OPP" || type == "DPR") {
    c.kind = CurveKind::profile;
    if (axis == "X" && type == "OPP")
      c.axis = ProfileAxis::crossplane;
    else if (axis == "Y" && type == "OPP")
      c.axis = ProfileAxis::inplane;
    else if (axis == "D")
      c.axis = ProfileAxis::diagonal;
    else
      fail(path, axis_line,
           who + "a profile (%TYPE " + type + ") cannot be scanned along %AXIS " + axis);
  } else {
    fail(path, type_line,
         who + "unknown %TYPE '" + type + "' (OPD depth dose, OPP profile, DPR diagonal profile)");
  }
  // Set-up: field size "100*100" (mm; only square fields: the order of the sides is not
  // documented), SSD and profile depth in mm.
  const auto& [flsz, flsz_line] = need("%FLSZ", "field size in mm, as 100*100");
  const auto sides = split(flsz, '*');
  if (sides.size() != 2)
    fail(path, flsz_line, who + "%FLSZ '" + flsz + "' is not of the form 100*100 (mm)");
  const double side_x_mm = number(sides[0], path, flsz_line, who + "%FLSZ");
  const double side_y_mm = number(sides[1], path, flsz_line, who + "%FLSZ");
  if (side_x_mm != side_y_mm)
    fail(path, flsz_line,
         who + "%FLSZ " + flsz +
             " is not square; whether w2CAD gives X*Y or Y*X is not "
             "documented, so write rectangular fields in sabre's CSV form");
  c.field_x_cm = side_x_mm / 10;
  c.field_y_cm = side_y_mm / 10;
  c.ssd_cm = mm("%SSD", "source-surface distance in mm") / 10;
  double depth_mm = 0;
  if (c.kind == CurveKind::profile)
    c.depth_cm = (depth_mm = mm("%DPTH", "profile depth in mm")) / 10;
  c.detector = !b.detector_comment.empty() ? b.detector_comment
               : b.kw.find("%DETY")        ? b.kw.find("%DETY")->first
                                           : "";
  if (const auto* pnts = b.kw.find("%PNTS")) {
    const double n = number(pnts->first, path, pnts->second, who + "%PNTS");
    if (n != double(b.points.size()))
      fail(path, pnts->second,
           who + "%PNTS says " + pnts->first + " points but the measurement has " +
               std::to_string(b.points.size()) + " (a truncated file?)");
  }
  // Points: X Y Z in mm (X = IEC X, Y = IEC Y, Z depth, positive downwards), then the dose.
  for (std::size_t i = 0; i < b.points.size(); ++i) {
    const auto [x, y, z, dose] = b.points[i];
    const int ln = b.point_lines[i];
    auto off = [&, x = x, y = y, z = z](const std::string& what) {  // copies: clang < 16 cannot capture bindings
      fail(path, ln, who + "point (" + num(x) + ", " + num(y) + ", " + num(z) + ") mm is " + what);
    };
    double pos_mm = 0;
    if (c.kind == CurveKind::depth_dose) {
      if (std::abs(x) > kAxisTolerance_mm || std::abs(y) > kAxisTolerance_mm)
        off("off the central axis; depth doses must be on it (X = Y = 0)");
      pos_mm = z;
    } else {
      if (std::abs(z - depth_mm) > kAxisTolerance_mm)
        off("not at the profile depth (%DPTH " + num(depth_mm) +
            " mm; Z is depth, positive downwards)");
      if (c.axis == ProfileAxis::crossplane) {
        if (std::abs(y) > kAxisTolerance_mm)
          off("off the X axis; profiles must cross the central axis (Y = 0)");
        pos_mm = x;
      } else if (c.axis == ProfileAxis::inplane) {
        if (std::abs(x) > kAxisTolerance_mm)
          off("off the Y axis; profiles must cross the central axis (X = 0)");
        pos_mm = y;
      } else {
        if (std::abs(x - y) > kAxisTolerance_mm)
          off("off the diagonal x = y (the only diagonal sabre reads)");
        pos_mm = (x + y) / std::sqrt(2.0);  // distance along x = y, signed by x
      }
    }
    cb.add(pos_mm / 10 + 0.0, dose, 0.0, ln);
  }
  return finish(std::move(cb), path);
}

}  // namespace

BeamData read_beam_data_w2cad(const std::string& path) {
  const auto lines = read_lines(path);
  std::vector<W2Block> blocks;
  std::optional<W2Block> cur;
  std::optional<std::pair<double, int>> nums;  // $NUMS and its line
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int ln = int(i) + 1;
    const std::string t = trim(lines[i]);
    if (t.empty()) continue;
    const std::string who = "curve " + std::to_string(blocks.size() + 1) + ": ";
    if (!cur) {
      if (starts_with(t, "$STOM"))
        cur = W2Block{ln, {}, {}, {}, {}};
      else if (starts_with(t, "$NUMS"))
        nums = {number(trim(t.substr(5)), path, ln, "$NUMS"), ln};
      else if (starts_with(t, "$ENOF"))
        break;
      else if (t[0] != '#')
        fail(path, ln, "'" + t + "' outside a $STOM ... $ENOM measurement");
      continue;
    }
    if (starts_with(t, "$ENOM")) {
      blocks.push_back(std::move(*cur));
      cur.reset();
    } else if (t[0] == '$') {
      fail(path, ln,
           who + t.substr(0, 5) + " before the $ENOM of the measurement begun at line " +
               std::to_string(cur->line) + " (a truncated file?)");
    } else if (t[0] == '#') {
      if (starts_with(t, "# Detector:")) cur->detector_comment = trim(t.substr(11));
    } else if (t[0] == '%') {
      const auto sp = t.find_first_of(" \t");
      cur->kw.add(t.substr(0, sp), sp == std::string::npos ? "" : trim(t.substr(sp)), path, ln,
                  who);
    } else if (t[0] == '<') {
      if (t.back() != '>') fail(path, ln, who + "point '" + t + "' does not end with '>'");
      const auto w = words(t.substr(1, t.size() - 2));
      if (w.size() != 4)
        fail(path, ln, who + "point '" + t + "' must have 4 numbers: X Y Z (mm) and the dose");
      std::array<double, 4> p{};
      for (std::size_t k = 0; k < 4; ++k) p[k] = number(w[k], path, ln, who + "point");
      cur->points.push_back(p);
      cur->point_lines.push_back(ln);
    } else {
      fail(path, ln, who + "unrecognised line '" + t + "'");
    }
  }
  if (cur)
    fail(path, cur->line,
         "curve " + std::to_string(blocks.size() + 1) +
             ": $STOM without $ENOM (the file is truncated)");
  if (blocks.empty()) fail(path, 0, "no $STOM ... $ENOM measurement: not a w2CAD file");
  if (nums && nums->first != double(blocks.size()))
    fail(path, nums->second,
         "$NUMS says " + num(nums->first) + " measurements but the file has " +
             std::to_string(blocks.size()) + " (a truncated file?)");
  BeamData d;
  for (std::size_t k = 0; k < blocks.size(); ++k)
    d.curves.push_back(w2cad_curve(blocks[k], path, "curve " + std::to_string(k + 1)));
  name_sources(d, path);
  return d;
}

// ---- PTW mcc ----------------------------------------------------------------------------

namespace {

struct MccScan {
  int line = 0;        // of BEGIN_SCAN
  std::string number;  // as in "BEGIN_SCAN  2"
  Keywords kw;
  int data_line = 0;                              // of BEGIN_DATA
  std::vector<std::pair<double, double>> points;  // position (mm), value
  std::vector<int> point_lines;
};

MeasuredCurve mcc_curve(const MccScan& s, const std::string& path, const std::string& who_name) {
  const std::string who = who_name + ": ";
  auto need = [&](const char* key, const char* what) -> const std::pair<std::string, int>& {
    const auto* v = s.kw.find(key);
    if (!v || v->first.empty()) fail(path, s.line, who + "no " + key + " (" + what + ")");
    return *v;
  };
  auto mm = [&](const char* key, const char* what) {
    const auto& [text, ln] = need(key, what);
    return number(text, path, ln, who + key);
  };
  // Set-ups the data model cannot hold are refused: a keyword, if present, must be zero.
  auto zero = [&](const char* key, const char* why) {
    if (const auto* v = s.kw.find(key); v && number(v->first, path, v->second, who + key) != 0)
      fail(path, v->second, who + key + "=" + v->first + ": " + why);
  };
  zero("WEDGE_ANGLE", "wedged curves are not read (sabre's beam data have no wedge)");
  if (const auto* w = s.kw.find("WEDGE");
      w && w->first != "None" && w->first != "NONE" && w->first != "0")
    fail(path, w->second,
         who + "WEDGE=" + w->first +
             ": wedged curves are not read (sabre's beam data have no wedge)");
  zero("GANTRY", "only gantry 0 is read");
  zero("COLL_ANGLE", "only collimator 0 is read (field sides and profile axes would swap)");
  zero("COLL_OFFSET_INPLANE", "asymmetric fields are not read");
  zero("COLL_OFFSET_CROSSPLANE", "asymmetric fields are not read");
  zero("SCAN_OFFAXIS_INPLANE", "off-axis scans are not read (curves must cross the central axis)");
  zero("SCAN_OFFAXIS_CROSSPLANE",
       "off-axis scans are not read (curves must cross the central axis)");
  zero("SCAN_ANGLE", "scans at an angle are not read");
  if (const auto* f = s.kw.find("FIELD_TYPE"); f && f->first != "RECTANGULAR")
    fail(path, f->second, who + "FIELD_TYPE=" + f->first + ": only RECTANGULAR fields are read");
  if (const auto* dg = s.kw.find("SCAN_DIAGONAL"); dg && dg->first != "NOT_DIAGONAL")
    fail(path, dg->second,
         who + "SCAN_DIAGONAL=" + dg->first +
             ": diagonal mcc scans are not read (the "
             "direction and sign of their positions are not documented); write them in sabre's CSV "
             "form");
  CurveBuilder cb{{}, who_name, s.line, {}};
  MeasuredCurve& c = cb.c;
  // Curve type and the sign that turns the file's positions into sabre's.
  const auto& [type, type_line] =
      need("SCAN_CURVETYPE", "PDD, INPLANE_PROFILE or CROSSPLANE_PROFILE");
  double sign = 1;
  auto direction = [&](const char* key, const char* plus, const char* minus) {
    const auto& [dir, ln] = need(key, "the direction of positive positions");
    if (dir == plus) return 1.0;
    if (dir == minus) return -1.0;
    fail(path, ln, who + key + "=" + dir + " is not " + plus + " or " + minus);
  };
  if (type == "PDD") {
    c.kind = CurveKind::depth_dose;
    if (const auto* d = s.kw.find("DEPTH_AXIS_DIR"); d && d->first != "UP_DOWN")
      fail(
          path, d->second,
          who + "DEPTH_AXIS_DIR=" + d->first + ": only UP_DOWN (depth positive downwards) is read");
  } else if (type == "INPLANE_PROFILE") {
    c.kind = CurveKind::profile;
    c.axis = ProfileAxis::inplane;
    sign = direction("INPLANE_AXIS_DIR", "TARGET_GUN",
                     "GUN_TARGET");  // IEC Y points to the gantry (G)
  } else if (type == "CROSSPLANE_PROFILE") {
    c.kind = CurveKind::profile;
    c.axis = ProfileAxis::crossplane;
    sign = direction("CROSSPLANE_AXIS_DIR", "LEFT_RIGHT",
                     "RIGHT_LEFT");  // IEC X: to the right facing the gantry
  } else {
    fail(
        path, type_line,
        who + "SCAN_CURVETYPE=" + type + " is not read (PDD, INPLANE_PROFILE, CROSSPLANE_PROFILE)");
  }
  // Set-up, all in mm.
  c.field_x_cm = mm("FIELD_CROSSPLANE", "field size along crossplane, IEC X, in mm") / 10;
  c.field_y_cm = mm("FIELD_INPLANE", "field size along inplane, IEC Y, in mm") / 10;
  c.ssd_cm = mm("SSD", "source-surface distance in mm") / 10;
  if (c.kind == CurveKind::profile) c.depth_cm = mm("SCAN_DEPTH", "profile depth in mm") / 10;
  const auto* name = s.kw.find("DETECTOR_NAME");
  const auto* det = name && !name->first.empty() ? name : s.kw.find("DETECTOR");
  c.detector = det ? det->first : "";
  for (std::size_t i = 0; i < s.points.size(); ++i)
    cb.add(sign * s.points[i].first / 10 + 0.0, s.points[i].second, 0.0,
           s.point_lines[i]);  // + 0.0: no -0
  return finish(std::move(cb), path);
}

}  // namespace

BeamData read_beam_data_mcc(const std::string& path) {
  const auto lines = read_lines(path);
  enum class In { nothing, scan_data, scan, data, done } in = In::nothing;
  std::vector<MccScan> scans;
  MccScan cur;
  for (std::size_t i = 0; i < lines.size() && in != In::done; ++i) {
    const int ln = int(i) + 1;
    const std::string t = trim(lines[i]);
    if (t.empty()) continue;
    const std::string who = "curve " + std::to_string(scans.size() + 1) + ": ";
    const auto w = words(t);
    switch (in) {
      case In::nothing:
        if (t != "BEGIN_SCAN_DATA")
          fail(path, ln, "'" + t + "' before BEGIN_SCAN_DATA: not a PTW mcc file");
        in = In::scan_data;
        break;
      case In::scan_data:  // file-level keywords (FORMAT=...) are skipped
        if (w[0] == "BEGIN_SCAN") {
          cur = MccScan{ln, w.size() > 1 ? w[1] : "", {}, 0, {}, {}};
          in = In::scan;
        } else if (t == "END_SCAN_DATA") {
          in = In::done;
        } else if (t.find('=') == std::string::npos) {
          fail(path, ln, "unexpected line '" + t + "' between scans");
        }
        break;
      case In::scan:
        if (t == "BEGIN_DATA") {
          cur.data_line = ln;
          in = In::data;
        } else if (w[0] == "END_SCAN") {
          if ((w.size() > 1 ? w[1] : "") != cur.number)
            fail(path, ln,
                 who + "'" + t + "' closes BEGIN_SCAN " + cur.number + " of line " +
                     std::to_string(cur.line));
          if (!cur.data_line)
            fail(path, cur.line, who + "scan " + cur.number + " has no BEGIN_DATA ... END_DATA");
          scans.push_back(std::move(cur));
          in = In::scan_data;
        } else if (w[0] == "BEGIN_SCAN" || t == "END_SCAN_DATA") {
          fail(path, cur.line,
               who + "BEGIN_SCAN " + cur.number + " has no END_SCAN (a truncated file?)");
        } else if (const auto eq = t.find('='); eq != std::string::npos) {
          cur.kw.add(trim(t.substr(0, eq)), trim(t.substr(eq + 1)), path, ln, who);
        } else {
          fail(path, ln, who + "unexpected line '" + t + "' (KEYWORD=value expected)");
        }
        break;
      case In::data:
        if (t == "END_DATA") {
          in = In::scan;
        } else if (starts_with(t, "BEGIN_") || starts_with(t, "END_")) {
          fail(path, cur.data_line, who + "BEGIN_DATA without END_DATA (a truncated file?)");
        } else {  // position (mm), value, then optional columns (reference signal, comment)
          if (w.size() < 2)
            fail(path, ln, who + "data line '" + t + "' needs a position (mm) and a value");
          cur.points.emplace_back(number(w[0], path, ln, who + "position"),
                                  number(w[1], path, ln, who + "value"));
          cur.point_lines.push_back(ln);
        }
        break;
      case In::done:
        break;
    }
  }
  switch (in) {
    case In::nothing:
      fail(path, 0, "no BEGIN_SCAN_DATA: not a PTW mcc file");
    case In::data:
      fail(path, cur.data_line,
           "curve " + std::to_string(scans.size() + 1) +
               ": BEGIN_DATA without END_DATA (the file is truncated)");
    case In::scan:
      fail(path, cur.line,
           "curve " + std::to_string(scans.size() + 1) + ": BEGIN_SCAN " + cur.number +
               " without END_SCAN (the file is truncated)");
    case In::scan_data:
      fail(path, 0, "BEGIN_SCAN_DATA without END_SCAN_DATA (the file is truncated)");
    case In::done:
      break;
  }
  if (scans.empty())
    fail(path, 0, "no BEGIN_SCAN ... END_SCAN in BEGIN_SCAN_DATA ... END_SCAN_DATA");
  BeamData d;
  for (std::size_t k = 0; k < scans.size(); ++k)
    d.curves.push_back(mcc_curve(scans[k], path, "curve " + std::to_string(k + 1)));
  name_sources(d, path);
  return d;
}

// ---- any form ---------------------------------------------------------------------------

BeamData read_beam_data(const std::string& path) {
  const auto lines = read_lines(path);
  if (!lines.empty() && starts_with(trim(lines[0]), "# sabre-beam-data/"))
    return read_beam_data_csv(path);
  for (const auto& l : lines) {  // the first line that is neither blank nor a '#' comment
    const std::string t = trim(l);
    if (t.empty() || t[0] == '#') continue;
    if (t == "BEGIN_SCAN_DATA") return read_beam_data_mcc(path);
    if (starts_with(t, "$NUMS") || starts_with(t, "$STOM")) return read_beam_data_w2cad(path);
    break;
  }
  fail(path, 0,
       std::string("not a beam-data form sabre reads: expected sabre's CSV ('") + kCsvSignature +
           "' on the first line), w2CAD ($NUMS / $STOM blocks) or PTW mcc (BEGIN_SCAN_DATA)");
}

}  // namespace sabre::io
