#include "beams/phsp_source.hh"

#include "beams/iaea_phsp.hh"
#include "core/errors.hh"

namespace sabre::beams {

std::vector<PhspParticle> load_phsp_particles(const std::string& path, bool z_toward_iso, std::int64_t* skipped) {
  IaeaReader rd(path);
  std::vector<PhspParticle> out;
  out.reserve(std::size_t(rd.header().particles));
  std::int64_t skip = 0;
  PhspRecord r;
  while (rd.next(r)) {
    phys::ParticleType t;
    if (r.type == IaeaParticle::photon) t = phys::ParticleType::photon;
    else if (r.type == IaeaParticle::electron) t = phys::ParticleType::electron;
    else if (r.type == IaeaParticle::positron) t = phys::ParticleType::positron;
    else { ++skip; continue; }
    const double s = z_toward_iso ? 1 : -1;
    out.push_back({float(r.x_cm), float(r.y_cm), float(s * r.z_cm), float(r.u), float(r.v), float(s * r.w),
                   float(r.energy_mev), float(r.weight), std::int32_t(t)});
  }
  if (out.empty()) throw InputError(path, "no photons, electrons or positrons in the phase space");
  if (skipped) *skipped = skip;
  return out;
}

}  // namespace sabre::beams
