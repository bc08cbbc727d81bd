// sabre plan: read (show) and generate (static, step-and-shoot, sliding-window, arc) DICOM
// RT Plans for a machine model. Thin: parses options, calls engine/io/rtplan (DICOM) and
// beams/plan_builder (the beams, from the machine file's devices).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "beams/machine.hh"
#include "beams/machine_select.hh"
#include "beams/plan_builder.hh"
#include "beams/robotic_plan.hh"
#include "beams/tomo_plan.hh"
#include "cli/registry.hh"
#include "core/errors.hh"
#include "core/output_file.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/rtplan.hh"
#include "engine/io/rtstruct.hh"
#include "engine/plan_dose.hh"

namespace sabre::cli {
namespace {

using nlohmann::json;

std::vector<beams::Machine> load_machines(const std::string& dir) {
  std::vector<beams::Machine> out;
  for (const auto& f : beams::machine_files(dir)) out.push_back(beams::load_machine(f));
  return out;
}

json plan_json(const beams::Plan& p, const std::vector<beams::Machine>& machines) {
  json j;
  j["file"] = p.path;
  j["label"] = p.label;
  j["name"] = p.name;
  j["sop_instance_uid"] = p.sop_instance_uid;
  j["frame_of_reference_uid"] = p.frame_of_reference_uid;
  j["patient_id"] = p.patient_id;
  j["structure_set_uid"] = p.structure_set_uid;
  j["fractions_planned"] = p.fractions_planned;
  j["skipped"] = p.skipped;
  j["beams"] = json::array();
  for (const auto& b : p.beams) {
    json jb;
    jb["number"] = b.number;
    jb["name"] = b.name;
    jb["machine_name"] = b.machine_name;
    jb["type"] = b.type;
    jb["delivery"] = b.delivery;
    jb["sad_mm"] = b.sad_mm;
    jb["fff"] = b.fff;
    jb["fluence_mode_id"] = b.fluence_mode_id;
    jb["mu"] = b.mu;
    jb["final_weight"] = b.final_weight;
    jb["patient_position"] = b.patient_position;
    // A robotic node of a native plan: its source; its target is the control points' iso.
    jb["source_mm"] = b.node ? json(b.source_mm) : json(nullptr);
    jb["roll_deg"] = b.roll_deg;
    try {
      const auto choice = beams::select_machine(b, machines, p.path);
      jb["machine_model"] = choice.machine->name;
      jb["machine_beam"] = choice.beam->name;
    } catch (const InputError& e) {
      jb["machine_model"] = nullptr;
      jb["machine_error"] = e.what();
    }
    jb["devices"] = json::array();
    for (const auto& d : b.devices)
      jb["devices"].push_back({{"type", d.type}, {"pairs", d.pairs}, {"boundaries_mm", d.boundaries_mm}});
    jb["applicator"] = b.has_applicator ? json{{"id", b.applicator.id},
                                               {"type", b.applicator.type},
                                               {"aperture_shape", b.applicator.aperture_shape},
                                               {"opening_mm", b.applicator.opening_mm}}
                                        : json(nullptr);
    if (b.helical) {
      const beams::Sinogram& s = b.sinogram;
      jb["sinogram"] = {{"geometry", s.geometry},
                        {"n_projections", s.n_projections()},
                        {"n_leaves", s.n_leaves},
                        {"projection_time_s", s.projection_time_s},
                        {"jaw_width_mm", s.jaw_width_mm},
                        {"jaw_offset_mm", s.jaw_offset_mm},
                        {"gantry_start_deg", s.gantry_start_deg},
                        {"projections_per_rotation", s.projections_per_rotation},
                        {"fixed_gantry_deg", s.fixed_gantry_deg},
                        {"couch_mm_per_projection", s.couch_mm_per_projection},
                        {"leaf_latency", s.leaf_latency},
                        {"open_fraction", s.open_fraction}};
    } else {
      jb["sinogram"] = nullptr;
    }
    jb["control_points"] = json::array();
    for (const auto& c : b.control_points) {
      json jc{{"index", c.index},
              {"cumulative_weight", c.cumulative_weight},
              {"energy_mv", c.energy_mv},
              {"gantry_deg", c.gantry_deg},
              {"gantry_direction", c.gantry_direction},
              {"collimator_deg", c.collimator_deg},
              {"couch_deg", c.couch_deg},
              {"table_pitch_deg", c.table_pitch_deg},
              {"table_roll_deg", c.table_roll_deg},
              {"iso_mm", c.iso_mm}};
      jc["positions_mm"] = json::object();
      for (const auto& [type, v] : c.positions_mm) jc["positions_mm"][type] = v;
      jb["control_points"].push_back(jc);
    }
    j["beams"].push_back(jb);
  }
  return j;
}

void show(const std::string& file, bool as_json, const std::string& machine_dir) {
  const beams::Plan p = io::read_plan(file);
  const auto machines = load_machines(machine_dir.empty() ? default_machine_dir() : machine_dir);
  const json j = plan_json(p, machines);
  if (as_json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << (!beams::is_robotic_plan_path(p.path) ? "RT Plan "
                : beams::is_tomo_plan_file(p.path) ? "Tomotherapy plan " : "Robotic plan ") << p.label << " (" << p.path << "), " << p.beams.size() << " treatment beam(s)";
  if (!p.skipped.empty()) std::cout << ", skipped: " << p.skipped.size();
  std::cout << "\n";
  for (const auto& jb : j["beams"]) {
    const auto& c0 = jb["control_points"][0];
    std::cout << "  beam " << jb["number"] << " '" << jb["name"].get<std::string>() << "': "
              << jb["machine_name"].get<std::string>() << ", " << c0["energy_mv"].get<double>() << " MV"
              << (jb["fff"].get<bool>() ? " FFF" : "") << ", " << jb["type"].get<std::string>() << ", "
              << jb["mu"].get<double>() << " MU, " << jb["control_points"].size() << " control points, ";
    if (!jb["source_mm"].is_null())
      std::cout << "source (" << jb["source_mm"][0].get<double>() << ", " << jb["source_mm"][1].get<double>() << ", "
                << jb["source_mm"][2].get<double>() << ") mm, target (";
    else
      std::cout << "gantry " << c0["gantry_deg"].get<double>() << " deg, iso (";
    std::cout << c0["iso_mm"][0].get<double>() << ", " << c0["iso_mm"][1].get<double>() << ", "
              << c0["iso_mm"][2].get<double>() << ") mm";
    if (!jb["applicator"].is_null()) std::cout << ", " << jb["applicator"]["id"].get<std::string>();
    if (!jb["sinogram"].is_null()) {
      const auto& s = jb["sinogram"];
      std::cout << ", " << s["geometry"].get<std::string>() << " sinogram of " << s["n_projections"].get<int>()
                << " projections x " << s["n_leaves"].get<int>() << " leaves, " << s["projection_time_s"].get<double>()
                << " s each, jaws " << s["jaw_width_mm"].get<double>() << " mm, couch "
                << s["couch_mm_per_projection"].get<double>() << " mm per projection";
    }
    std::cout << ", model "
              << (jb["machine_model"].is_null() ? std::string("none") : jb["machine_model"].get<std::string>())
              << "\n";
  }
  for (const auto& s : p.skipped) std::cout << "  skipped " << s << "\n";
}

// Options shared by the generators.
struct GenOptions {
  std::string out;
  std::string machine = "truebeam-hd120";  // machine file stem
  std::string beam = "6X-FFF";
  std::string machine_name;                // TreatmentMachineName (default: first match_names entry)
  std::string ct, rtstruct;
  std::vector<double> field{10, 10};       // cm at isocentre (x along leaves, y)
  std::vector<double> iso{0, 0, 0};        // mm
  std::vector<double> iso2;                // mm: a second isocentre (a second beam)
  double mu = 100, gantry = 0, collimator = 0, couch = 0;
  std::string position = "HFS";
  // generator-specific
  int segments = 3;
  double gap_mm = 10;
  int control_points = 0;
  double start = 181, stop = 179;
  std::string direction = "CW";
  double modulation = 0;
  bool return_arc = false;             // arc: a second arc back (stop -> start) at each isocentre
  double return_collimator = -1;       // its collimator angle [deg]; < 0: 360 - collimator
  int fractions = 1;                   // NumberOfFractionsPlanned (MU are per fraction)
  double cone_mm = 0;                  // a cone (applicator) of this diameter at isocentre
};

void add_common(CLI::App& s, GenOptions& o) {
  s.add_option("-o,--output", o.out, "RT Plan file to write")->required();
  s.add_option("--machine", o.machine, "Machine file stem in the machines directory (truebeam-hd120, truebeam-millennium120)");
  s.add_option("--beam", o.beam, "Beam of the machine file (6X-FFF, 10X-FFF)");
  s.add_option("--machine-name", o.machine_name, "TreatmentMachineName to write (default: from the machine file)");
  s.add_option("--ct", o.ct, "CT series (directory) whose patient, study and FrameOfReferenceUID the plan references");
  s.add_option("--rtstruct", o.rtstruct, "RT Structure Set the plan references");
  s.add_option("--field", o.field, "Field size X Y at isocentre [cm]")->expected(2);
  s.add_option("--iso", o.iso, "Isocentre x y z (DICOM patient) [mm]")->expected(3);
  s.add_option("--iso2", o.iso2, "A second isocentre x y z [mm]: adds a second beam there")->expected(3);
  s.add_option("--mu", o.mu, "MU per beam");
  s.add_option("--gantry", o.gantry, "Gantry angle [deg]");
  s.add_option("--collimator", o.collimator, "Collimator angle [deg]");
  s.add_option("--couch", o.couch, "Couch (patient support) angle [deg]");
  s.add_option("--position", o.position, "Patient position: HFS, HFP, FFS, FFP");
  s.add_option("--fractions", o.fractions, "Number of fractions planned (MU are per fraction; default 1)");
  s.add_option("--cone", o.cone_mm, "A cone of the machine as the beams' applicator: diameter at isocentre [mm]");
}

void generate(const std::string& kind, const GenOptions& o) {
  check_output_paths({o.out});
  std::string mfile;
  try {
    mfile = machine_file(o.machine);
  } catch (const InputError&) {
    throw UsageError("--machine " + o.machine + ": no machine file " + default_machine_dir() + "/" + o.machine +
                     ".toml");
  }
  const beams::Machine m = beams::load_machine(mfile);
  const beams::BeamModel* bm = m.beam_named(o.beam);
  if (!bm) throw UsageError("--beam " + o.beam + ": not a beam of " + mfile);
  if (o.position != "HFS" && o.position != "HFP" && o.position != "FFS" && o.position != "FFP")
    throw UsageError("--position must be HFS, HFP, FFS or FFP");
  if (o.field.size() != 2 || !(o.field[0] > 0) || !(o.field[1] > 0))
    throw UsageError("--field needs two sizes > 0 cm");

  beams::Plan plan;
  plan.label = kind.substr(0, 16);
  plan.name = "sabre " + kind + " " + m.name + " " + bm->name;
  if (o.fractions < 1) throw UsageError("--fractions must be >= 1");
  plan.fractions_planned = o.fractions;
  if (!o.ct.empty()) {
    const auto ct = io::read_ct_series(o.ct);
    plan.frame_of_reference_uid = ct.ids.frame_of_reference_uid;
    plan.study_instance_uid = ct.ids.study_instance_uid;
    plan.patient_id = ct.ids.patient_id;
    plan.patient_name = ct.ids.patient_name;
  }
  if (!o.rtstruct.empty()) {
    const io::StructureSet rs = io::read_rtstruct(o.rtstruct);
    plan.structure_set_uid = rs.sop_instance_uid;
    const std::string& foruid = rs.frame_of_reference_uid;
    if (plan.frame_of_reference_uid.empty()) plan.frame_of_reference_uid = foruid;
    else if (!foruid.empty() && plan.frame_of_reference_uid != foruid)
      throw InputError(o.rtstruct, "its FrameOfReferenceUID differs from the CT's");
  }

  beams::FieldSpec f = beams::field_for(m, *bm);
  if (!o.machine_name.empty()) f.machine_name = o.machine_name;
  f.mu = o.mu;
  f.cone_mm = o.cone_mm;
  f.x1_mm = -5 * o.field[0];
  f.x2_mm = 5 * o.field[0];
  f.y1_mm = -5 * o.field[1];
  f.y2_mm = 5 * o.field[1];
  f.gantry_deg = o.gantry;
  f.collimator_deg = o.collimator;
  f.couch_deg = o.couch;
  f.patient_position = o.position;

  std::vector<std::array<double, 3>> isos{{o.iso[0], o.iso[1], o.iso[2]}};
  if (o.iso2.size() == 3) isos.push_back({o.iso2[0], o.iso2[1], o.iso2[2]});
  int number = 1;
  for (const auto& iso : isos) {
    f.iso_mm = iso;
    const std::string nm = kind + " " + std::to_string(number);
    beams::Beam b;
    if (kind == "static") b = beams::make_static_beam(f, number, nm);
    else if (kind == "step-and-shoot") b = beams::make_step_and_shoot_beam(f, o.segments, number, nm);
    else if (kind == "sliding-window")
      b = beams::make_sliding_window_beam(f, o.gap_mm, o.control_points > 0 ? o.control_points : 41, number, nm);
    else
      b = beams::make_arc_beam(f, o.start, o.stop, o.direction, o.control_points > 0 ? o.control_points : 91,
                               o.modulation, number, nm);
    plan.beams.push_back(b);
    ++number;
    if (kind == "arc" && o.return_arc) {
      // Back from stop to start in the other direction, collimator mirrored by default.
      beams::FieldSpec r = f;
      r.collimator_deg = o.return_collimator >= 0 ? o.return_collimator : std::fmod(360 - o.collimator, 360.0);
      const std::string back = o.direction == "CW" ? "CC" : o.direction == "CC" ? "CW" : o.direction;
      plan.beams.push_back(beams::make_arc_beam(r, o.stop, o.start, back, o.control_points > 0 ? o.control_points : 91,
                                                o.modulation, number, kind + " " + std::to_string(number)));
      ++number;
    }
  }
  io::write_rtplan(plan, o.out);
  std::cout << "wrote " << o.out << ": " << plan.beams.size() << " beam(s), " << kind << ", " << m.name << " "
            << bm->name << ", " << o.mu << " MU each\n";
}

// The checks every native-plan generator makes: the output a .toml that may be written, the
// machine file `stem` with beam `beam`, fractions >= 1. UsageError otherwise.
beams::Machine native_plan_machine(const std::string& out, const std::string& what, const std::string& doc,
                                   const std::string& stem, const std::string& beam, int fractions) {
  if (!beams::is_robotic_plan_path(out))
    throw UsageError("-o " + out + ": " + what + " is written in sabre's native form, a .toml file (" + doc + ")");
  check_output_paths({out});
  std::string mfile;
  try {
    mfile = machine_file(stem);
  } catch (const InputError&) {
    throw UsageError("--machine " + stem + ": no machine file " + default_machine_dir() + "/" + stem + ".toml");
  }
  beams::Machine m = beams::load_machine(mfile);
  if (!m.beam_named(beam)) throw UsageError("--beam " + beam + ": not a beam of " + mfile);
  if (fractions < 1) throw UsageError("--fractions must be >= 1");
  return m;
}

struct CyberKnifeOptions {
  std::string out;
  std::string machine = "cyberknife-m6";
  std::string beam = "6X-FFF";
  std::string machine_name;
  std::string ct;
  std::string label = "sabre cyberknife";
  std::vector<double> target{0, 0, 0};
  std::vector<double> toward{0, -1, 0};
  int nodes = 100;
  double distance = 800, max_angle = 70, size = 10, mu = 50;
  std::string collimator = "cone";
  int fractions = 1;
};

// A native plan's frame of reference and patient from the CT series at `ct_dir`.
void take_ct_ids(beams::Plan& plan, const std::string& ct_dir) {
  const auto ct = io::read_ct_series(ct_dir);
  plan.frame_of_reference_uid = ct.ids.frame_of_reference_uid;
  plan.patient_id = ct.ids.patient_id;
}

void generate_cyberknife(const CyberKnifeOptions& o) {
  const beams::Machine m = native_plan_machine(o.out, "a robotic plan", "docs/robotic-plans.md", o.machine, o.beam,
                                              o.fractions);
  const beams::BeamModel* bm = m.beam_named(o.beam);
  beams::RoboticPlanSpec s;
  s.label = o.label;
  s.machine_name = o.machine_name;
  s.energy_mv = bm->energy_mv;
  s.fff = bm->fff;
  s.target_mm = {o.target[0], o.target[1], o.target[2]};
  s.toward = {o.toward[0], o.toward[1], o.toward[2]};
  s.nodes = o.nodes;
  s.distance_mm = o.distance;
  s.max_angle_deg = o.max_angle;
  s.collimator = o.collimator;
  s.size_mm = o.size;
  s.mu = o.mu;
  s.fractions = o.fractions;
  beams::Plan plan = beams::make_robotic_plan(m, s);
  if (!o.ct.empty()) take_ct_ids(plan, o.ct);
  beams::write_robotic_plan(plan, o.out);
  std::cout << "wrote " << o.out << ": " << plan.beams.size() << " nodes, " << o.collimator
            << (o.collimator == "mlc" ? " square " : " ") << o.size << " mm, " << m.name << " " << bm->name << ", "
            << o.mu << " MU each\n";
}

struct TomoOptions {
  std::string out;
  std::string machine = "tomotherapy";
  std::string beam = "6X-FFF";
  std::string machine_name, ct, label = "sabre tomo";
  std::string geometry = "HELICAL";
  std::vector<double> angles;
  std::vector<double> target{0, 0, 0};
  double radius = 0, length = 0, jaw = 25, pitch = 0.287, projection_time = 0.3, open_fraction = 1;
  bool latency = false;
  int fractions = 1;
  std::string position = "HFS";
};

void generate_tomo(const TomoOptions& o) {
  const beams::Machine m = native_plan_machine(o.out, "a tomotherapy plan", "docs/tomo-plans.md", o.machine, o.beam,
                                              o.fractions);
  const beams::BeamModel* bm = m.beam_named(o.beam);
  if (o.position != "HFS" && o.position != "HFP" && o.position != "FFS" && o.position != "FFP")
    throw UsageError("--position must be HFS, HFP, FFS or FFP");
  beams::TomoPlanSpec s;
  s.label = o.label;
  s.machine_name = o.machine_name;
  s.energy_mv = bm->energy_mv;
  s.geometry = o.geometry;
  s.fixed_angles = o.angles;
  s.target_mm = {o.target[0], o.target[1], o.target[2]};
  s.radius_mm = o.radius;
  s.length_mm = o.length;
  s.jaw_width_mm = o.jaw;
  s.pitch = o.pitch;
  s.projection_time_s = o.projection_time;
  s.open_fraction = o.open_fraction;
  s.leaf_latency = o.latency;
  s.fractions = o.fractions;
  s.patient_position = o.position;
  beams::Plan plan = beams::make_tomo_plan(m, s);
  if (!o.ct.empty()) take_ct_ids(plan, o.ct);
  beams::write_tomo_plan(plan, o.out);
  const auto& sg = plan.beams.front().sinogram;
  std::cout << "wrote " << o.out << ": " << sg.n_projections() << " projections (" << o.geometry << "), jaw "
            << o.jaw << " mm, pitch " << o.pitch << ", " << plan.beams.front().mu << " s beam-on, " << m.name << "\n";
}

const bool registered = register_command(
    "plan", "Show a DICOM RT Plan or native robotic plan, or generate static / step-and-shoot / sliding-window / arc plans or a CyberKnife plan",
    [](CLI::App& sub) {
      sub.require_subcommand(1);
      {
        auto* s = sub.add_subcommand("show", "Print the beams and control points of an RT Plan");
        auto file = std::make_shared<std::string>();
        auto as_json = std::make_shared<bool>(false);
        auto mdir = std::make_shared<std::string>();
        s->add_option("file", *file, "RT Plan file")->required();
        s->add_flag("--json", *as_json, "Print the parsed plan as one JSON object");
        s->add_option("--machines", *mdir, "Machine files directory (default: the data directory's beams/machines)");
        s->callback([=] { show(*file, *as_json, *mdir); });
      }
      for (const std::string kind : {"static", "step-and-shoot", "sliding-window", "arc"}) {
        auto* s = sub.add_subcommand(kind, "Write a " + kind + " RT Plan");
        auto o = std::make_shared<GenOptions>();
        add_common(*s, *o);
        if (kind == "step-and-shoot") s->add_option("--segments", o->segments, "Number of nested segments");
        if (kind == "sliding-window") {
          s->add_option("--gap", o->gap_mm, "Leaf gap [mm]");
          s->add_option("--control-points", o->control_points, "Control points (default 41)");
        }
        if (kind == "arc") {
          s->add_option("--start", o->start, "Start gantry angle [deg] (default 181)");
          s->add_option("--stop", o->stop, "Stop gantry angle [deg] (default 179)");
          s->add_option("--direction", o->direction, "CW, CC, or NONE (no gantry motion: start = stop)");
          s->add_option("--control-points", o->control_points, "Control points (default 91)");
          s->add_option("--modulation", o->modulation, "Aperture modulation in [0, 1) (0: fixed leaves)");
          s->add_flag("--return-arc", o->return_arc, "Add a second arc back (stop -> start, other direction) at each isocentre");
          s->add_option("--return-collimator", o->return_collimator, "Collimator of the return arc [deg] (default 360 - --collimator)");
        }
        s->callback([o, kind] { generate(kind, *o); });
      }
      {
        auto* s = sub.add_subcommand("cyberknife", "Write a robotic (CyberKnife) plan in the native form (.toml): "
                                                   "nodes on a cap of directions around a target");
        auto o = std::make_shared<CyberKnifeOptions>();
        s->add_option("-o,--output", o->out, "Plan file to write (.toml, docs/robotic-plans.md)")->required();
        s->add_option("--machine", o->machine, "Machine file stem (default cyberknife-m6)");
        s->add_option("--beam", o->beam, "Beam of the machine file (default 6X-FFF)");
        s->add_option("--machine-name", o->machine_name, "TreatmentMachineName to write (default: from the machine file)");
        s->add_option("--ct", o->ct, "CT series whose FrameOfReferenceUID and patient the plan references");
        s->add_option("--label", o->label, "Plan label");
        s->add_option("--target", o->target, "Target point x y z (DICOM patient) [mm]")->expected(3);
        s->add_option("--toward", o->toward, "Centre of the cap of source directions, a vector from the target "
                                              "(default 0 -1 0: anterior of a supine patient)")->expected(3);
        s->add_option("--nodes", o->nodes, "Number of nodes (default 100)");
        s->add_option("--distance", o->distance, "Source-to-target distance [mm] (default 800)");
        s->add_option("--max-angle", o->max_angle, "Largest angle of a node from --toward [deg] (default 70)");
        s->add_option("--collimator", o->collimator, "cone, iris or mlc (default cone)");
        s->add_option("--size", o->size, "Cone or Iris nominal diameter, or the MLC square's side, at 80 cm [mm] "
                                         "(default 10)");
        s->add_option("--mu", o->mu, "MU per node (default 50)");
        s->add_option("--fractions", o->fractions, "Number of fractions planned (MU are per fraction; default 1)");
        s->callback([o] { generate_cyberknife(*o); });
      }
      {
        auto* s = sub.add_subcommand("tomo", "Write a tomotherapy plan in the native form (.toml): a helical (or "
                                             "fixed-angle) sinogram over a spherical target, or all leaves open");
        auto o = std::make_shared<TomoOptions>();
        s->add_option("-o,--output", o->out, "Plan file to write (.toml, docs/tomo-plans.md)")->required();
        s->add_option("--machine", o->machine, "Machine file stem (default tomotherapy)");
        s->add_option("--beam", o->beam, "Beam of the machine file (default 6X-FFF)");
        s->add_option("--machine-name", o->machine_name, "TreatmentMachineName to write (default: from the machine file)");
        s->add_option("--ct", o->ct, "CT series whose FrameOfReferenceUID and patient the plan references");
        s->add_option("--label", o->label, "Plan label");
        s->add_option("--geometry", o->geometry, "HELICAL (default) or FIXED_ANGLE (TomoDirect)");
        s->add_option("--angles", o->angles, "FIXED_ANGLE: the gantry angles [deg], one couch pass each");
        s->add_option("--target", o->target, "Target centre x y z (DICOM patient) [mm]")->expected(3);
        s->add_option("--radius", o->radius, "Target sphere radius [mm]; 0 (default): every leaf open");
        s->add_option("--length", o->length, "Couch travel [mm] (default: the target's diameter + the jaw width)");
        s->add_option("--jaw", o->jaw, "Field width (jaws) at the axis [mm] (default 25)");
        s->add_option("--pitch", o->pitch, "Couch travel per rotation / field width (default 0.287)");
        s->add_option("--projection-time", o->projection_time, "Seconds per projection (default 0.3)");
        s->add_option("--open-fraction", o->open_fraction, "Open fraction of the open leaves (default 1)");
        s->add_flag("--leaf-latency", o->latency, "Apply the machine's leaf-latency model");
        s->add_option("--fractions", o->fractions, "Number of fractions planned (default 1)");
        s->add_option("--position", o->position, "Patient position: HFS, HFP, FFS, FFP");
        s->callback([o] { generate_tomo(*o); });
      }
    });

}  // namespace
}  // namespace sabre::cli
