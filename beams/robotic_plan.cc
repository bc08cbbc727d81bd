#include "beams/robotic_plan.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "beams/plan_builder.hh"
#include "beams/toml_keys.hh"
#include "core/errors.hh"
#include "core/output_file.hh"

namespace sabre::beams {

namespace fs = std::filesystem;

bool is_robotic_plan_path(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".toml" || ext == ".TOML";
}

namespace {

std::string mm_label(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

Plan read_robotic_plan(const std::string& path) {
  toml::table root = parse_toml_file(path);
  const auto fmt = root["format"].value<std::string>();
  if (!fmt) throw InputError(path, std::string("missing 'format' (expected \"") + kRoboticPlanFormat + "\")");
  if (*fmt != kRoboticPlanFormat)
    throw InputError(path, "unsupported format '" + *fmt + "' (this sabre reads " + kRoboticPlanFormat + ")");
  for (const auto& [k, v] : root) {
    const std::string ks(k.str());
    if (ks != "format" && ks != "plan" && ks != "node") throw InputError(path, "unknown key '" + ks + "'");
  }
  const auto* pt = root["plan"].as_table();
  if (!pt) throw InputError(path, "missing table [plan]");
  TomlKeys pr(*pt, path, "[plan]");
  Plan plan;
  plan.path = path;
  plan.label = pr.str("label", false);
  plan.name = plan.label;
  const std::string machine = pr.str("machine");
  const double energy = pr.number("energy_mv", false, 6.0);
  bool fff = true;
  fff = pr.flag("fff", true);
  const double fractions = pr.number("fractions", false, 1);
  if (fractions < 1 || fractions != std::floor(fractions)) pr.fail("'fractions' must be a whole number >= 1");
  plan.fractions_planned = int(fractions);
  plan.frame_of_reference_uid = pr.str("frame_of_reference_uid", false);
  plan.patient_id = pr.str("patient_id", false);
  pr.finish();
  if (!(energy > 0)) pr.fail("'energy_mv' must be > 0");

  const auto* arr = root["node"].as_array();
  if (!arr || arr->empty()) throw InputError(path, "no [[node]] tables: a plan needs at least one node");
  int index = 0;
  for (const auto& e : *arr) {
    ++index;
    const auto* t = e.as_table();
    if (!t) throw InputError(path, "'node' must be an array of tables ([[node]])");
    TomlKeys r(*t, path, "node " + std::to_string(index));
    const auto src = r.numbers("source_mm"), tgt = r.numbers("target_mm");
    if (src.size() != 3) r.fail("'source_mm' needs 3 numbers [x, y, z] (patient LPS, mm)");
    if (tgt.size() != 3) r.fail("'target_mm' needs 3 numbers [x, y, z] (patient LPS, mm)");
    const std::string coll = r.str("collimator");
    const double mu = r.number("mu");
    const double roll = r.number("roll_deg", false, 0);
    Beam b;
    b.number = index;
    b.name = "node " + std::to_string(index);
    b.machine_name = machine;
    b.type = "STATIC";
    b.fff = fff;
    b.fluence_mode_id = fff ? "FFF" : "";
    b.mu = mu;
    b.final_weight = 1;
    b.node = true;
    b.roll_deg = roll;
    for (int k = 0; k < 3; ++k) b.source_mm[std::size_t(k)] = src[std::size_t(k)];
    const double dist = std::sqrt((src[0] - tgt[0]) * (src[0] - tgt[0]) + (src[1] - tgt[1]) * (src[1] - tgt[1]) +
                                  (src[2] - tgt[2]) * (src[2] - tgt[2]));
    if (!(dist > 0)) r.fail("the source coincides with the target");
    b.sad_mm = dist;
    ControlPoint c;
    c.energy_mv = energy;
    c.iso_mm = {tgt[0], tgt[1], tgt[2]};
    if (coll == "cone" || coll == "iris") {
      const double size = r.number("size_mm");
      if (!(size > 0)) r.fail("'size_mm' must be > 0 (the " + coll + "'s nominal diameter at 80 cm)");
      b.has_applicator = true;
      b.applicator.id = std::string(coll == "cone" ? "CONE " : "IRIS ") + mm_label(size) + " MM";
      b.applicator.type = "STEREOTACTIC";
      b.applicator.aperture_shape = "SYM_CIRCULAR";
      b.applicator.opening_mm = size;
    } else if (coll == "mlc") {
      const auto la = r.numbers("leaves_a_mm"), lb = r.numbers("leaves_b_mm");
      if (la.empty() || la.size() != lb.size()) r.fail("'leaves_a_mm' and 'leaves_b_mm' need one position per leaf pair each");
      for (std::size_t i = 0; i < la.size(); ++i)
        if (la[i] > lb[i] + 1e-9) r.fail("leaf pair " + std::to_string(i + 1) + ": bank A (" + mm_label(la[i]) +
                                         " mm) passes bank B (" + mm_label(lb[i]) + " mm)");
      LimitingDevice d;
      d.type = "MLCX";
      d.pairs = int(la.size());
      b.devices.push_back(d);
      std::vector<double> v = la;
      v.insert(v.end(), lb.begin(), lb.end());
      c.positions_mm["MLCX"] = v;
    } else {
      r.fail("collimator '" + coll + "' is not cone, iris or mlc");
    }
    r.finish();
    if (mu < 0) r.fail("negative MU (" + mm_label(mu) + ")");
    if (mu == 0) {
      plan.skipped.push_back(b.name + ": 0 MU");
      continue;
    }
    ControlPoint c0 = c, c1 = c;
    c0.index = 0;
    c0.cumulative_weight = 0;
    c1.index = 1;
    c1.cumulative_weight = 1;
    b.control_points = {c0, c1};
    plan.beams.push_back(std::move(b));
  }
  if (plan.beams.empty()) throw InputError(path, "every node has 0 MU: nothing to deliver");
  return plan;
}

void write_robotic_plan(const Plan& plan, const std::string& path) {
  std::ostringstream o;
  o.precision(10);
  o << "format = \"" << kRoboticPlanFormat << "\"\n\n[plan]\n";
  if (!plan.label.empty()) o << "label = " << toml::value<std::string>(plan.label) << "\n";
  const Beam* first = plan.beams.empty() ? nullptr : &plan.beams.front();
  o << "machine = " << toml::value<std::string>(first ? first->machine_name : std::string()) << "\n";
  if (first && !first->control_points.empty()) o << "energy_mv = " << first->control_points.front().energy_mv << "\n";
  o << "fff = " << (first && first->fff ? "true" : "false") << "\n";
  o << "fractions = " << (plan.fractions_planned > 0 ? plan.fractions_planned : 1) << "\n";
  if (!plan.frame_of_reference_uid.empty())
    o << "frame_of_reference_uid = " << toml::value<std::string>(plan.frame_of_reference_uid) << "\n";
  if (!plan.patient_id.empty()) o << "patient_id = " << toml::value<std::string>(plan.patient_id) << "\n";
  auto vec = [&](const std::vector<double>& v) {
    o << "[";
    for (std::size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << v[i];
    o << "]";
  };
  for (const auto& b : plan.beams) {
    if (!b.node) throw RuntimeError(path + ": beam " + std::to_string(b.number) + " is not a robotic node");
    const auto& c = b.control_points.front();
    o << "\n[[node]]\nsource_mm = ";
    vec({b.source_mm[0], b.source_mm[1], b.source_mm[2]});
    o << "\ntarget_mm = ";
    vec({c.iso_mm[0], c.iso_mm[1], c.iso_mm[2]});
    if (b.has_applicator) {
      const bool iris = b.applicator.id.rfind("IRIS", 0) == 0;
      o << "\ncollimator = \"" << (iris ? "iris" : "cone") << "\"\nsize_mm = " << b.applicator.opening_mm;
    } else if (const auto* v = c.positions("MLCX")) {
      const std::size_t n = v->size() / 2;
      o << "\ncollimator = \"mlc\"\nleaves_a_mm = ";
      vec(std::vector<double>(v->begin(), v->begin() + long(n)));
      o << "\nleaves_b_mm = ";
      vec(std::vector<double>(v->begin() + long(n), v->end()));
    } else {
      throw RuntimeError(path + ": node " + std::to_string(b.number) + " has no collimator");
    }
    o << "\nmu = " << b.mu << "\n";
    if (b.roll_deg != 0) o << "roll_deg = " << b.roll_deg << "\n";
  }
  write_text_file(path, o.str());  // whole or not at all
}

Plan make_robotic_plan(const Machine& m, const RoboticPlanSpec& s) {
  if (m.kind != DeliveryKind::robotic) throw UsageError("machine " + m.name + " is not a robotic machine");
  if (s.nodes < 1) throw UsageError("--nodes must be >= 1");
  if (!(s.mu > 0)) throw UsageError("--mu must be > 0");
  if (!(s.distance_mm > 0)) throw UsageError("--distance must be > 0 mm");
  if (!(s.max_angle_deg >= 0) || s.max_angle_deg > 180) throw UsageError("--max-angle must be in [0, 180] degrees");
  const double tn = std::sqrt(s.toward[0] * s.toward[0] + s.toward[1] * s.toward[1] + s.toward[2] * s.toward[2]);
  if (!(tn > 0)) throw UsageError("--toward must be a non-zero vector");
  const CollimatorSpec* coll = s.collimator == "cone" ? m.cone() : s.collimator == "iris" ? m.iris()
                               : s.collimator == "mlc" ? m.mlc() : nullptr;
  if (s.collimator != "cone" && s.collimator != "iris" && s.collimator != "mlc")
    throw UsageError("--collimator must be cone, iris or mlc, not '" + s.collimator + "'");
  if (!coll) throw UsageError("machine " + m.name + " has no " + s.collimator);
  if (s.collimator != "mlc" && !coll->has_size(s.size_mm / 10))
    throw UsageError("machine " + m.name + " has no " + mm_label(s.size_mm) + " mm " + s.collimator);
  if (!(s.size_mm > 0)) throw UsageError("--size must be > 0 mm");
  // An orthonormal frame (u, v, w) with w along `toward`.
  const double w[3] = {s.toward[0] / tn, s.toward[1] / tn, s.toward[2] / tn};
  double e[3] = {1, 0, 0};
  if (std::abs(w[0]) > 0.9) e[0] = 0, e[2] = 1;
  double u[3] = {e[0] - w[0] * (e[0] * w[0] + e[1] * w[1] + e[2] * w[2]),
                 e[1] - w[1] * (e[0] * w[0] + e[1] * w[1] + e[2] * w[2]),
                 e[2] - w[2] * (e[0] * w[0] + e[1] * w[1] + e[2] * w[2])};
  const double un = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (double& x : u) x /= un;
  const double v[3] = {w[1] * u[2] - w[2] * u[1], w[2] * u[0] - w[0] * u[2], w[0] * u[1] - w[1] * u[0]};
  const std::string name = s.machine_name.empty() ? default_machine_name(m) : s.machine_name;
  Plan p;
  p.label = s.label.substr(0, 16);
  p.name = s.label;
  p.fractions_planned = s.fractions;
  const double cmax = std::cos(s.max_angle_deg * 3.14159265358979323846 / 180);
  const double golden = 3.14159265358979323846 * (3 - std::sqrt(5.0));
  for (int i = 0; i < s.nodes; ++i) {
    const double ct = 1 - (1 - cmax) * (i + 0.5) / s.nodes;
    const double st = std::sqrt(std::max(0.0, 1 - ct * ct));
    const double ph = golden * i;
    double d[3];
    for (int k = 0; k < 3; ++k) d[k] = ct * w[k] + st * (std::cos(ph) * u[k] + std::sin(ph) * v[k]);
    Beam b;
    b.number = i + 1;
    b.name = "node " + std::to_string(i + 1);
    b.machine_name = name;
    b.fff = s.fff;
    b.fluence_mode_id = s.fff ? "FFF" : "";
    b.mu = s.mu;
    b.node = true;
    b.sad_mm = s.distance_mm;
    for (int k = 0; k < 3; ++k) b.source_mm[std::size_t(k)] = s.target_mm[std::size_t(k)] + s.distance_mm * d[k];
    ControlPoint c;
    c.energy_mv = s.energy_mv;
    c.iso_mm = s.target_mm;
    if (s.collimator == "mlc") {
      LimitingDevice dev;
      dev.type = "MLCX";
      dev.pairs = coll->pairs();
      b.devices.push_back(dev);
      std::vector<double> bnd;
      for (double x : coll->boundaries_cm) bnd.push_back(10 * x);
      const double h = s.size_mm / 2;
      c.positions_mm["MLCX"] = rectangle_leaves(bnd, -h, h, -h, h, 0.0);
    } else {
      b.has_applicator = true;
      b.applicator.id = std::string(s.collimator == "cone" ? "CONE " : "IRIS ") + mm_label(s.size_mm) + " MM";
      b.applicator.type = "STEREOTACTIC";
      b.applicator.aperture_shape = "SYM_CIRCULAR";
      b.applicator.opening_mm = s.size_mm;
    }
    ControlPoint c0 = c, c1 = c;
    c1.index = 1;
    c1.cumulative_weight = 1;
    b.control_points = {c0, c1};
    p.beams.push_back(std::move(b));
  }
  return p;
}

}  // namespace sabre::beams
