#include "beams/machine.hh"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>
#include <toml++/toml.h>

#include "core/errors.hh"

namespace sabre::beams {
namespace fs = std::filesystem;

const char* to_string(Basis b) {
  switch (b) {
    case Basis::measured: return "measured";
    case Basis::published: return "published";
    case Basis::assumption: return "assumption";
  }
  return "?";
}

namespace {

Basis parse_basis(const std::string& s, const std::string& file, const std::string& where) {
  if (s == "measured") return Basis::measured;
  if (s == "published") return Basis::published;
  if (s == "assumption") return Basis::assumption;
  throw InputError(file, "'" + where + "': basis must be measured, published or assumption, not '" +
                             s + "'");
}

// Reads one TOML table, refusing unknown keys, recording each value's basis.
class Reader {
 public:
  Reader(const toml::table* t, std::string file, std::string where, Machine& m)
      : t_(t), file_(std::move(file)), where_(std::move(where)), m_(m) {
    if (!t_) throw InputError(file_, "missing table [" + where_ + "]");
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(file_, "'" + name(key) + "': " + what);
  }
  std::string name(const std::string& key) const { return where_ + "." + key; }

  const toml::node* node(const std::string& key, bool required = true) {
    seen_.insert(key);
    const toml::node* n = t_->get(key);
    if (!n && required) fail(key, "missing");
    return n;
  }
  std::string str(const std::string& key, bool required = true) {
    const auto* n = node(key, required);
    if (!n) return "";
    const auto v = n->value<std::string>();
    if (!v) fail(key, "expected a string");
    return *v;
  }
  double number(const std::string& key) {
    const auto* n = node(key);
    const auto v = n->value<double>();
    if (!v || !(n->is_floating_point() || n->is_integer())) fail(key, "expected a number");
    return *v;
  }
  bool flag(const std::string& key) {
    const auto* n = node(key);
    const auto v = n->value<bool>();
    if (!v) fail(key, "expected true or false");
    return *v;
  }
  std::vector<double> numbers(const std::string& key) {
    const auto* n = node(key);
    const auto* arr = n->as_array();
    if (!arr) fail(key, "expected an array of numbers");
    std::vector<double> out;
    for (const auto& e : *arr) {
      const auto v = e.value<double>();
      if (!v) fail(key, "expected an array of numbers");
      out.push_back(*v);
    }
    return out;
  }
  // A tagged value: { value = X, basis = "...", source = "..." }.
  const toml::table& tagged_table(const std::string& key) {
    const auto* n = node(key);
    const auto* t = n->as_table();
    if (!t) fail(key, "expected { value = ..., basis = \"measured|published|assumption\", source = \"...\" }");
    for (const auto& [k, v] : *t) {
      const std::string ks(k.str());
      if (ks != "value" && ks != "basis" && ks != "source") fail(key, "unknown key '" + ks + "'");
    }
    const auto b = (*t)["basis"].value<std::string>();
    if (!b) fail(key, "missing basis (measured, published or assumption)");
    Tag tag;
    tag.basis = parse_basis(*b, file_, name(key));
    tag.source = (*t)["source"].value<std::string>().value_or("");
    if (tag.basis != Basis::assumption && tag.source.empty())
      fail(key, "a " + *b + " value needs a source");
    m_.tags[name(key)] = tag;
    if (!t->get("value")) fail(key, "missing value");
    return *t;
  }
  double tagged(const std::string& key) {
    const auto& t = tagged_table(key);
    const auto v = t["value"].value<double>();
    if (!v) fail(key, "value must be a number");
    return *v;
  }
  std::vector<double> tagged_numbers(const std::string& key) {
    const auto& t = tagged_table(key);
    const auto* arr = t["value"].as_array();
    if (!arr) fail(key, "value must be an array of numbers");
    std::vector<double> out;
    for (const auto& e : *arr) {
      const auto v = e.value<double>();
      if (!v) fail(key, "value must be an array of numbers");
      out.push_back(*v);
    }
    return out;
  }
  // Block-level basis for tabulated data (spectrum, fluence profile).
  void block_tag(const std::string& what) {
    const std::string b = str("basis");
    Tag tag;
    tag.basis = parse_basis(b, file_, name("basis"));
    tag.source = str("source", tag.basis != Basis::assumption);
    m_.tags[where_ + "." + what] = tag;
  }
  const toml::table* sub(const std::string& key) {
    const auto* n = node(key);
    if (!n->as_table()) fail(key, "expected a table");
    return n->as_table();
  }
  void finish() const {
    for (const auto& [k, v] : *t_)
      if (!seen_.count(std::string(k.str())))
        throw InputError(file_, "unknown key '" + where_ + "." + std::string(k.str()) + "'");
  }

 private:
  const toml::table* t_;
  std::string file_, where_;
  Machine& m_;
  std::set<std::string> seen_;
};

void require(bool ok, const std::string& file, const std::string& what) {
  if (!ok) throw InputError(file, what);
}

JawSpec read_jaw(Reader& parent, const toml::table* t, const std::string& where, Machine& m,
                 const std::string& file) {
  Reader r(t, file, where, m);
  JawSpec j;
  j.top_cm = r.tagged("top_cm");
  j.thickness_cm = r.tagged("thickness_cm");
  j.density_g_cm3 = r.tagged("density_g_cm3");
  j.max_open_cm = r.tagged("max_open_cm");
  r.finish();
  require(j.top_cm > 0 && j.thickness_cm > 0 && j.density_g_cm3 > 0 && j.max_open_cm > 0, file,
          "'" + where + "': top_cm, thickness_cm, density_g_cm3 and max_open_cm must be > 0");
  return j;
}

void check_table(const std::vector<double>& x, const std::vector<double>& y, const std::string& file,
                 const std::string& what) {
  require(x.size() >= 2 && x.size() == y.size(), file,
          "'" + what + "': needs at least two points and arrays of equal length (" +
              std::to_string(x.size()) + " vs " + std::to_string(y.size()) + ")");
  for (std::size_t i = 1; i < x.size(); ++i)
    require(x[i] > x[i - 1], file, "'" + what + "': abscissae must increase");
  for (double v : y) require(v >= 0 && std::isfinite(v), file, "'" + what + "': values must be >= 0");
}

BeamModel read_beam(const toml::table* t, int index, Machine& m, const std::string& file) {
  const std::string w0 = "beam[" + std::to_string(index) + "]";
  Reader r(t, file, w0, m);
  BeamModel b;
  b.name = r.str("name");
  const std::string w = "beam." + b.name;
  b.energy_mv = r.number("energy_mv");
  b.fff = r.flag("fff");
  require(b.energy_mv > 0, file, "'" + w + ".energy_mv' must be > 0");
  {
    Reader p(r.sub("primary"), file, w + ".primary", m);
    b.primary.sigma_x_cm = p.tagged("sigma_x_cm");
    b.primary.sigma_y_cm = p.tagged("sigma_y_cm");
    b.primary.tail_weight = p.tagged("tail_weight");
    b.primary.tail_sigma_cm = p.tagged("tail_sigma_cm");
    p.finish();
    require(b.primary.sigma_x_cm >= 0 && b.primary.sigma_y_cm >= 0 && b.primary.tail_sigma_cm >= 0 &&
                b.primary.tail_weight >= 0 && b.primary.tail_weight < 1,
            file, "'" + w + ".primary': sigmas must be >= 0 and 0 <= tail_weight < 1");
  }
  {
    Reader p(r.sub("extrafocal"), file, w + ".extrafocal", m);
    b.extrafocal.weight = p.tagged("weight");
    b.extrafocal.z_cm = p.tagged("z_cm");
    b.extrafocal.sigma_cm = p.tagged("sigma_cm");
    b.extrafocal.energy_scale = p.tagged("energy_scale");
    p.finish();
    require(b.extrafocal.weight >= 0 && b.extrafocal.weight < 1 && b.extrafocal.z_cm > 0 &&
                b.extrafocal.sigma_cm >= 0 && b.extrafocal.energy_scale > 0 &&
                b.extrafocal.energy_scale <= 1,
            file, "'" + w + ".extrafocal': need 0 <= weight < 1, z_cm > 0, sigma_cm >= 0, 0 < energy_scale <= 1");
  }
  {
    Reader p(r.sub("electron"), file, w + ".electron", m);
    b.electron.weight = p.tagged("weight");
    b.electron.mean_energy_mev = p.tagged("mean_energy_mev");
    b.electron.radius_cm = p.tagged("radius_cm");
    p.finish();
    require(b.electron.weight >= 0 && b.electron.weight + b.extrafocal.weight < 1 &&
                b.electron.mean_energy_mev > 0 && b.electron.radius_cm >= 0,
            file, "'" + w + ".electron': need weight >= 0 (with extrafocal.weight < 1), mean_energy_mev > 0, radius_cm >= 0");
  }
  {
    Reader p(r.sub("spectrum"), file, w + ".spectrum", m);
    p.block_tag("data");
    b.spectrum_energies_mev = p.numbers("energies_mev");
    b.spectrum_weights = p.numbers("weights");
    p.finish();
    check_table(b.spectrum_energies_mev, b.spectrum_weights, file, w + ".spectrum");
    require(b.spectrum_energies_mev.front() > 0, file, "'" + w + ".spectrum': energies must be > 0");
    double s = 0;
    for (double v : b.spectrum_weights) s += v;
    require(s > 0, file, "'" + w + ".spectrum': weights sum to 0");
    for (double& v : b.spectrum_weights) v /= s;
  }
  {
    Reader p(r.sub("off_axis"), file, w + ".off_axis", m);
    b.softening_per_cm = p.tagged("softening_per_cm");
    p.block_tag("fluence");
    b.fluence_r_cm = p.numbers("fluence_r_cm");
    b.fluence_rel = p.numbers("fluence_rel");
    p.finish();
    check_table(b.fluence_r_cm, b.fluence_rel, file, w + ".off_axis.fluence");
    require(b.fluence_r_cm.front() == 0 && b.fluence_rel.front() > 0, file,
            "'" + w + ".off_axis': fluence_r_cm must start at 0 with a fluence > 0");
    require(b.softening_per_cm >= 0, file, "'" + w + ".off_axis.softening_per_cm' must be >= 0");
  }
  {
    Reader p(r.sub("calibration"), file, w + ".calibration", m);
    b.calibration.ssd_cm = p.tagged("ssd_cm");
    b.calibration.field_cm = p.tagged("field_cm");
    b.calibration.depth_cm = p.tagged("depth_cm");
    b.calibration.gy_per_mu = p.tagged("gy_per_mu");
    b.calibration.backscatter_kx = p.tagged("backscatter_kx");
    b.calibration.backscatter_ky = p.tagged("backscatter_ky");
    p.finish();
    require(b.calibration.ssd_cm > 0 && b.calibration.field_cm > 0 && b.calibration.depth_cm >= 0 &&
                b.calibration.gy_per_mu > 0,
            file, "'" + w + ".calibration': ssd_cm, field_cm, gy_per_mu must be > 0, depth_cm >= 0");
    require(std::abs(b.calibration.backscatter_kx) < 0.5 && std::abs(b.calibration.backscatter_ky) < 0.5,
            file, "'" + w + ".calibration': backscatter coefficients must be small (|k| < 0.5)");
  }
  r.finish();
  return b;
}

}  // namespace

double BeamModel::monitor_signal(double field_x_cm, double field_y_cm) const {
  const double x = std::clamp(field_x_cm, 0.0, 40.0), y = std::clamp(field_y_cm, 0.0, 40.0);
  return 1 + calibration.backscatter_kx * (1 - x / 40) + calibration.backscatter_ky * (1 - y / 40);
}

const BeamModel* Machine::find_beam(double energy_mv, bool fff) const {
  for (const auto& b : beams)
    if (b.fff == fff && std::abs(b.energy_mv - energy_mv) < 0.05) return &b;
  return nullptr;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], text[t])))) {
      ++p; ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Machine::matches_name(const std::string& n) const {
  for (const auto& p : match_names)
    if (glob_match(p, n)) return true;
  return false;
}

Machine load_machine(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path, "machine file not found");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(path, "TOML syntax error at line " + std::to_string(e.source().begin.line) + ": " +
                               std::string(e.description()));
  }
  Machine m;
  m.path = path;
  const auto fmt = root["format"].value<std::string>();
  if (!fmt) throw InputError(path, "missing 'format' (expected \"sabre-machine/1\")");
  if (*fmt != "sabre-machine/1")
    throw InputError(path, "unsupported format '" + *fmt + "' (this sabre reads sabre-machine/1)");
  for (const auto& [k, v] : root) {
    const std::string ks(k.str());
    if (ks != "format" && ks != "machine" && ks != "jaws" && ks != "mlc" && ks != "beam")
      throw InputError(path, "unknown key '" + ks + "'");
  }
  {
    Reader r(root["machine"].as_table(), path, "machine", m);
    m.name = r.str("name");
    m.manufacturer = r.str("manufacturer", false);
    m.description = r.str("description", false);
    const auto* arr = r.node("match_names")->as_array();
    if (!arr) r.fail("match_names", "expected an array of strings");
    for (const auto& e : *arr) {
      const auto s = e.value<std::string>();
      if (!s) r.fail("match_names", "expected an array of strings");
      m.match_names.push_back(*s);
    }
    m.sad_cm = r.tagged("sad_cm");
    r.finish();
    require(m.sad_cm > 0, path, "'machine.sad_cm' must be > 0");
  }
  {
    Reader jaws(root["jaws"].as_table(), path, "jaws", m);
    m.jaw_x = read_jaw(jaws, jaws.sub("x"), "jaws.x", m, path);
    m.jaw_y = read_jaw(jaws, jaws.sub("y"), "jaws.y", m, path);
    jaws.finish();
  }
  {
    Reader r(root["mlc"].as_table(), path, "mlc", m);
    MlcSpec& s = m.mlc;
    s.model = r.str("model");
    const auto* n = r.node("leaf_pairs");
    const auto lp = n->value<std::int64_t>();
    if (!lp || !n->is_integer() || *lp <= 0) r.fail("leaf_pairs", "expected a positive integer");
    s.leaf_pairs = int(*lp);
    s.central_leaf_width_cm = r.tagged("central_leaf_width_cm");
    s.top_cm = r.tagged("top_cm");
    s.height_cm = r.tagged("height_cm");
    s.density_g_cm3 = r.tagged("density_g_cm3");
    s.tongue_groove_cm = r.tagged("tongue_groove_cm");
    s.interleaf_gap_cm = r.tagged("interleaf_gap_cm");
    s.leaf_end_radius_cm = r.tagged("leaf_end_radius_cm");
    s.leaf_offset_cm = r.tagged("leaf_offset_cm");
    const auto tr = r.tagged_numbers("transmission_range");
    const auto dlg = r.tagged_numbers("dlg_range_cm");
    r.finish();
    require(tr.size() == 2 && tr[0] >= 0 && tr[1] >= tr[0], path,
            "'mlc.transmission_range' must be [min, max] with 0 <= min <= max");
    require(dlg.size() == 2 && dlg[0] >= 0 && dlg[1] >= dlg[0], path,
            "'mlc.dlg_range_cm' must be [min, max] with 0 <= min <= max");
    s.transmission_min = tr[0]; s.transmission_max = tr[1];
    s.dlg_min_cm = dlg[0]; s.dlg_max_cm = dlg[1];
    require(s.central_leaf_width_cm > 0 && s.top_cm > 0 && s.height_cm > 0 && s.density_g_cm3 > 0 &&
                s.tongue_groove_cm >= 0 && s.interleaf_gap_cm >= 0 &&
                s.interleaf_gap_cm < s.tongue_groove_cm + 1e-12,
            path, "'mlc': widths, top, height, density must be > 0; 0 <= interleaf_gap_cm <= tongue_groove_cm");
    require(s.leaf_end_radius_cm >= s.height_cm / 2, path,
            "'mlc.leaf_end_radius_cm' must be at least half the leaf height (" +
                std::to_string(s.height_cm / 2) + " cm)");
    require(m.jaw_y.top_cm + m.jaw_y.thickness_cm <= m.jaw_x.top_cm + 1e-9 ||
                m.jaw_x.top_cm + m.jaw_x.thickness_cm <= m.jaw_y.top_cm + 1e-9,
            path, "'jaws': the x and y jaws overlap along the beam axis");
    require(s.top_cm < m.sad_cm, path, "'mlc.top_cm' must be above the isocentre");
  }
  {
    const auto* arr = root["beam"].as_array();
    if (!arr || arr->empty()) throw InputError(path, "no [[beam]] tables");
    int i = 0;
    for (const auto& e : *arr) {
      const auto* t = e.as_table();
      if (!t) throw InputError(path, "'beam' must be an array of tables ([[beam]])");
      BeamModel b = read_beam(t, i++, m, path);
      for (const auto& o : m.beams)
        if (o.name == b.name || (o.fff == b.fff && std::abs(o.energy_mv - b.energy_mv) < 0.05))
          throw InputError(path, "beam '" + b.name + "' duplicates beam '" + o.name + "'");
      m.beams.push_back(std::move(b));
    }
  }
  return m;
}

std::vector<std::string> machine_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".toml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sabre::beams
