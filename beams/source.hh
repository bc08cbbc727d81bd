// Simple particle sources, sampled on host and device: a point source emitting into a
// rectangular field, or a parallel beam with a rectangular cross section; monoenergetic
// or with a histogram spectrum. The machine sources (beams/linac_source.hh,
// beams/phsp_source.hh) plug into the same transport loop; the list of all source kinds is
// beams/source_kinds.hh.
//
// Geometry (cm, phantom frame):
//   - the field plane is perpendicular to `axis` at `field_centre_cm`; the field is the
//     rectangle u in [u_min, u_max], v in [v_min, v_max] along `u_dir`, `v_dir` (unit,
//     orthogonal to axis and to each other) in that plane;
//   - point: particles start at `position_cm` and aim at a point drawn uniformly (per
//     unit area) in the field rectangle: fluence uniform over the field plane, as
//     DOSXYZnrc's source 3;
//   - parallel: particles start on the field plane at a uniform point of the rectangle,
//     moving along `axis`.
// Energy: a histogram spectrum (bin chosen from the cumulative table by binary search,
// energy uniform within the bin, as EGSnrc samples its .spectrum files in histogram
// mode), or `mono_energy_mev` when the spectrum has no bins. Random numbers: 2 for the
// position, 2 for the energy (0 if mono); fixed count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"

namespace sabre::beams {

// Histogram spectrum: n_bins bins with edges edges_mev[0..n_bins] and cumulative
// probabilities cdf[0..n_bins] (cdf[0] = 0, cdf[n_bins] = 1). Owns nothing.
struct SpectrumView {
  int n_bins = 0;
  const double* edges_mev = nullptr;
  const double* cdf = nullptr;

  SABRE_HD double sample(phys::Rng& rng) const {
    const double u = rng.uniform();
    int lo = 0, hi = n_bins;  // find b with cdf[b] <= u < cdf[b+1]
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      if (cdf[mid] <= u) lo = mid;
      else hi = mid;
    }
    return edges_mev[lo] + (edges_mev[lo + 1] - edges_mev[lo]) * rng.uniform();
  }
};

enum class SourceShape : int { point = 0, parallel = 1 };

struct SimpleSource {
  static constexpr const char* kKindName = "simple source";
  phys::ParticleType particle = phys::ParticleType::photon;
  SourceShape shape = SourceShape::point;
  phys::Vec3 position_cm;               // point source position
  phys::Vec3 axis{0, 0, 1};             // beam direction (unit)
  phys::Vec3 field_centre_cm;           // centre of the field plane
  phys::Vec3 u_dir{1, 0, 0}, v_dir{0, 1, 0};
  double u_min_cm = -5, u_max_cm = 5, v_min_cm = -5, v_max_cm = 5;
  double mono_energy_mev = 1;
  SpectrumView spectrum;                // used when n_bins > 0

  SABRE_HD phys::Particle sample(phys::Rng& rng) const {
    phys::Particle p;
    p.type = particle;
    const double a = u_min_cm + (u_max_cm - u_min_cm) * rng.uniform();
    const double b = v_min_cm + (v_max_cm - v_min_cm) * rng.uniform();
    const phys::Vec3 target = field_centre_cm + a * u_dir + b * v_dir;
    if (shape == SourceShape::point) {
      p.pos_cm = position_cm;
      p.dir = phys::normalized(target - position_cm);
    } else {
      p.pos_cm = target;
      p.dir = axis;
    }
    p.energy_mev = spectrum.n_bins > 0 ? spectrum.sample(rng) : mono_energy_mev;
    p.weight = 1;
    return p;
  }

  // A copy whose arrays live where `copy` puts them (kernels/params_relocation.hh).
  template <class Copier>
  SimpleSource relocated(Copier& c) const {
    SimpleSource s = *this;
    if (spectrum.n_bins > 0) {
      s.spectrum.edges_mev = c.copy(spectrum.edges_mev, std::size_t(spectrum.n_bins) + 1);
      s.spectrum.cdf = c.copy(spectrum.cdf, std::size_t(spectrum.n_bins) + 1);
    }
    return s;
  }
};

}  // namespace sabre::beams
