#include "engine/check/check.hh"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <unistd.h>
#include <set>
#include <toml++/toml.h>

#include <spdlog/spdlog.h>

#include "beams/toml_keys.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/number.hh"
#include "engine/check/dvh.hh"
#include "engine/check/report.hh"
#include "engine/compare/compare.hh"
#include "engine/compare/gamma.hh"
#include "engine/io/rtplan.hh"
#include "engine/io/rtstruct.hh"
#include "engine/run_config.hh"
#include "engine/run_job.hh"

namespace sabre::check {

using nlohmann::json;
namespace fs = std::filesystem;

double bed(double total, int n, double ab) { return total * (1 + total / (std::max(1, n) * ab)); }
double eqd2(double total, int n, double ab) { return bed(total, n, ab) / (1 + 2 / ab); }

std::string canonical_name(const std::string& name) {
  std::string s;
  for (char c : name)
    if (c != ' ' && c != '_' && c != '-') s += char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

namespace {

enum class Role { target, oar, external };

Role role_of(const io::Roi& roi, const io::StructureSet& rs) {
  const std::string t = canonical_name(roi.interpreted_type), n = canonical_name(roi.name);
  if (t == "EXTERNAL" || &roi == rs.body()) return Role::external;
  for (const char* p : {"PTV", "GTV", "CTV", "ITV"})
    if (t == p || n.rfind(p, 0) == 0) return Role::target;
  return Role::oar;
}

bool is_ptv(const io::Roi& roi) {
  return canonical_name(roi.interpreted_type) == "PTV" || canonical_name(roi.name).rfind("PTV", 0) == 0;
}

bool is_lung(const io::Roi& roi) { return canonical_name(roi.name).find("LUNG") != std::string::npos; }

double default_alpha_beta(const io::Roi& roi, Role r) {
  if (r == Role::target) return 10;
  const std::string n = canonical_name(roi.name);
  if (n.find("CORD") != std::string::npos || n.find("PLEXUS") != std::string::npos) return 2;
  return 3;
}

// A dose brought to the plan's total, as float for the DVHs.
struct TotalDose {
  compare::LoadedDose loaded;
  std::vector<float> total;
  double factor = 1;  // total / as stored
  std::string stored_as;
};

TotalDose to_total(compare::LoadedDose loaded, const std::string& path, int fractions) {
  TotalDose t;
  t.loaded = std::move(loaded);
  const auto& d = t.loaded.dose;
  if (d.dose_unit != "Gy") throw InputError(path, "the dose is in '" + d.dose_unit + "', not Gy");
  if (t.loaded.format == "sabre-hdf5") {
    t.factor = fractions;
    t.stored_as = "Gy per fraction (sabre HDF5)";
  } else {
    const auto it = d.provenance.find("dose_summation_type");
    const std::string s = it == d.provenance.end() ? "" : it->second;
    if (s == "PLAN") {
      t.factor = 1;
      t.stored_as = "Gy for the plan (RT Dose, DoseSummationType PLAN)";
    } else if (s == "FRACTION") {
      t.factor = fractions;
      t.stored_as = "Gy per fraction (RT Dose, DoseSummationType FRACTION)";
    } else {
      throw InputError(path, "DoseSummationType '" + s + "': sabre check compares PLAN or FRACTION doses");
    }
  }
  t.total.resize(d.dose_gy.size());
  for (std::size_t i = 0; i < d.dose_gy.size(); ++i) t.total[i] = float(d.dose_gy[i] * t.factor);
  return t;
}

std::string frame_of(const DoseResult& d) {
  const auto it = d.provenance.find("frame_of_reference_uid");
  return it == d.provenance.end() ? "" : it->second;
}

// ---- constraints --------------------------------------------------------------------------
// Metric text: D<v>cc, CV<v>cc, Dmean (parse_metric).
struct MetricSpec {
  enum Kind { dose_to_cc, critical_volume, mean } kind = mean;
  double cc = 0;
};
struct Limit {
  std::string metric;
  MetricSpec spec;         // `metric` parsed
  std::vector<double> gy;  // per entry of the table's fractions
};
struct Organ {
  std::string label;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> combine;
  std::vector<Limit> limits;
};
struct ConstraintTable {
  std::string path, name, citation;
  std::vector<int> fractions;
  std::vector<Organ> organs;
};

std::vector<std::string> strings_of(beams::TomlKeys& r, const toml::node* n, const std::string& what) {
  std::vector<std::string> out;
  const auto* a = n ? n->as_array() : nullptr;
  if (!a) r.fail(what + " must be an array of strings");
  for (const auto& e : *a) {
    const auto v = e.value<std::string>();
    if (!v) r.fail(what + " must hold strings");
    out.push_back(canonical_name(*v));
  }
  return out;
}

// Throws through `r` when the metric text is malformed.
MetricSpec parse_metric(const std::string& m, beams::TomlKeys& r) {
  MetricSpec s;
  auto cc = [&](std::size_t skip) {
    if (m.size() <= skip + 2 || m.substr(m.size() - 2) != "cc") r.fail("metric '" + m + "' must end in cc");
    const std::string v = m.substr(skip, m.size() - skip - 2);
    if (const auto x = parse_finite(v)) return *x;
    r.fail("metric '" + m + "': '" + v + "' is not a volume in cm3");
  };
  if (m == "Dmean") return s;
  if (m.rfind("CV", 0) == 0) {
    s.kind = MetricSpec::critical_volume;
    s.cc = cc(2);
  } else if (m.rfind("D", 0) == 0) {
    s.kind = MetricSpec::dose_to_cc;
    s.cc = cc(1);
  } else {
    r.fail("metric '" + m + "' is not D<v>cc, CV<v>cc or Dmean");
  }
  if (!(s.cc > 0)) r.fail("metric '" + m + "': the volume must be > 0");
  return s;
}

ConstraintTable read_constraints(const std::string& path) {
  toml::table root = beams::parse_toml_file(path);
  beams::TomlKeys r(root, path, "constraints");
  if (r.str("format") != "sabre-constraints/1") r.fail("format must be \"sabre-constraints/1\"");
  ConstraintTable t;
  t.path = path;
  t.name = r.str("name");
  t.citation = r.str("citation");
  for (double f : r.numbers("fractions")) {
    if (f < 1 || f != std::floor(f)) r.fail("'fractions' must hold whole numbers >= 1");
    t.fractions.push_back(int(f));
  }
  const toml::node* orgs = r.get("organ", true);
  const auto* arr = orgs->as_array();
  if (!arr) r.fail("'organ' must be an array of tables ([[organ]])");
  int k = 0;
  for (const auto& on : *arr) {
    ++k;
    const auto* ot = on.as_table();
    if (!ot) r.fail("organ " + std::to_string(k) + " is not a table");
    beams::TomlKeys o(*ot, path, "organ " + std::to_string(k));
    Organ org;
    org.label = o.str("label");
    org.names = strings_of(o, o.get("names", true), "'names'");
    if (const toml::node* c = o.get("combine", false)) {
      const auto* ca = c->as_array();
      if (!ca) o.fail("'combine' must be an array of arrays of names");
      for (const auto& g : *ca) org.combine.push_back(strings_of(o, &g, "'combine'"));
    }
    const auto* la = o.get("limits", true)->as_array();
    if (!la) o.fail("'limits' must be an array of tables");
    for (const auto& ln : *la) {
      const auto* lt = ln.as_table();
      if (!lt) o.fail("a limit is not a table");
      beams::TomlKeys l(*lt, path, "organ " + std::to_string(k) + " (" + org.label + ")");
      Limit lim;
      lim.metric = l.str("metric");
      lim.spec = parse_metric(lim.metric, l);
      lim.gy = l.numbers("gy");
      if (lim.gy.size() != t.fractions.size())
        l.fail("limit " + lim.metric + " has " + std::to_string(lim.gy.size()) + " doses for " +
               std::to_string(t.fractions.size()) + " fraction numbers");
      l.finish();
      org.limits.push_back(lim);
    }
    o.finish();
    t.organs.push_back(org);
  }
  r.finish();
  return t;
}

double metric_value(const Dvh& h, const MetricSpec& m) {
  switch (m.kind) {
    case MetricSpec::mean: return h.mean_gy;
    case MetricSpec::dose_to_cc: return h.dose_to_volume(m.cc);
    case MetricSpec::critical_volume: return h.dose_to_volume(std::max(0.0, h.volume_cm3 - m.cc));
  }
  return 0;
}

// Two DVHs on one grid combined (disjoint structures): the cumulative volumes add.
Dvh combined(const std::vector<const Dvh*>& parts, const std::string& name) {
  Dvh h = *parts.front();
  h.name = name;
  double wmean = h.mean_gy * h.volume_cm3;
  for (std::size_t p = 1; p < parts.size(); ++p) {
    const Dvh& o = *parts[p];
    for (std::size_t i = 0; i < h.cumulative_cm3.size() && i < o.cumulative_cm3.size(); ++i)
      h.cumulative_cm3[i] += o.cumulative_cm3[i];
    wmean += o.mean_gy * o.volume_cm3;
    h.volume_cm3 += o.volume_cm3;
    h.contour_volume_cm3 += o.contour_volume_cm3;
    h.volume_outside_grid_cm3 += o.volume_outside_grid_cm3;
    h.min_gy = std::min(h.min_gy, o.min_gy);
    h.max_gy = std::max(h.max_gy, o.max_gy);
  }
  h.mean_gy = h.volume_cm3 > 0 ? wmean / h.volume_cm3 : 0;
  return h;
}

// ---- tolerances ---------------------------------------------------------------------------
struct Tolerances {
  std::string path;
  double target_dmean_percent = 2, target_d95_percent = 2;
  double gamma_3_2_min = 95, gamma_2_1_min = 0;
  bool require_coverage = true, require_constraints = true;
};

Tolerances read_tolerances(const std::string& path) {
  toml::table root = beams::parse_toml_file(path);
  beams::TomlKeys r(root, path, "tolerances");
  if (r.str("format") != "sabre-tolerances/1") r.fail("format must be \"sabre-tolerances/1\"");
  Tolerances t;
  t.path = path;
  t.target_dmean_percent = r.number("target_dmean_percent");
  t.target_d95_percent = r.number("target_d95_percent");
  t.gamma_3_2_min = r.number("gamma_3pct_2mm_min_percent");
  t.gamma_2_1_min = r.number("gamma_2pct_1mm_min_percent");
  t.require_coverage = r.flag("require_coverage", true);
  t.require_constraints = r.flag("require_constraints", true);
  for (double v : {t.target_dmean_percent, t.target_d95_percent})
    if (!(v > 0)) r.fail("target tolerances must be > 0 percent");
  r.finish();
  return t;
}

double pct(double a, double b) { return b != 0 ? 100 * (a - b) / b : 0; }

json gamma_json(const compare::GammaResult& g) {
  return {{"dose_percent", 100 * g.criteria.dose_fraction},
          {"distance_mm", g.criteria.distance_mm},
          {"global", !g.criteria.local},
          {"threshold_percent", 100 * g.criteria.threshold_fraction},
          {"norm_dose_gy", g.norm_dose_gy},
          {"evaluated", g.evaluated},
          {"pass_rate_percent", g.pass_rate_percent},
          {"mean_gamma", g.mean_gamma},
          {"gamma_p95", g.gamma_p95},
          {"max_gamma", g.max_gamma}};
}

}  // namespace

// ---------------------------------------------------------------------------------------
namespace {

// What check.json says of the two quantities: sabre's (and, for dose to water, the method and
// the factor per material its provenance records) beside what the planning system's is said to be.
json quantity_json(const DoseResult& d, const std::string& tps_quantity) {
  std::string conversion = "none: sabre's dose is dose to medium (sabre run --dose-to water converts it)";
  json factors = json::object();
  if (d.dose_to_water) {
    const auto m = d.provenance.find("dose_to_water_method");
    conversion = m != d.provenance.end() ? m->second : "dose to water (sabre run --dose-to water)";
    const std::string key = "dose_to_water_s_w_m:";
    std::string list;
    for (const auto& [k, v] : d.provenance) {
      if (k.rfind(key, 0) != 0) continue;
      // Descriptive only (the dose is already converted); a value that is not a number, which
      // sabre never writes, is passed on as the text it is rather than ending the check.
      const auto f = parse_finite(v);
      const std::string material = k.substr(key.size());
      std::string shown = material + " " + v;
      if (f) {
        factors[material] = *f;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4f", *f);
        shown = material + " " + buf;
      } else {
        factors[material] = v;
      }
      list += (list.empty() ? "" : ", ") + shown;
    }
    if (!list.empty()) conversion += "; s_w,m: " + list;
  }
  return {{"sabre", d.quantity()}, {"tps", tps_quantity}, {"conversion", conversion}, {"s_w_m", factors}};
}

}  // namespace

CheckResult run_check(const CheckInputs& given) {
  CheckInputs in = given;
  if (in.sabre_dose.empty() == in.run_file.empty())
    throw UsageError("check: give sabre's dose (--dose) or a run file to compute it (--run), one of the two");
  if (!in.report_dir.empty() && fs::exists(in.report_dir) &&
      !(fs::is_directory(in.report_dir) && fs::is_empty(in.report_dir)))
    throw RuntimeError(in.report_dir + ": the report directory exists and is not empty");
  // The tolerances and constraint tables before anything is computed: a bad table must not
  // cost a recomputation first.
  const std::string data = build::data_dir() + "/engine/check/data";
  const Tolerances tol = read_tolerances(in.tolerances.empty() ? data + "/tolerances.toml" : in.tolerances);
  std::vector<ConstraintTable> tables;
  for (const auto& f : in.constraint_files.empty() ? std::vector<std::string>{data + "/tg101.toml"}
                                                   : in.constraint_files)
    tables.push_back(read_constraints(f));
  // Recompute first when asked: the run's HDF5 in a temporary file beside the report (or
  // in the system's temporary directory), moved into the report at the end.
  std::string computed;
  struct Remove {
    std::string path;
    ~Remove() {
      std::error_code ec;
      if (!path.empty()) fs::remove(path, ec);
    }
  } cleanup;
  if (!in.run_file.empty()) {
    RunConfig cfg;
    load_run_file(in.run_file, cfg);
    if (in.structures.empty()) in.structures = cfg.rtstruct;
    if (in.plan.empty()) in.plan = cfg.rtplan;
    if (in.ct.empty()) in.ct = cfg.ct_dir;
    cfg.output_rtdose.clear();
    cfg.output_png_dir.clear();
    cfg.summary_json.clear();
    const fs::path base = in.report_dir.empty() ? fs::temp_directory_path() / "sabre-check"
                                                : fs::absolute(in.report_dir).parent_path() /
                                                      (fs::path(in.report_dir).filename().string() + ".sabre-dose");
    computed = base.string() + "-" + std::to_string(::getpid()) + ".h5";
    cleanup.path = computed;
    cfg.output_h5 = computed;
    validate(cfg);
    spdlog::info("check: recomputing the plan ({})", in.run_file);
    run_job(cfg, ProgressReporter::detect(cfg.quiet));
    in.sabre_dose = computed;
  }
  if (in.structures.empty()) throw UsageError("check: no structure set (--structures, or the run file's)");

  // Plan (optional): fractions and isocentres.
  beams::Plan plan;
  bool have_plan = false;
  if (!in.plan.empty()) {
    plan = io::read_plan(in.plan);
    have_plan = true;
  }
  const io::StructureSet rs = io::read_rtstruct(in.structures);

  // Fractions: given, else the plan's, else the sabre dose's provenance.
  int fractions = in.fractions;
  std::string fractions_from = "--fractions";
  if (fractions <= 0 && have_plan && plan.fractions_planned > 0) {
    fractions = plan.fractions_planned;
    fractions_from = "the plan";
  }
  compare::LoadedDose sabre_loaded = compare::load_dose_file(in.sabre_dose);
  if (fractions <= 0) {
    const auto& pv = sabre_loaded.dose.provenance;
    const auto it = pv.find("fractions_planned");
    if (it != pv.end()) fractions = std::max(0, std::atoi(it->second.c_str()));
    fractions_from = "the sabre dose's provenance";
  }
  if (fractions <= 0) throw UsageError("check: the number of fractions is unknown: give --fractions");

  const TotalDose sab = to_total(std::move(sabre_loaded), in.sabre_dose, fractions);
  const TotalDose tps = to_total(compare::load_dose_file(in.tps_dose), in.tps_dose, fractions);
  // Frames of reference: the structure set's is the patient's.
  for (const auto* d : {&sab, &tps}) {
    const std::string f = frame_of(d->loaded.dose);
    const std::string& path = d == &sab ? in.sabre_dose : in.tps_dose;
    if (!rs.frame_of_reference_uid.empty() && f != rs.frame_of_reference_uid)
      throw InputError(path, "frame of reference '" + f + "' is not the structure set's ('" +
                                 rs.frame_of_reference_uid + "', " + in.structures + ")");
  }
  if (have_plan && !plan.frame_of_reference_uid.empty() && !rs.frame_of_reference_uid.empty() &&
      plan.frame_of_reference_uid != rs.frame_of_reference_uid)
    throw InputError(in.plan, "frame of reference '" + plan.frame_of_reference_uid + "' is not the structure set's ('" +
                                  rs.frame_of_reference_uid + "')");

  json s;
  s["format"] = "sabre-check/1";
  s["sabre"] = {{"version", build::version()}, {"commit", build::git_commit()}};
  s["inputs"] = {{"sabre_dose", computed.empty() ? in.sabre_dose : "recomputed from " + in.run_file},
                 {"tps_dose", in.tps_dose}, {"structures", in.structures}, {"plan", in.plan}, {"tolerances", tol.path}};
  s["fractions"] = fractions;
  s["fractions_from"] = fractions_from;
  s["quantity"] = quantity_json(sab.loaded.dose, in.tps_quantity);
  s["doses"] = {{"sabre", {{"stored_as", sab.stored_as}, {"factor_to_total", sab.factor}}},
                {"tps", {{"stored_as", tps.stored_as}, {"factor_to_total", tps.factor}}},
                {"unit", "Gy, total over the fractions"}};

  // Gamma: the planning system's dose is the reference.
  DoseResult ref = tps.loaded.dose, ev = sab.loaded.dose;
  for (std::size_t i = 0; i < ref.dose_gy.size(); ++i) ref.dose_gy[i] = tps.total[i];
  for (std::size_t i = 0; i < ev.dose_gy.size(); ++i) ev.dose_gy[i] = sab.total[i];
  compare::GammaCriteria c32, c21;
  c32.dose_fraction = 0.03, c32.distance_mm = 2, c32.threads = in.threads;
  c21.dose_fraction = 0.02, c21.distance_mm = 1, c21.threads = in.threads;
  const compare::GammaResult g32 = compare::compute_gamma(ref, ev, c32);
  const compare::GammaResult g21 = compare::compute_gamma(ref, ev, c21);
  s["gamma"] = json::array({gamma_json(g32), gamma_json(g21)});
  const auto& dd = g32.difference;
  s["dose_difference"] = {{"voxels", dd.voxels},           {"mean_gy", dd.mean_gy}, {"sd_gy", dd.sd_gy},
                          {"min_gy", dd.min_gy},           {"max_gy", dd.max_gy},
                          {"mean_abs_percent", dd.mean_abs_percent},
                          {"within_levels_percent", dd.within_levels_percent},
                          {"within_percent", dd.within_percent}};

  // Isocentre point doses.
  s["points"] = json::array();
  if (have_plan) {
    std::set<std::array<double, 3>> isos;
    for (const auto& b : plan.beams)
      if (!b.helical && !b.control_points.empty()) isos.insert(b.control_points.front().iso_mm);
    int n = 0;
    for (const auto& p : isos) {
      const double x = p[0] / 10, y = p[1] / 10, z = p[2] / 10;
      const double ds = trilinear(sab.loaded.dose.grid, sab.total, x, y, z);
      const double dt = trilinear(tps.loaded.dose.grid, tps.total, x, y, z);
      s["points"].push_back({{"name", "isocentre " + std::to_string(++n)},
                             {"position_mm", p},
                             {"sabre_gy", ds},
                             {"tps_gy", dt},
                             {"difference_percent", pct(ds, dt)}});
    }
  }

  // DVHs and metrics.
  std::map<std::string, std::pair<Dvh, Dvh>> dvhs;  // canonical name -> (sabre, tps)
  json structures = json::array();
  json coverage = json::array();
  std::vector<json> failures;
  for (const auto& roi : rs.rois) {
    bool planar = false;
    for (const auto& c : roi.contours) planar = planar || c.geometric_type == "CLOSED_PLANAR";
    if (!planar) continue;
    const Role role = role_of(roi, rs);
    Dvh hs = compute_dvh(roi, sab.loaded.dose.grid, sab.total, in.structures);
    Dvh ht = compute_dvh(roi, tps.loaded.dose.grid, tps.total, in.structures);
    const auto ab_it = in.alpha_beta.find(roi.name);
    const double ab = ab_it != in.alpha_beta.end() ? ab_it->second : default_alpha_beta(roi, role);
    json st{{"name", roi.name},
            {"role", role == Role::target ? "target" : role == Role::oar ? "oar" : "external"},
            {"volume_cm3", hs.volume_cm3},
            {"tps_volume_cm3", ht.volume_cm3},
            {"contour_volume_cm3", hs.contour_volume_cm3},
            {"outside_sabre_grid_cm3", hs.volume_outside_grid_cm3},
            {"alpha_beta_gy", ab},
            {"subdivisions", hs.subdivisions}};
    json metrics = json::array();
    auto dose_metric = [&](const std::string& name, double vs, double vt) {
      metrics.push_back({{"metric", name},
                         {"unit", "Gy"},
                         {"sabre", vs},
                         {"tps", vt},
                         {"difference", vs - vt},
                         {"difference_percent", pct(vs, vt)},
                         {"sabre_bed_gy", bed(vs, fractions, ab)},
                         {"sabre_eqd2_gy", eqd2(vs, fractions, ab)},
                         {"tps_bed_gy", bed(vt, fractions, ab)},
                         {"tps_eqd2_gy", eqd2(vt, fractions, ab)}});
    };
    auto volume_metric = [&](const std::string& name, double dose) {
      const double vs = hs.volume_at_least(dose), vt = ht.volume_at_least(dose);
      metrics.push_back({{"metric", name},
                         {"unit", "cm3"},
                         {"sabre", vs},
                         {"tps", vt},
                         {"difference", vs - vt},
                         {"sabre_percent", hs.volume_cm3 > 0 ? 100 * vs / hs.volume_cm3 : 0},
                         {"tps_percent", ht.volume_cm3 > 0 ? 100 * vt / ht.volume_cm3 : 0}});
    };
    if (!hs.empty() && !ht.empty()) {
      if (role == Role::target) {
        for (double p : {95.0, 98.0, 2.0, 50.0}) {
          char name[16];
          std::snprintf(name, sizeof name, "D%g%%", p);
          dose_metric(name, hs.dose_to_percent(p), ht.dose_to_percent(p));
        }
        dose_metric("Dmean", hs.mean_gy, ht.mean_gy);
        if (in.prescription_gy > 0) volume_metric("V100%", in.prescription_gy);
        // Verdict lines on the targets.
        const double d_mean = pct(hs.mean_gy, ht.mean_gy);
        const double d_95 = pct(hs.dose_to_percent(95), ht.dose_to_percent(95));
        auto line = [&](const std::string& what, double value, double limit) {
          json l{{"check", roi.name + " " + what},
                 {"value_percent", value},
                 {"limit_percent", limit},
                 {"passed", std::abs(value) <= limit}};
          if (!l["passed"].get<bool>()) failures.push_back(l);
          return l;
        };
        st["verdict"] = json::array({line("Dmean difference", d_mean, tol.target_dmean_percent),
                                     line("D95 difference", d_95, tol.target_d95_percent)});
        if (is_ptv(roi) && in.prescription_gy > 0) {
          const double cs = 100 * hs.volume_at_least(in.prescription_gy) / hs.volume_cm3;
          const double ct = 100 * ht.volume_at_least(in.prescription_gy) / ht.volume_cm3;
          json cv{{"structure", roi.name},
                  {"prescription_gy", in.prescription_gy},
                  {"required_percent", in.coverage_percent},
                  {"sabre_percent", cs},
                  {"tps_percent", ct},
                  {"sabre_passed", cs >= in.coverage_percent},
                  {"tps_passed", ct >= in.coverage_percent}};
          coverage.push_back(cv);
          if (tol.require_coverage && cs < in.coverage_percent)
            failures.push_back({{"check", roi.name + " coverage by the prescription isodose (sabre)"},
                                {"value_percent", cs},
                                {"limit_percent", in.coverage_percent},
                                {"passed", false}});
        }
      } else if (role == Role::oar) {
        dose_metric("D0.035cc", hs.dose_to_volume(0.035), ht.dose_to_volume(0.035));
        dose_metric("D1cc", hs.dose_to_volume(1.0), ht.dose_to_volume(1.0));
        dose_metric("Dmean", hs.mean_gy, ht.mean_gy);
        if (is_lung(roi)) {
          volume_metric("V20Gy", 20);
          volume_metric("V12.5Gy", 12.5);
        }
      } else {
        dose_metric("Dmax (D0.035cc)", hs.dose_to_volume(0.035), ht.dose_to_volume(0.035));
      }
    }
    st["metrics"] = metrics;
    structures.push_back(st);
    dvhs[canonical_name(roi.name)] = {std::move(hs), std::move(ht)};
  }
  s["structures"] = structures;
  s["coverage"] = coverage;

  // Constraints.
  json constraints = json::array();
  for (const auto& t : tables) {
    const auto fit = std::find(t.fractions.begin(), t.fractions.end(), fractions);
    json tj{{"table", t.name}, {"citation", t.citation}, {"file", t.path}, {"fractions", fractions}};
    if (fit == t.fractions.end()) {
      tj["note"] = "no limits for " + std::to_string(fractions) + " fractions in this table";
      tj["limits"] = json::array();
      constraints.push_back(tj);
      continue;
    }
    const std::size_t col = std::size_t(fit - t.fractions.begin());
    json lims = json::array();
    for (const auto& org : t.organs) {
      // The structure: one named as the organ, else a union of the listed pairs.
      std::string used;
      const Dvh *s_dvh = nullptr, *t_dvh = nullptr;
      Dvh s_comb, t_comb;
      for (const auto& n : org.names)
        if (dvhs.count(n)) {
          s_dvh = &dvhs[n].first;
          t_dvh = &dvhs[n].second;
          used = dvhs[n].first.name;
          break;
        }
      if (!s_dvh)
        for (const auto& group : org.combine) {
          bool all = !group.empty();
          for (const auto& n : group) all = all && dvhs.count(n);
          if (!all) continue;
          std::vector<const Dvh*> ps, ts;
          for (const auto& n : group) {
            ps.push_back(&dvhs[n].first);
            ts.push_back(&dvhs[n].second);
            used += (used.empty() ? "" : " + ") + dvhs[n].first.name;
          }
          s_comb = combined(ps, used);
          t_comb = combined(ts, used);
          s_dvh = &s_comb;
          t_dvh = &t_comb;
          break;
        }
      if (!s_dvh) continue;
      for (const auto& lim : org.limits) {
        const MetricSpec& m = lim.spec;
        const double vs = metric_value(*s_dvh, m), vt = metric_value(*t_dvh, m);
        const double limit = lim.gy[col];
        json l{{"organ", org.label},       {"structure", used}, {"metric", lim.metric},
               {"limit_gy", limit},         {"sabre_gy", vs},    {"tps_gy", vt},
               {"sabre_passed", vs <= limit}, {"tps_passed", vt <= limit},
               {"source", t.citation}};
        if (m.kind == MetricSpec::critical_volume && s_dvh->volume_cm3 < m.cc) {
          l["note"] = "the structure is smaller than the critical volume";
        }
        lims.push_back(l);
        if (tol.require_constraints && vs > limit)
          failures.push_back({{"check", org.label + " (" + used + ") " + lim.metric + " <= " + std::to_string(limit).substr(0, 5) + " Gy"},
                              {"value_gy", vs},
                              {"limit_gy", limit},
                              {"source", t.citation},
                              {"passed", false}});
      }
    }
    tj["limits"] = lims;
    constraints.push_back(tj);
  }
  s["constraints"] = constraints;

  // Gamma lines of the verdict.
  auto gamma_line = [&](const compare::GammaResult& g, double min, const std::string& what) {
    json l{{"check", what}, {"value_percent", g.pass_rate_percent}, {"limit_percent", min},
           {"passed", g.pass_rate_percent >= min}};
    if (!l["passed"].get<bool>()) failures.push_back(l);
  };
  gamma_line(g32, tol.gamma_3_2_min, "gamma 3%/2mm global pass rate");
  if (tol.gamma_2_1_min > 0) gamma_line(g21, tol.gamma_2_1_min, "gamma 2%/1mm global pass rate");

  s["verdict"] = {{"passed", failures.empty()}, {"failures", failures},
                  {"tolerances", {{"file", tol.path},
                                  {"target_dmean_percent", tol.target_dmean_percent},
                                  {"target_d95_percent", tol.target_d95_percent},
                                  {"gamma_3pct_2mm_min_percent", tol.gamma_3_2_min},
                                  {"gamma_2pct_1mm_min_percent", tol.gamma_2_1_min},
                                  {"require_coverage", tol.require_coverage},
                                  {"require_constraints", tol.require_constraints}}},
                  {"exit_code", failures.empty() ? 0 : kFailedTolerance}};

  CheckResult res;
  res.passed = failures.empty();
  res.summary = s;
  if (!in.report_dir.empty()) {
    ReportInputs ri;
    ri.summary = &res.summary;
    ri.sabre = &sab.loaded.dose;
    ri.sabre_total = &sab.total;
    ri.tps = &tps.loaded.dose;
    ri.tps_total = &tps.total;
    ri.structures = &rs;
    io::CtImage ct;
    if (!in.ct.empty()) {
      ct = io::read_ct_series(in.ct);
      ri.ct = &ct;
    }
    ri.gamma = &g32;
    for (const auto& [name, pair] : dvhs) ri.dvhs.push_back({&pair.first, &pair.second});
    ri.keep_dose = computed;  // moved into the report as sabre-dose.h5
    write_report(in.report_dir, ri);
    if (!computed.empty()) cleanup.path.clear();
  }
  return res;
}

}  // namespace sabre::check
