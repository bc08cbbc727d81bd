#include "engine/plan_dose.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "beams/machine_select.hh"
#include "beams/robotic.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "engine/simulate_phantom.hh"
#include "physics/transport/phantom_derived.hh"

namespace sabre {
namespace fs = std::filesystem;

std::string default_machine_dir() { return build::data_dir() + "/beams/machines"; }

std::string machine_file(const std::string& machine) {
  std::string f = machine;
  if (f.find('/') == std::string::npos && f.find(".toml") == std::string::npos)
    f = default_machine_dir() + "/" + machine + ".toml";
  std::error_code ec;
  if (!fs::is_regular_file(f, ec)) throw InputError(f, "machine file not found (--machine " + machine + ")");
  return f;
}

const beams::BeamModel& PlanMachine::beam() const {
  for (const auto& b : machine.beams)
    if (b.name == beam_name) return b;
  throw std::logic_error("PlanMachine: beam " + beam_name + " not in " + file);
}

PlanMachine choose_machine(const beams::Plan& plan, const std::string& machine,
                           const std::string& plan_path) {
  if (plan.beams.empty()) throw InputError(plan_path, "no treatment beams");
  std::vector<std::string> files;
  if (machine.empty()) {
    files = beams::machine_files(default_machine_dir());
    if (files.empty()) throw RuntimeError("no machine files in " + default_machine_dir());
  } else {
    files = {machine_file(machine)};
  }
  std::vector<beams::Machine> machines;
  for (const auto& f : files) machines.push_back(beams::load_machine(f));
  const beams::Machine* chosen = nullptr;
  const beams::BeamModel* beam = nullptr;
  for (const auto& b : plan.beams) {
    const beams::MachineChoice c = beams::select_machine(b, machines, plan_path);
    if (chosen && (c.machine != chosen || c.beam != beam))
      throw InputError(plan_path, "beam " + std::to_string(b.number) + " needs " + c.machine->name + " " +
                                      c.beam->name + " but an earlier beam " + chosen->name + " " + beam->name +
                                      ": one machine and beam model per run");
    chosen = c.machine;
    beam = c.beam;
  }
  PlanMachine out;
  out.machine = *chosen;
  out.beam_name = beam->name;
  out.file = chosen->path.empty() ? files[std::size_t(chosen - machines.data())] : chosen->path;
  return out;
}

void prepare_transport(TransportSetup& s, const Phantom& phantom,
                       std::unique_ptr<phys::MaterialTables> tables) {
  s.tables = std::move(tables);
  s.tp.phantom = phantom.view();
  s.tp.materials = s.tables->data();
  phys::use_phantom_derived_data(s.tp, s.derived);
}

void prepare_transport(TransportSetup& s, const Phantom& phantom, const std::string& tables_path) {
  prepare_transport(s, phantom,
                    std::make_unique<phys::MaterialTables>(tables_path.empty() ? default_tables_path() : tables_path));
}

Phantom water_box(const std::array<double, 3>& size_cm, const std::array<double, 3>& voxel_cm,
                  const std::array<double, 3>& iso_cm, double surface_y_cm,
                  const phys::MaterialTables& tables) {
  Phantom p;
  auto& g = p.grid;
  g.nx = int(std::lround(size_cm[0] / voxel_cm[0]));
  g.ny = int(std::lround(size_cm[1] / voxel_cm[1]));
  g.nz = int(std::lround(size_cm[2] / voxel_cm[2]));
  if (g.nx < 1 || g.ny < 1 || g.nz < 1) throw UsageError("water box: --size must hold at least one --voxel");
  g.spacing_cm = {voxel_cm[0], voxel_cm[1], voxel_cm[2]};
  g.origin_cm = {iso_cm[0] - 0.5 * g.nx * voxel_cm[0], surface_y_cm, iso_cm[2] - 0.5 * g.nz * voxel_cm[2]};
  p.material.assign(g.size(), 0);
  p.material_names = {"water"};
  p.resolve_materials(tables.names(), "(water box)");
  const int water = p.material.empty() ? 0 : p.material[0];
  p.density_g_cm3.assign(g.size(), float(tables.density_g_cm3(water)));
  return p;
}

void check_nodes_outside_patient(const beams::Plan& plan, const beams::Machine& m, const Phantom& ph,
                                 const std::string& plan_path) {
  if (m.kind != beams::DeliveryKind::robotic) return;
  double bottom = 0;
  for (const auto& c : m.collimators) bottom = std::max(bottom, c.bottom_cm());
  for (const auto& b : plan.beams) {
    const std::string where = plan_path + ": beam " + std::to_string(b.number) + " '" + b.name + "'";
    const beams::NodeFrame f = beams::node_frame(m, b, where);
    const phys::Vec3 a = f.rot * phys::Vec3{0, 0, 1};  // toward the source
    for (double s = 0; s <= bottom + 1e-9; s += 0.2) {
      const phys::Vec3 p{f.source_cm.x - s * a.x, f.source_cm.y - s * a.y, f.source_cm.z - s * a.z};
      int i, j, k;
      if (!ph.grid.locate(p, i, j, k)) continue;
      const float rho = ph.density_g_cm3[std::size_t(ph.grid.index(i, j, k))];
      if (rho > 0.05f) {
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      ": its %s lies inside the patient (%.3g g/cm3 at (%.1f, %.1f, %.1f) mm, %.1f cm below the source)",
                      s == 0 ? "source" : "collimator", double(rho), 10 * p.x, 10 * p.y, 10 * p.z, s);
        throw InputError(where + buf);
      }
    }
  }
}

}  // namespace sabre
