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
//   - point: particles start at `position_cm` and aim at a point of the field rectangle,
//     drawn in one of two conventions (`point_sampling`):
//       area         uniform per unit area of the field plane (the default): the planar
//                    fluence is the same everywhere in the field, 1/A per history;
//       solid_angle  uniform per unit solid angle, as DOSXYZnrc's source 3 (a point drawn
//                    per area is kept with probability cos^3(theta), theta the angle between
//                    its direction and `axis`, else drawn again): the planar fluence falls
//                    off as cos^3(theta), and on the axis it is 1 / (d^2 Omega) per history,
//                    Omega the solid angle of the field seen from the source at distance d
//                    (0.25 % above 1/A for 10 x 10 cm^2 at 100 cm);
//   - parallel: particles start on the field plane at a uniform point of the rectangle,
//     moving along `axis`.
// Energy: a histogram spectrum (bin chosen from the cumulative table by binary search,
// energy uniform within the bin, as EGSnrc samples its .spectrum files in histogram
// mode), or `mono_energy_mev` when the spectrum has no bins. Random numbers: 2 for the
// position (3 per try with solid_angle: on average 3 / <cos^3 theta> over the field), 2 for
// the energy (0 if mono).
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
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
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
enum class PointSampling : int { area = 0, solid_angle = 1 };

struct SimpleSource {
  static constexpr const char* kKindName = "simple source";
  phys::ParticleType particle = phys::ParticleType::photon;
  std::uint8_t padding_[3] = {};  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  SourceShape shape = SourceShape::point;
  phys::Vec3 position_cm;               // point source position
  PointSampling point_sampling = PointSampling::area;
  std::int32_t padding2_ = 0;  // explicit, as padding_
  phys::Vec3 axis{0, 0, 1};             // beam direction (unit)
  phys::Vec3 field_centre_cm;           // centre of the field plane
  phys::Vec3 u_dir{1, 0, 0}, v_dir{0, 1, 0};
  double u_min_cm = -5, u_max_cm = 5, v_min_cm = -5, v_max_cm = 5;
  double mono_energy_mev = 1;
  SpectrumView spectrum;                // used when n_bins > 0

  SABRE_HD phys::Particle sample(phys::Rng& rng) const {
    phys::Particle p;
    p.type = particle;
    const bool per_solid_angle = shape == SourceShape::point && point_sampling == PointSampling::solid_angle;
    for (;;) {
      const double a = u_min_cm + (u_max_cm - u_min_cm) * rng.uniform();
      const double b = v_min_cm + (v_max_cm - v_min_cm) * rng.uniform();
      p.pos_cm = field_centre_cm + a * u_dir + b * v_dir;
      if (shape != SourceShape::point) break;
      p.dir = phys::normalized(p.pos_cm - position_cm);
      if (!per_solid_angle) break;
      // Accept with probability cos^3: the density per area becomes proportional to
      // cos^3 = d^2 dOmega/dA, i.e. uniform per solid angle.
      const double c = phys::dot(p.dir, axis);
      if (rng.uniform() < c * c * c) break;
    }
    if (shape == SourceShape::point) {
      p.pos_cm = position_cm;
    } else {
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
