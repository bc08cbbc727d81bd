#include "beams/tomo_plan.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "beams/iec61217.hh"
#include "beams/plan_builder.hh"
#include "beams/toml_keys.hh"
#include "core/errors.hh"
#include "core/output_file.hh"

namespace sabre::beams {

namespace fs = std::filesystem;

bool is_tomo_plan_file(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  for (int i = 0; i < 20 && std::getline(f, line); ++i)
    if (line.find(kTomoPlanFormat) != std::string::npos) return true;
  return false;
}

namespace {

// Where the beam plane is at the end of the delivery (control point 1's isocentre: the
// plan's extent, for pictures; the delivery itself starts from control point 0's).
std::array<double, 3> travel_end(const Beam& b, double x, double y, double z) {
  const Sinogram& s = b.sinogram;
  const PatientPosition pos = patient_position_from(b.patient_position);
  int per_pass = s.n_projections();
  if (s.geometry == "FIXED_ANGLE") {
    int run = 0;
    per_pass = 0;
    for (std::size_t k = 0; k < s.fixed_gantry_deg.size(); ++k) {
      run = (k > 0 && s.fixed_gantry_deg[k] != s.fixed_gantry_deg[k - 1]) ? 1 : run + 1;
      per_pass = std::max(per_pass, run);
    }
  }
  const Vec3 d = patient_to_table_top(pos).transposed() * Vec3{0, -s.couch_mm_per_projection * per_pass, 0};
  return {x + d.x, y + d.y, z + d.z};
}

}  // namespace

namespace {
double round_decimal(double v, int digits) {
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return std::strtod(b, nullptr);
}
}  // namespace

double canonical_open_fraction(double f) { return round_decimal(f, 8); }
double canonical_length(double v) { return round_decimal(v, 10); }

void finish_helical_beam(Beam& b, const std::array<double, 3>& iso_start_mm, double energy_mv) {
  Sinogram& s = b.sinogram;
  for (double& f : s.open_fraction) f = canonical_open_fraction(f);
  s.projection_time_s = canonical_length(s.projection_time_s);
  s.couch_mm_per_projection = canonical_length(s.couch_mm_per_projection);
  s.jaw_width_mm = canonical_length(s.jaw_width_mm);
  s.jaw_offset_mm = canonical_length(s.jaw_offset_mm);
  b.helical = true;
  b.mu = s.n_projections() * s.projection_time_s;  // beam-on time [s]
  b.final_weight = 1;
  ControlPoint c0;
  c0.energy_mv = energy_mv;
  c0.iso_mm = iso_start_mm;
  c0.gantry_deg = s.geometry == "HELICAL" ? s.gantry_start_deg
                                          : (s.fixed_gantry_deg.empty() ? 0.0 : s.fixed_gantry_deg.front());
  ControlPoint c1 = c0;
  c1.index = 1;
  c1.cumulative_weight = 1;
  c1.iso_mm = travel_end(b, iso_start_mm[0], iso_start_mm[1], iso_start_mm[2]);
  b.control_points = {c0, c1};
}

Plan read_tomo_plan(const std::string& path) {
  toml::table root = parse_toml_file(path);
  const auto fmt = root["format"].value<std::string>();
  if (!fmt || *fmt != kTomoPlanFormat)
    throw InputError(path, std::string("expected format = \"") + kTomoPlanFormat + "\"");
  for (const auto& [k, v] : root) {
    const std::string ks(k.str());
    if (ks != "format" && ks != "plan") throw InputError(path, "unknown key '" + ks + "'");
  }
  const auto* pt = root["plan"].as_table();
  if (!pt) throw InputError(path, "missing table [plan]");
  TomlKeys r(*pt, path, "[plan]");
  Plan plan;
  plan.path = path;
  plan.label = r.str("label", false);
  plan.name = plan.label;
  const std::string machine = r.str("machine");
  const double energy = r.number("energy_mv", false, 6.0);
  const bool fff = r.flag("fff", true);
  const double fractions = r.number("fractions", false, 1);
  if (fractions < 1 || fractions != std::floor(fractions)) r.fail("'fractions' must be a whole number >= 1");
  plan.fractions_planned = int(fractions);
  plan.frame_of_reference_uid = r.str("frame_of_reference_uid", false);
  plan.patient_id = r.str("patient_id", false);
  Beam b;
  b.number = 1;
  b.name = "tomo";
  b.machine_name = machine;
  b.type = "DYNAMIC";
  b.fff = fff;
  b.fluence_mode_id = fff ? "FFF" : "";
  b.helical = true;
  b.sad_mm = 0;
  b.patient_position = r.str("patient_position", false, "HFS");
  if (b.patient_position != "HFS" && b.patient_position != "HFP" && b.patient_position != "FFS" &&
      b.patient_position != "FFP")
    r.fail("'patient_position' must be HFS, HFP, FFS or FFP");
  Sinogram& s = b.sinogram;
  s.geometry = r.str("geometry");
  if (s.geometry != "HELICAL" && s.geometry != "FIXED_ANGLE") r.fail("'geometry' must be HELICAL or FIXED_ANGLE");
  s.projection_time_s = r.number("projection_time_s");
  if (!(s.projection_time_s > 0)) r.fail("'projection_time_s' must be > 0");
  s.jaw_width_mm = r.number("jaw_width_mm");
  if (!(s.jaw_width_mm > 0)) r.fail("'jaw_width_mm' must be > 0");
  s.jaw_offset_mm = r.number("jaw_offset_mm", false, 0);
  s.leaf_latency = r.flag("leaf_latency", false);
  const auto iso = r.numbers("iso_start_mm");
  if (iso.size() != 3) r.fail("'iso_start_mm' needs 3 numbers [x, y, z] (patient LPS, mm)");
  const double ppr = r.number("projections_per_rotation", false, 51);
  if (ppr < 1 || ppr != std::floor(ppr)) r.fail("'projections_per_rotation' must be a whole number >= 1");
  s.projections_per_rotation = int(ppr);
  const bool has_pitch = r.has("pitch"), has_step = r.has("couch_mm_per_projection");
  if (has_pitch && has_step) r.fail("give 'pitch' or 'couch_mm_per_projection', not both");
  if (has_pitch) {
    const double pitch = r.number("pitch");
    if (!(pitch >= 0)) r.fail("'pitch' must be >= 0");
    s.couch_mm_per_projection = pitch * s.jaw_width_mm / s.projections_per_rotation;
  } else {
    s.couch_mm_per_projection = r.number("couch_mm_per_projection", false, 0);
  }
  if (s.geometry == "HELICAL") {
    s.gantry_start_deg = r.number("gantry_start_deg", false, 0);
    if (r.has("fixed_gantry_deg")) r.fail("'fixed_gantry_deg' belongs to FIXED_ANGLE");
  } else {
    s.fixed_gantry_deg = r.numbers("fixed_gantry_deg");
    if (r.has("gantry_start_deg")) r.fail("'gantry_start_deg' belongs to HELICAL");
  }
  const toml::node* sn = r.get("sinogram", true);
  const auto* rows = sn->as_array();
  if (!rows || rows->empty()) r.fail("'sinogram' must be an array of projections, each an array of open fractions");
  int index = 0;
  for (const auto& row : *rows) {
    const std::vector<double> v = r.numbers_of(&row, "sinogram projection " + std::to_string(index + 1));
    if (index == 0) s.n_leaves = int(v.size());
    if (int(v.size()) != s.n_leaves || v.empty())
      r.fail("sinogram projection " + std::to_string(index + 1) + " has " + std::to_string(v.size()) +
             " leaves, the first has " + std::to_string(s.n_leaves));
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!(v[i] >= 0 && v[i] <= 1))
        r.fail("sinogram projection " + std::to_string(index + 1) + ", leaf " + std::to_string(i + 1) +
               ": open fraction " + std::to_string(v[i]) + " outside [0, 1]");
    s.open_fraction.insert(s.open_fraction.end(), v.begin(), v.end());
    ++index;
  }
  if (s.geometry == "FIXED_ANGLE" && int(s.fixed_gantry_deg.size()) != index)
    r.fail("'fixed_gantry_deg' needs one angle per projection (" + std::to_string(s.fixed_gantry_deg.size()) +
           " for " + std::to_string(index) + ")");
  r.finish();
  finish_helical_beam(b, {iso[0], iso[1], iso[2]}, energy);
  plan.beams.push_back(std::move(b));
  return plan;
}

void write_tomo_plan(const Plan& plan, const std::string& path) {
  if (plan.beams.size() != 1 || !plan.beams.front().helical)
    throw RuntimeError(path + ": a tomotherapy plan is one helical beam");
  const Beam& b = plan.beams.front();
  const Sinogram& s = b.sinogram;
  std::ostringstream o;
  o.precision(10);
  o << "format = \"" << kTomoPlanFormat << "\"\n\n[plan]\n";
  if (!plan.label.empty()) o << "label = " << toml::value<std::string>(plan.label) << "\n";
  o << "machine = " << toml::value<std::string>(b.machine_name) << "\n";
  o << "energy_mv = " << b.control_points.front().energy_mv << "\nfff = " << (b.fff ? "true" : "false") << "\n";
  o << "fractions = " << std::max(1, plan.fractions_planned) << "\n";
  o << "patient_position = \"" << b.patient_position << "\"\n";
  if (!plan.frame_of_reference_uid.empty())
    o << "frame_of_reference_uid = " << toml::value<std::string>(plan.frame_of_reference_uid) << "\n";
  if (!plan.patient_id.empty()) o << "patient_id = " << toml::value<std::string>(plan.patient_id) << "\n";
  o << "geometry = \"" << s.geometry << "\"\nprojection_time_s = " << s.projection_time_s
    << "\njaw_width_mm = " << s.jaw_width_mm << "\n";
  if (s.jaw_offset_mm != 0) o << "jaw_offset_mm = " << s.jaw_offset_mm << "\n";
  const auto& iso = b.control_points.front().iso_mm;
  o << "iso_start_mm = [" << iso[0] << ", " << iso[1] << ", " << iso[2] << "]\n";
  o << "projections_per_rotation = " << s.projections_per_rotation << "\n";
  o << "couch_mm_per_projection = " << s.couch_mm_per_projection << "\n";
  o << "leaf_latency = " << (s.leaf_latency ? "true" : "false") << "\n";
  if (s.geometry == "HELICAL") {
    o << "gantry_start_deg = " << s.gantry_start_deg << "\n";
  } else {
    o << "fixed_gantry_deg = [";
    for (std::size_t i = 0; i < s.fixed_gantry_deg.size(); ++i) o << (i ? ", " : "") << s.fixed_gantry_deg[i];
    o << "]\n";
  }
  o << "sinogram = [\n";
  const int n = s.n_projections();
  for (int k = 0; k < n; ++k) {
    o << "  [";
    for (int i = 0; i < s.n_leaves; ++i) o << (i ? ", " : "") << s.open_fraction[std::size_t(k * s.n_leaves + i)];
    o << "],\n";
  }
  o << "]\n";
  write_text_file(path, o.str());  // whole or not at all
}

Plan make_tomo_plan(const Machine& m, const TomoPlanSpec& sp) {
  if (m.kind != DeliveryKind::helical) throw UsageError("machine " + m.name + " is not a tomotherapy machine");
  const CollimatorSpec* mlc = m.mlc();
  if (!mlc) throw UsageError("machine " + m.name + " has no MLC");
  if (!(sp.jaw_width_mm > 0)) throw UsageError("--jaw must be > 0 mm");
  if (!(sp.pitch > 0)) throw UsageError("--pitch must be > 0");
  if (!(sp.projection_time_s > 0)) throw UsageError("--projection-time must be > 0 s");
  if (!(sp.open_fraction > 0 && sp.open_fraction <= 1)) throw UsageError("--open-fraction must be in (0, 1]");
  if (sp.geometry != "HELICAL" && sp.geometry != "FIXED_ANGLE") throw UsageError("geometry must be HELICAL or FIXED_ANGLE");
  if (sp.geometry == "FIXED_ANGLE" && sp.fixed_angles.empty()) throw UsageError("FIXED_ANGLE needs --angles");
  const std::string name = sp.machine_name.empty() ? default_machine_name(m) : sp.machine_name;
  const int nl = mlc->pairs();
  const int ppr = sp.projections_per_rotation;
  const double step = sp.pitch * sp.jaw_width_mm / ppr;  // couch travel per projection [mm]
  const double length = sp.length_mm > 0 ? sp.length_mm : 2 * std::max(sp.radius_mm, 0.0) + sp.jaw_width_mm;
  const int per_pass = std::max(1, int(std::ceil(length / step)));
  const PatientPosition pos = patient_position_from(sp.patient_position);
  // The beam plane moves along -Y_t in the patient (beams/helical.hh); start half the
  // travel before the target.
  const Mat3 t_to_p = patient_to_table_top(pos).transposed();
  const Vec3 dir = t_to_p * Vec3{0, -1, 0};
  const Vec3 tgt{sp.target_mm[0], sp.target_mm[1], sp.target_mm[2]};
  const double half_travel = 0.5 * per_pass * step;
  const Vec3 start = tgt - half_travel * dir;
  Beam b;
  b.number = 1;
  b.name = "tomo";
  b.machine_name = name;
  b.type = "DYNAMIC";
  b.fff = true;
  b.fluence_mode_id = "FFF";
  b.helical = true;
  b.patient_position = sp.patient_position;
  Sinogram& s = b.sinogram;
  s.n_leaves = nl;
  s.projection_time_s = sp.projection_time_s;
  s.jaw_width_mm = sp.jaw_width_mm;
  s.geometry = sp.geometry;
  s.projections_per_rotation = ppr;
  s.couch_mm_per_projection = step;
  s.leaf_latency = sp.leaf_latency;
  const int passes = sp.geometry == "FIXED_ANGLE" ? int(sp.fixed_angles.size()) : 1;
  for (int pass = 0; pass < passes; ++pass) {
    for (int k = 0; k < per_pass; ++k) {
      const int kk = pass * per_pass + k;
      const double gantry = sp.geometry == "HELICAL" ? (kk + 0.5) * 360.0 / ppr : sp.fixed_angles[std::size_t(pass)];
      if (sp.geometry == "FIXED_ANGLE") s.fixed_gantry_deg.push_back(gantry);
      // The beam plane at the projection's middle; FIXED_ANGLE passes each travel the length.
      const Vec3 plane = start + ((k + 0.5) * step) * dir;
      BeamAngles a;
      a.gantry_deg = gantry;
      const BeamToPatient map = beam_to_patient(a, pos, Vec3{plane.x / 10, plane.y / 10, plane.z / 10});
      const Vec3 c_b = map.to_beam_point(Vec3{tgt.x / 10, tgt.y / 10, tgt.z / 10});  // target in IEC b [cm]
      // Chord of the sphere in the longitudinal slab of the jaws.
      const double dz = std::max(0.0, std::abs(c_b.y) - 0.05 * sp.jaw_width_mm);
      const double r2 = 0.01 * sp.radius_mm * sp.radius_mm - dz * dz;
      for (int i = 0; i < nl; ++i) {
        double f = 0;
        if (sp.radius_mm <= 0) {
          f = sp.open_fraction;
        } else if (r2 > 0) {
          // the leaf's slot at the axis, against the target's lateral extent projected to it
          const double lo = mlc->boundaries_cm[std::size_t(i)], hi = mlc->boundaries_cm[std::size_t(i + 1)];
          const double scale = m.sad_cm / (m.sad_cm - c_b.z);  // magnify to the axis plane
          const double cx = c_b.x * scale, r = std::sqrt(r2) * scale;
          if (hi > cx - r && lo < cx + r) f = sp.open_fraction;
        }
        s.open_fraction.push_back(f);
      }
    }
  }
  if (sp.geometry == "FIXED_ANGLE") s.gantry_start_deg = 0;
  finish_helical_beam(b, {start.x, start.y, start.z}, sp.energy_mv);
  Plan p;
  p.label = sp.label.substr(0, 16);
  p.name = sp.label;
  p.fractions_planned = sp.fractions;
  p.beams.push_back(std::move(b));
  return p;
}

}  // namespace sabre::beams
