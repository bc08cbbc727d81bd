#include "beams/machine_select.hh"

#include <cmath>
#include <sstream>

#include "core/errors.hh"
#include "beams/robotic.hh"

namespace sabre::beams {

namespace {

std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

std::string mismatch(const Beam& beam_in, const Machine& m) {
  // A robotic machine reads its MLCX also from an MLCY encoding (beams/robotic.hh).
  const Beam beam = reads_mlcy_as_mlcx(m, beam_in) ? mlcy_as_mlcx(beam_in) : beam_in;
  const double energy = beam.control_points.empty() ? 0 : beam.control_points.front().energy_mv;
  if (!m.matches_name(beam.machine_name)) return "machine name does not match";
  if (!m.find_beam(energy, beam.fff)) return "no " + num(energy) + " MV" + (beam.fff ? " FFF" : "") + " beam";
  if (beam.helical != (m.kind == DeliveryKind::helical))
    return beam.helical ? "not a tomotherapy machine (the plan is a sinogram)"
                        : "a tomotherapy machine delivers sinogram plans only";
  // A robotic machine's nodes each have their own source-target distance; a native sinogram
  // plan carries none (sad_mm 0), a DICOM one may.
  if ((m.kind == DeliveryKind::c_arm || (m.kind == DeliveryKind::helical && beam.sad_mm > 0)) &&
      std::abs(beam.sad_mm - 10 * m.sad_cm) > 0.1)
    return "source-axis distance " + num(10 * m.sad_cm) + " mm, plan has " + num(beam.sad_mm) + " mm";
  for (const auto& d : beam.devices) {
    if (m.ignores(d.type)) continue;
    const CollimatorSpec* c = m.serving(d.type);
    if (!c) return "no device " + d.type;
    if (c->kind != CollimatorKind::mlc) continue;
    if (d.pairs != c->pairs())
      return "MLC " + c->model + " has " + std::to_string(c->pairs()) + " leaf pairs, plan " +
             std::to_string(d.pairs);
    for (std::size_t k = 0; k < d.boundaries_mm.size(); ++k)
      if (std::abs(d.boundaries_mm[k] / 10 - c->boundaries_cm[k]) > 1e-3)
        return "MLC " + c->model + " leaf boundary " + std::to_string(k) + " at " + num(10 * c->boundaries_cm[k]) +
               " mm, plan has " + num(d.boundaries_mm[k]) + " mm";
  }
  if (beam.has_applicator) {
    const ApplicatorChoice c = choose_applicator(m, beam);
    if (!c.why.empty()) return c.why;
  }
  return "";
}

MachineChoice select_machine(const Beam& beam, const std::vector<Machine>& machines,
                             const std::string& plan_path) {
  const double energy = beam.control_points.empty() ? 0 : beam.control_points.front().energy_mv;
  std::ostringstream tried;
  for (const auto& mach : machines) {
    const std::string why = mismatch(beam, mach);
    if (why.empty()) return {&mach, mach.find_beam(energy, beam.fff)};
    tried << (tried.tellp() > 0 ? "; " : " ") << mach.name << " (" << mach.path << "): " << why;
  }
  throw InputError(plan_path + ": beam " + std::to_string(beam.number) + " '" + beam.name +
                   "': no machine model for TreatmentMachineName '" + beam.machine_name + "', " + num(energy) +
                   " MV" + (beam.fff ? " FFF" : " (flattened)") +
                   (machines.empty() ? std::string("; no machine files found") : ";" + tried.str()));
}

}  // namespace sabre::beams
