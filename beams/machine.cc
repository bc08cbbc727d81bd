#include "beams/machine.hh"
#include "beams/toml_keys.hh"

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

const char* to_string(DeliveryKind k) {
  switch (k) {
    case DeliveryKind::c_arm: return "c-arm";
    case DeliveryKind::robotic: return "robotic";
    case DeliveryKind::helical: return "helical";
  }
  return "?";
}

const char* to_string(CollimatorKind k) {
  switch (k) {
    case CollimatorKind::jaws: return "jaws";
    case CollimatorKind::mlc: return "mlc";
    case CollimatorKind::cone: return "cone";
    case CollimatorKind::iris: return "iris";
  }
  return "?";
}

bool CollimatorSpec::serves(const std::string& t) const {
  return std::find(dicom_types.begin(), dicom_types.end(), t) != dicom_types.end();
}

bool CollimatorSpec::serves_applicator(const std::string& t) const {
  return kind == CollimatorKind::cone &&
         std::find(applicator_types.begin(), applicator_types.end(), t) != applicator_types.end();
}

bool CollimatorSpec::has_size(double size_cm) const {
  for (double d : diameters_cm)
    if (std::abs(d - size_cm) <= 1e-3) return true;
  return false;
}

std::string CollimatorSpec::name() const {
  if (kind == CollimatorKind::cone) return "CONE";
  if (kind == CollimatorKind::iris) return "IRIS";
  return dicom_types.empty() ? std::string("?") : dicom_types.front();
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
    if (!std::isfinite(*v)) fail(key, "expected a finite number");
    return *v;
  }
  bool flag(const std::string& key) {
    const auto* n = node(key);
    if (!n->is_boolean()) fail(key, "expected true or false");  // value<bool>() would take 1 as true
    return *n->value<bool>();
  }
  std::vector<double> numbers(const std::string& key) {
    const auto* n = node(key);
    const auto* arr = n->as_array();
    if (!arr) fail(key, "expected an array of numbers");
    std::vector<double> out;
    for (const auto& e : *arr) {
      const auto v = e.value<double>();
      if (!v || !std::isfinite(*v)) fail(key, "expected an array of finite numbers");
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
    if (!std::isfinite(*v)) fail(key, "value must be a finite number");
    return *v;
  }
  std::vector<double> tagged_numbers(const std::string& key) {
    const auto& t = tagged_table(key);
    const auto* arr = t["value"].as_array();
    if (!arr) fail(key, "value must be an array of numbers");
    std::vector<double> out;
    for (const auto& e : *arr) {
      const auto v = e.value<double>();
      if (!v || !std::isfinite(*v)) fail(key, "value must be an array of finite numbers");
      out.push_back(*v);
    }
    return out;
  }
  // An array of strings (untagged: names, not numbers).
  std::vector<std::string> strings(const std::string& key) {
    const auto* arr = node(key)->as_array();
    if (!arr) fail(key, "expected an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *arr) {
      const auto v = e.value<std::string>();
      if (!v) fail(key, "expected an array of strings");
      out.push_back(*v);
    }
    return out;
  }
  // A tagged array of strings: { value = ["A", "B"], basis = ..., source = ... }.
  std::vector<std::string> tagged_strings(const std::string& key) {
    const auto& t = tagged_table(key);
    const auto* arr = t["value"].as_array();
    if (!arr) fail(key, "value must be an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *arr) {
      const auto v = e.value<std::string>();
      if (!v) fail(key, "value must be an array of strings");
      out.push_back(*v);
    }
    return out;
  }
  // A tagged array of [count, width] pairs: { value = [[14, 0.5], [32, 0.25]], ... }.
  std::vector<std::pair<int, double>> tagged_groups(const std::string& key) {
    const auto& t = tagged_table(key);
    const auto* arr = t["value"].as_array();
    const char* expect = "value must be an array of [count, width] pairs, e.g. [[14, 0.5], [32, 0.25]]";
    if (!arr || arr->empty()) fail(key, expect);
    std::vector<std::pair<int, double>> out;
    for (const auto& e : *arr) {
      const auto* p = e.as_array();
      if (!p || p->size() != 2) fail(key, expect);
      const auto n = (*p)[0].value<std::int64_t>();
      const auto w = (*p)[1].value<double>();
      if (!n || !(*p)[0].is_integer() || !w || *n <= 0 || !(*w > 0) || !std::isfinite(*w)) fail(key, expect);
      out.push_back({int(*n), *w});
    }
    return out;
  }
  bool has(const std::string& key) const { return t_->get(key) != nullptr; }
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

// A cone: a focused circular bore, one of `diameters_cm` per beam, chosen by the plan's
// applicator (ApplicatorType one of `applicator_types`). Tags: "collimator.CONE.<key>".
CollimatorSpec read_cone(const toml::table* t, Machine& m, const std::string& file) {
  CollimatorSpec c;
  c.kind = CollimatorKind::cone;
  Reader r(t, file, "collimator.CONE", m);
  r.node("kind");
  c.applicator_types = r.strings("applicator_types");
  if (c.applicator_types.empty()) r.fail("applicator_types", "needs at least one ApplicatorType (e.g. STEREOTACTIC)");
  c.diameters_cm = r.tagged_numbers("diameters_cm");
  c.top_cm = r.tagged("top_cm");
  c.thickness_cm = r.tagged("thickness_cm");
  c.density_g_cm3 = r.tagged("density_g_cm3");
  r.finish();
  require(!c.diameters_cm.empty(), file, "'collimator.CONE.diameters_cm' needs at least one diameter");
  for (double d : c.diameters_cm)
    require(d > 0 && d < 20, file, "'collimator.CONE.diameters_cm': diameters must be in (0, 20) cm");
  require(c.top_cm > 0 && c.thickness_cm > 0 && c.density_g_cm3 > 0, file,
          "'collimator.CONE': top_cm, thickness_cm and density_g_cm3 must be > 0");
  return c;
}

// The Iris: a 12-sided variable aperture of nominal sizes `sizes_cm`, chosen by a plan's
// applicator whose ApplicatorID matches one of `applicator_ids`. Tags: "collimator.IRIS.<key>".
CollimatorSpec read_iris(const toml::table* t, Machine& m, const std::string& file) {
  CollimatorSpec c;
  c.kind = CollimatorKind::iris;
  Reader r(t, file, "collimator.IRIS", m);
  r.node("kind");
  c.applicator_ids = r.strings("applicator_ids");
  if (c.applicator_ids.empty()) r.fail("applicator_ids", "needs at least one ApplicatorID pattern (e.g. IRIS*)");
  c.diameters_cm = r.tagged_numbers("sizes_cm");
  c.inradius_per_size = r.tagged("inradius_per_size");
  c.top_cm = r.tagged("top_cm");
  c.thickness_cm = r.tagged("thickness_cm");
  c.density_g_cm3 = r.tagged("density_g_cm3");
  r.finish();
  require(!c.diameters_cm.empty(), file, "'collimator.IRIS.sizes_cm' needs at least one size");
  for (double d : c.diameters_cm)
    require(d > 0 && d < 20, file, "'collimator.IRIS.sizes_cm': sizes must be in (0, 20) cm");
  require(c.inradius_per_size > 0.4 && c.inradius_per_size <= 0.5 + 1e-12, file,
          "'collimator.IRIS.inradius_per_size' must be in (0.4, 0.5]: the inscribed radius of the 12-sided "
          "aperture per nominal size (0.5: the nominal size is the inscribed circle)");
  require(c.top_cm > 0 && c.thickness_cm > 0 && c.density_g_cm3 > 0, file,
          "'collimator.IRIS': top_cm, thickness_cm and density_g_cm3 must be > 0");
  return c;
}

// One [[collimator]] table. Tags are keyed "collimator.<first DICOM type>.<key>".
CollimatorSpec read_collimator(const toml::table* t, int index, Machine& m, const std::string& file) {
  Reader r0(t, file, "collimator[" + std::to_string(index) + "]", m);
  CollimatorSpec c;
  const std::string kind = r0.str("kind");
  if (kind == "jaws") c.kind = CollimatorKind::jaws;
  else if (kind == "mlc") c.kind = CollimatorKind::mlc;
  else if (kind == "cone") c.kind = CollimatorKind::cone;
  else if (kind == "iris") c.kind = CollimatorKind::iris;
  else r0.fail("kind", "must be \"jaws\", \"mlc\", \"cone\" or \"iris\", not '" + kind + "'");
  if (c.kind == CollimatorKind::cone) return read_cone(t, m, file);
  if (c.kind == CollimatorKind::iris) return read_iris(t, m, file);
  const std::string axis = r0.str("axis");
  if (axis == "x") c.axis = 0;
  else if (axis == "y") c.axis = 1;
  else r0.fail("axis", "must be \"x\" or \"y\" (the axis its parts move along), not '" + axis + "'");
  c.dicom_types = r0.strings("dicom_types");
  if (c.dicom_types.empty()) r0.fail("dicom_types", "needs at least one RTBeamLimitingDeviceType");
  for (const auto& d : c.dicom_types) {
    const bool ok = c.kind == CollimatorKind::jaws
                        ? (c.axis == 0 ? (d == "X" || d == "ASYMX") : (d == "Y" || d == "ASYMY"))
                        : (c.axis == 0 ? d == "MLCX" : d == "MLCY");
    if (!ok)
      r0.fail("dicom_types", "'" + d + "' is not a device type of " + kind + " moving along " + axis +
                                 (c.kind == CollimatorKind::jaws ? " (X/ASYMX for x, Y/ASYMY for y)"
                                                                 : " (MLCX for x, MLCY for y)"));
  }
  // From here on the tags carry the device's name.
  Reader r(t, file, "collimator." + c.name(), m);
  for (const char* k : {"kind", "axis", "dicom_types"}) r.node(k);
  c.top_cm = r.tagged("top_cm");
  c.density_g_cm3 = r.tagged("density_g_cm3");
  if (c.kind == CollimatorKind::jaws) {
    c.thickness_cm = r.tagged("thickness_cm");
    c.max_open_cm = r.tagged("max_open_cm");
    r.finish();
    require(c.top_cm > 0 && c.thickness_cm > 0 && c.density_g_cm3 > 0 && c.max_open_cm > 0, file,
            "'collimator." + c.name() + "': top_cm, thickness_cm, density_g_cm3 and max_open_cm must be > 0");
    return c;
  }
  c.model = r.str("model");
  const auto groups = r.tagged_groups("leaf_widths_cm");
  c.thickness_cm = r.tagged("height_cm");
  c.tongue_groove_cm = r.tagged("tongue_groove_cm");
  c.leaf_side_tilt_rad = r.has("leaf_side_tilt_mrad") ? 1e-3 * r.tagged("leaf_side_tilt_mrad") : 0.0;
  c.interleaf_gap_cm = r.tagged("interleaf_gap_cm");
  c.leaf_end_radius_cm = r.tagged("leaf_end_radius_cm");
  c.leaf_offset_cm = r.tagged("leaf_offset_cm");
  const auto tr = r.tagged_numbers("transmission_range");
  const auto dlg = r.tagged_numbers("dlg_range_cm");
  r.finish();
  const std::string w = "'collimator." + c.name() + "'";
  // Boundaries centred on the axis: the groups' widths laid side by side from -total/2.
  double total = 0;
  for (const auto& [n, width] : groups) total += n * width;
  c.boundaries_cm.push_back(-total / 2);
  for (const auto& [n, width] : groups)
    for (int i = 0; i < n; ++i) c.boundaries_cm.push_back(c.boundaries_cm.back() + width);
  require(tr.size() == 2 && tr[0] >= 0 && tr[1] >= tr[0], file,
          w + ": transmission_range must be [min, max] with 0 <= min <= max");
  require(dlg.size() == 2 && dlg[0] >= 0 && dlg[1] >= dlg[0], file,
          w + ": dlg_range_cm must be [min, max] with 0 <= min <= max");
  c.transmission_min = tr[0]; c.transmission_max = tr[1];
  c.dlg_min_cm = dlg[0]; c.dlg_max_cm = dlg[1];
  require(c.top_cm > 0 && c.thickness_cm > 0 && c.density_g_cm3 > 0 && c.tongue_groove_cm >= 0 &&
              c.interleaf_gap_cm >= 0 && std::abs(c.leaf_side_tilt_rad) < 0.05,
          file, w + ": top, height, density must be > 0; tongue_groove_cm, interleaf_gap_cm >= 0; "
                    "|leaf_side_tilt_mrad| < 50");
  require(c.leaf_end_radius_cm >= c.thickness_cm / 2, file,
          w + ": leaf_end_radius_cm must be at least half the leaf height (" + std::to_string(c.thickness_cm / 2) +
              " cm)");
  return c;
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
  return monitor_signal(calibration.backscatter_kx, calibration.backscatter_ky, field_x_cm, field_y_cm);
}

double BeamModel::monitor_signal(double kx, double ky, double field_x_cm, double field_y_cm) {
  const double x = std::clamp(field_x_cm, 0.0, 40.0), y = std::clamp(field_y_cm, 0.0, 40.0);
  return 1 + kx * (1 - x / 40) + ky * (1 - y / 40);
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

const BeamModel* Machine::beam_named(const std::string& n) const {
  for (const auto& b : beams)
    if (b.name == n) return &b;
  return nullptr;
}

const CollimatorSpec* Machine::serving(const std::string& t) const {
  for (const auto& c : collimators)
    if (c.serves(t)) return &c;
  return nullptr;
}

const CollimatorSpec* Machine::mlc() const {
  for (const auto& c : collimators)
    if (c.kind == CollimatorKind::mlc) return &c;
  return nullptr;
}

const CollimatorSpec* Machine::cone() const {
  for (const auto& c : collimators)
    if (c.kind == CollimatorKind::cone) return &c;
  return nullptr;
}

const CollimatorSpec* Machine::iris() const {
  for (const auto& c : collimators)
    if (c.kind == CollimatorKind::iris) return &c;
  return nullptr;
}

bool Machine::ignores(const std::string& t) const {
  return std::find(ignored_dicom_types.begin(), ignored_dicom_types.end(), t) != ignored_dicom_types.end();
}

Machine load_machine(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path, "machine file not found");
  toml::table root = parse_toml_file(path);
  Machine m;
  m.path = path;
  const auto fmt = root["format"].value<std::string>();
  if (!fmt) throw InputError(path, "missing 'format' (expected \"sabre-machine/2\")");
  if (*fmt == "sabre-machine/1")
    throw InputError(path, "format sabre-machine/1 is no longer read: its [jaws.x], [jaws.y] and [mlc] tables "
                           "are now [[collimator]] tables (sabre-machine/2, docs/machine-file.md)");
  if (*fmt != "sabre-machine/2")
    throw InputError(path, "unsupported format '" + *fmt + "' (this sabre reads sabre-machine/2)");
  for (const auto& [k, v] : root) {
    const std::string ks(k.str());
    if (ks != "format" && ks != "machine" && ks != "collimator" && ks != "beam")
      throw InputError(path, "unknown key '" + ks + "'");
  }
  {
    Reader r(root["machine"].as_table(), path, "machine", m);
    m.name = r.str("name");
    m.manufacturer = r.str("manufacturer", false);
    m.description = r.str("description", false);
    const std::string kind = r.str("kind");
    if (kind == "c-arm") m.kind = DeliveryKind::c_arm;
    else if (kind == "robotic") m.kind = DeliveryKind::robotic;
    else if (kind == "helical") m.kind = DeliveryKind::helical;
    else r.fail("kind", "unknown delivery kind '" + kind + "' (this sabre knows \"c-arm\", \"robotic\" and \"helical\")");
    m.match_names = r.strings("match_names");
    m.sad_cm = r.tagged("sad_cm");
    m.max_field_cm = r.tagged("max_field_cm");
    if (r.has("ignored_dicom_types")) m.ignored_dicom_types = r.tagged_strings("ignored_dicom_types");
    if (r.has("leaf_latency_ms")) m.leaf_latency_s = 1e-3 * r.tagged("leaf_latency_ms");
    r.finish();
    require(m.leaf_latency_s >= 0, path, "'machine.leaf_latency_ms' must be >= 0");
    require(m.sad_cm > 0, path, "'machine.sad_cm' must be > 0");
    require(m.max_field_cm > 0, path, "'machine.max_field_cm' must be > 0");
  }
  {
    const auto* arr = root["collimator"].as_array();
    if (!arr || arr->empty()) throw InputError(path, "no [[collimator]] tables (a machine needs its collimating devices)");
    int i = 0;
    for (const auto& e : *arr) {
      const auto* t = e.as_table();
      if (!t) throw InputError(path, "'collimator' must be an array of tables ([[collimator]])");
      CollimatorSpec c = read_collimator(t, i++, m, path);
      for (const auto& d : c.dicom_types) {
        if (m.serving(d)) throw InputError(path, "two collimators serve the device type " + d);
        if (m.ignores(d)) throw InputError(path, "device type " + d + " is both served and ignored");
      }
      if (c.kind == CollimatorKind::mlc && m.mlc())
        throw InputError(path, "a second MLC ('collimator." + c.name() + "'): one MLC per machine");
      if (c.kind == CollimatorKind::cone && m.cone())
        throw InputError(path, "a second cone collimator: one per machine (list its diameters)");
      if (c.kind == CollimatorKind::iris && m.iris())
        throw InputError(path, "a second Iris: one per machine");
      if (c.kind == CollimatorKind::iris && m.kind != DeliveryKind::robotic)
        throw InputError(path, "'collimator.IRIS': an Iris is a collimator of a robotic machine");
      if (m.kind == DeliveryKind::robotic && c.kind == CollimatorKind::jaws)
        throw InputError(path, "'collimator." + c.name() + "': a robotic machine has no jaws (cones, Iris, MLC)");
      // From the source down, without overlapping along the axis, above the isocentre; a
      // robotic machine's collimators are exchangeable (one per node) and may overlap.
      if (!m.collimators.empty() && m.kind != DeliveryKind::robotic)
        require(c.top_cm >= m.collimators.back().bottom_cm() - 1e-9, path,
                "'collimator." + c.name() + "' starts above the bottom of '" + m.collimators.back().name() +
                    "': list the collimators from the source down, without overlap");
      require(c.bottom_cm() < m.sad_cm, path, "'collimator." + c.name() + "' must end above the isocentre");
      m.collimators.push_back(std::move(c));
    }
  }
  if (m.kind == DeliveryKind::helical) {
    const bool ok = m.collimators.size() == 2 && m.collimators[0].kind == CollimatorKind::jaws &&
                    m.collimators[0].axis == 1 && m.collimators[1].kind == CollimatorKind::mlc &&
                    m.collimators[1].axis == 1;
    if (!ok)
      throw InputError(path, "a helical (tomotherapy) machine has a jaw pair along y above a binary MLC whose leaves "
                             "move along y, and nothing else");
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
