// Virtual source model sampling (after Fippel, Med Phys 30:301, 2003; parameters in the
// machine file, docs/machine-file.md): primary focal spot, extra-focal source, electron
// contamination, on-axis spectrum with off-axis softening, FFF radial fluence; with
// field-restricted sampling. Host and device; VsmView owns nothing (beams/plan_source.hh
// builds it from a BeamModel).
//
// Frame: the collimator frame of beams/collimator.hh (target at the origin, z down to the
// isocentre plane at z = SAD).
//
// Field-restricted sampling. For a sampled origin o, the target point t on the iso plane
// is drawn along x and y independently from the collimator stack's sampling windows
// (beams/collimator.hh, sampling_window): along an axis with a jaw pair, over the
// projection from o of the jaw opening at the top and bottom of the jaws (the larger of
// the two), widened by `margin_cm` on each side, with `margin_density` times the aims'
// density of the opening in the two margin bands (1: uniformly); along an axis without jaws (an
// Agility's x), over the largest field with most aims on the MLC's opening. The direction
// is (t - o)/|t - o|. Every ray that passes between the jaws reaches the jaw window
// without the margin; the margin keeps the jaw penumbra and a band of jaw transmission.
// NOT represented: photons crossing the jaws farther out than the margin (jaw transmission
// beyond it, ~0.1-0.5 % of the open fluence there), and anything beyond the largest field.
//
// Weights (unbiased for the planar fluence at the iso plane, in air, before collimation):
//   component c is chosen with probability w_c (w_c: its share of the on-axis fluence),
//   weight = A(t) x rel_c(t), with A(t) = 1 / (pdf_x(t_x) pdf_y(t_y)) (the window's area
//   when both are uniform) and rel_c the component's iso-plane fluence relative to its
//   axis: primary: fluence_rel(r_t) (the FFF radial profile, which already holds
//   inverse-square and obliquity); extra-focal and electrons (points above the plane at
//   height h = SAD - z_o): h^3 / |t - o|^3.
// Absolute scale cancels in the calibration (dose per MU from a reference run).
//
// Random numbers per call: 8, always (component, 2 for the Gaussian, tail choice, 2 for the
// target point, 2 for the energy).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "beams/collimator.hh"
#include "physics/core/constants.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"

namespace sabre::beams {

struct VsmView {
  double sad_cm = 100;
  // primary focal spot
  double sigma_x_cm = 0, sigma_y_cm = 0, tail_weight = 0, tail_sigma_cm = 0;
  // extra-focal source
  double ef_weight = 0, ef_z_cm = 10, ef_sigma_cm = 1, ef_energy_scale = 1;
  // electron contamination
  double e_weight = 0, e_mean_mev = 1, e_radius_cm = 0;
  // spectrum: histogram with edges [n_bins + 1] and cumulative probabilities [n_bins + 1]
  int n_bins = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  const double* edges_mev = nullptr;
  const double* cdf = nullptr;
  double softening_per_cm = 0;
  int n_fluence = 0;
  std::int32_t padding2_ = 0;  // explicit, as padding_
  const double* fluence_r_cm = nullptr;
  const double* fluence_rel = nullptr;
  // field restriction (the windows come from the collimator stack)
  double margin_cm = 0.5;  // at isocentre [cm]
  // Density of the aims in the margin relative to the opening (sampling_window's
  // margin_density; 1 = uniform over the widened window).
  double margin_density = 1;
  // Ring restriction of the primary photons' aims (ring_hi_cm <= 0: off): only aims on the
  // ring ring_lo_cm <= r_t <= ring_hi_cm of the iso plane and inside the windows count. The
  // target point is drawn uniformly over the smaller of (a) the ring (weight: its area; 0
  // where the point falls outside the windows) and (b) the windows' rectangle clipped to
  // the ring's bounding square (weight: that area; 0 off the ring). The choice depends on
  // the origin only, so either way the estimate is unbiased for the primary fluence times
  // the ring's indicator: for one hat function of the fluence table (commissioning's basis
  // doses, engine/commission/parts.hh), exactly its dose, without the histories that
  // sampling over the whole window spends at weight 0. Only the windows' extent (lo, hi)
  // is used, not their pdf. Extra-focal and electron aims unchanged.
  double ring_lo_cm = 0, ring_hi_cm = 0;

  // A copy whose arrays live where `copy` puts them (kernels/params_relocation.hh).
  template <class Copier>
  VsmView relocated(Copier& c) const {
    VsmView v = *this;
    if (n_bins > 0) {
      if (edges_mev) v.edges_mev = c.copy(edges_mev, std::size_t(n_bins) + 1);
      if (cdf) v.cdf = c.copy(cdf, std::size_t(n_bins) + 1);
    }
    if (n_fluence > 0) {
      if (fluence_r_cm) v.fluence_r_cm = c.copy(fluence_r_cm, std::size_t(n_fluence));
      if (fluence_rel) v.fluence_rel = c.copy(fluence_rel, std::size_t(n_fluence));
    }
    return v;
  }
};

enum class VsmComponent : int { primary = 0, extrafocal = 1, electron = 2 };

struct VsmSample {
  VsmComponent component = VsmComponent::primary;
  Vec3 origin_cm;       // collimator frame
  Vec3 dir;             // unit, dir.z > 0
  Vec3 target_cm;       // on the iso plane
  double energy_mev = 0;
  double weight = 0;    // A(t) x rel_c(t) [cm^2]
  double rect[4] = {0, 0, 0, 0};  // x_lo, x_hi, y_lo, y_hi of the sampling windows at isocentre [cm]
};

// Linear interpolation in a table, clamped to its ends.
SABRE_HD_INLINE double interp_clamped(const double* x, const double* y, int n, double v) {
  if (v <= x[0]) return y[0];
  if (v >= x[n - 1]) return y[n - 1];
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x[mid] <= v) lo = mid;
    else hi = mid;
  }
  return y[lo] + (y[lo + 1] - y[lo]) * (v - x[lo]) / (x[lo + 1] - x[lo]);
}

SABRE_HD_INLINE VsmSample vsm_sample(const VsmView& v, const CollimatorStack& st, const ApertureState& ap,
                                     phys::Rng& rng) {
  VsmSample out;
  const double u_comp = rng.uniform();
  const double u1 = rng.uniform(), u2 = rng.uniform();  // Box-Muller
  const double u_tail = rng.uniform();
  const double u_x = rng.uniform(), u_y = rng.uniform();
  const double u_e1 = rng.uniform(), u_e2 = rng.uniform();
  const double gr = std::sqrt(-2 * std::log(u1)), phi = phys::kTwoPi * u2;
  const double n1 = gr * std::cos(phi), n2 = gr * std::sin(phi);

  if (u_comp < v.e_weight) {
    out.component = VsmComponent::electron;
    // uniform on the disc: radius sqrt(u) R
    const double rr = v.e_radius_cm * std::sqrt(u1);
    out.origin_cm = {rr * std::cos(phi), rr * std::sin(phi), v.ef_z_cm};
  } else if (u_comp < v.e_weight + v.ef_weight) {
    out.component = VsmComponent::extrafocal;
    out.origin_cm = {v.ef_sigma_cm * n1, v.ef_sigma_cm * n2, v.ef_z_cm};
  } else {
    out.component = VsmComponent::primary;
    if (u_tail < v.tail_weight) out.origin_cm = {v.tail_sigma_cm * n1, v.tail_sigma_cm * n2, 0};
    else out.origin_cm = {v.sigma_x_cm * n1, v.sigma_y_cm * n2, 0};
  }
  const Vec3 o = out.origin_cm;
  const AxisWindow wx = sampling_window(st, ap, o, 0, v.margin_cm, v.margin_density);
  const AxisWindow wy = sampling_window(st, ap, o, 1, v.margin_cm, v.margin_density);
  out.rect[0] = wx.lo; out.rect[1] = wx.hi; out.rect[2] = wy.lo; out.rect[3] = wy.hi;
  double tx = 0, ty = 0, area = 0;
  if (v.ring_hi_cm > 0 && out.component == VsmComponent::primary) {
    const double lo2 = v.ring_lo_cm * v.ring_lo_cm, hi2 = v.ring_hi_cm * v.ring_hi_cm;
    const double ring_area = phys::kPi * (hi2 - lo2);
    const double bx0 = wx.lo > -v.ring_hi_cm ? wx.lo : -v.ring_hi_cm, bx1 = wx.hi < v.ring_hi_cm ? wx.hi : v.ring_hi_cm;
    const double by0 = wy.lo > -v.ring_hi_cm ? wy.lo : -v.ring_hi_cm, by1 = wy.hi < v.ring_hi_cm ? wy.hi : v.ring_hi_cm;
    const double box_area = (bx1 > bx0 ? bx1 - bx0 : 0.0) * (by1 > by0 ? by1 - by0 : 0.0);
    if (box_area <= ring_area) {
      tx = bx0 + (bx1 - bx0) * u_x;
      ty = by0 + (by1 - by0) * u_y;
      const double r2 = tx * tx + ty * ty;
      area = r2 >= lo2 && r2 <= hi2 ? box_area : 0.0;
    } else {
      // Uniform on the ring: r^2 uniform in [lo^2, hi^2], azimuth uniform.
      const double rr = std::sqrt(lo2 + (hi2 - lo2) * u_x), az = phys::kTwoPi * u_y;
      tx = rr * std::cos(az);
      ty = rr * std::sin(az);
      const bool inside = tx >= wx.lo && tx <= wx.hi && ty >= wy.lo && ty <= wy.hi;
      area = inside ? ring_area : 0.0;
    }
  } else {
    double ax = 0, ay = 0;
    tx = wx.sample(u_x, ax);
    ty = wy.sample(u_y, ay);
    area = ax * ay;
  }
  const Vec3 t{tx, ty, v.sad_cm};
  out.target_cm = t;
  const Vec3 d = t - o;
  const double dist = std::sqrt(dot(d, d));
  out.dir = (1 / dist) * d;
  const double r_t = std::sqrt(t.x * t.x + t.y * t.y);

  // Energy: histogram bin by binary search on the cdf, uniform within the bin.
  auto spectrum = [&]() {
    int lo = 0, hi = v.n_bins;
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      if (v.cdf[mid] <= u_e1) lo = mid;
      else hi = mid;
    }
    return v.edges_mev[lo] + (v.edges_mev[lo + 1] - v.edges_mev[lo]) * u_e2;
  };
  double soft = 1 - v.softening_per_cm * r_t;
  soft = soft < 0.5 ? 0.5 : soft;
  if (out.component == VsmComponent::primary) {
    out.energy_mev = spectrum() * soft;
    out.weight = area * interp_clamped(v.fluence_r_cm, v.fluence_rel, v.n_fluence, r_t);
  } else {
    const double h = v.sad_cm - o.z;
    const double rel = (h * h * h) / (dist * dist * dist);
    out.weight = area * rel;
    if (out.component == VsmComponent::extrafocal) out.energy_mev = spectrum() * soft * v.ef_energy_scale;
    else out.energy_mev = -v.e_mean_mev * std::log(u_e1);
  }
  return out;
}

}  // namespace sabre::beams
