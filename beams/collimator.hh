// Jaws and MLC as tungsten in their real divergent geometry: the mass thickness of
// tungsten along a photon's straight line, and its survival. Host and device.
//
// Frame ("collimator frame", cm): the target (nominal focal point) at the origin, z the
// distance below it along the central axis (the isocentre at z = SAD), x along the leaf
// motion (IEC X_b), y across the leaves (IEC Y_b). A position p_c maps to IEC b as
// (x, y, SAD - z). Field positions (jaws, leaves, boundaries) are given at the isocentre
// plane and scale to depth z by z / SAD.
//
// Geometry (docs/machine-file.md):
// - Jaw X1 occupies x < X1 z/SAD, X2 x > X2 z/SAD for z in [top, bottom] (faces focused
//   on the target; jaws extend without limit outward); Y jaws likewise in y.
// - MLC leaf pair i spans the projected y band [b_i, b_(i+1)] (plan boundaries), shifted
//   by tongue-and-groove: in the upper half of the leaf height the band is
//   [b_i - tg/2 + g/2, b_(i+1) - tg/2 - g/2], in the lower half
//   [b_i + tg/2 + g/2, b_(i+1) + tg/2 - g/2] (tg: tongue-and-groove width, g: interleaf
//   gap, both at isocentre; sides focused on the target). Outside the outermost leaves
//   there is no MLC material (the jaws must cover it).
// - Leaf ends are circular arcs of radius R in the x-z plane with the apex at the leaf's
//   mid-height zm: bank A (x < tip) holds {x <= xa - R} U disk((xa - R, zm), R), bank B
//   {x >= xb + R} U disk((xb + R, zm), R), with xa = (a - offset) zm/SAD and
//   xb = (b + offset) zm/SAD for plan positions a, b at isocentre.
// Every region is an intersection of half-spaces linear in z along a straight line, or a
// disk (quadratic in z): the path is a union of z-intervals, measured exactly.
//
// Not represented: scatter in the jaws and leaves (a transmitted photon keeps its
// direction and energy; there is no Compton photon or electron from the tungsten), leaf
// length (leaves extend without limit behind their tips), MLC carriage, and materials
// other than the tungsten (leaf screws, air gaps other than the interleaf gap).
#pragma once

#include <cmath>

#include "beams/tungsten_attenuation.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"

namespace sabre::beams {

using phys::Vec3;

struct CollimatorGeometry {
  double sad_cm = 100;
  // X jaws (lower on a TrueBeam), Y jaws: slab top/bottom distances from the target [cm]
  double jx_top_cm = 0, jx_bottom_cm = 0, jx_density_g_cm3 = 0;
  double jy_top_cm = 0, jy_bottom_cm = 0, jy_density_g_cm3 = 0;
  // MLC (MLCX)
  int n_pairs = 0;
  const double* boundaries_cm = nullptr;  // n_pairs + 1 leaf boundaries at isocentre [cm]
  double mlc_top_cm = 0, mlc_bottom_cm = 0, mlc_density_g_cm3 = 0;
  double tongue_groove_cm = 0;  // at isocentre
  double interleaf_gap_cm = 0;  // at isocentre
  double leaf_end_radius_cm = 1;
  double leaf_offset_cm = 0;    // at isocentre, + opens
};

// Jaw and leaf positions at one instant, at isocentre [cm]. Leaves are interpolated
// between two control points: a(i) = a0[i] + frac (a1[i] - a0[i]) (frac = 0 and a1 = a0
// for a static aperture). Leaf arrays may be null when there is no MLC.
struct ApertureState {
  double jaw_x1_cm = -20, jaw_x2_cm = 20, jaw_y1_cm = -20, jaw_y2_cm = 20;
  const double* a0 = nullptr;  // bank A (negative side) [n_pairs]
  const double* b0 = nullptr;  // bank B
  const double* a1 = nullptr;
  const double* b1 = nullptr;
  double frac = 0;

  SABRE_HD double leaf_a(int i) const { return a0[i] + frac * (a1[i] - a0[i]); }
  SABRE_HD double leaf_b(int i) const { return b0[i] + frac * (b1[i] - b0[i]); }
};

struct TungstenPath {
  double jaws_cm = 0;         // geometric path in the jaws [cm]
  double mlc_cm = 0;          // geometric path in the leaves [cm]
  double mass_g_cm2 = 0;      // density-weighted sum [g/cm^2]
};

namespace collimator_detail {

// A z-interval [lo, hi]; empty when lo >= hi.
struct Interval {
  double lo, hi;
  SABRE_HD double length() const { return hi > lo ? hi - lo : 0; }
};
SABRE_HD_INLINE Interval intersect(Interval a, Interval b) {
  return {a.lo > b.lo ? a.lo : b.lo, a.hi < b.hi ? a.hi : b.hi};
}

// {z in iv : alpha + beta z <= 0}.
SABRE_HD_INLINE Interval below_zero(Interval iv, double alpha, double beta) {
  if (beta == 0) return alpha <= 0 ? iv : Interval{iv.lo, iv.lo};
  const double z0 = -alpha / beta;
  return beta > 0 ? intersect(iv, {iv.lo, z0}) : intersect(iv, {z0, iv.hi});
}

// A straight line parameterised by z: x(z) = x0 + ax (z - z0), y(z) = y0 + ay (z - z0).
struct Line {
  double x0, y0, z0, ax, ay;
  // x(z) - k z = (x0 - ax z0) + (ax - k) z: coefficients (alpha, beta) of "x(z) - k z".
  SABRE_HD double x_alpha() const { return x0 - ax * z0; }
  SABRE_HD double y_alpha() const { return y0 - ay * z0; }
};

// {z in iv : x(z) <= k z} (sign = +1) or {x(z) >= k z} (sign = -1); same for y.
SABRE_HD_INLINE Interval x_le(const Line& l, Interval iv, double k, double sign) {
  return below_zero(iv, sign * l.x_alpha(), sign * (l.ax - k));
}
SABRE_HD_INLINE Interval y_le(const Line& l, Interval iv, double k, double sign) {
  return below_zero(iv, sign * l.y_alpha(), sign * (l.ay - k));
}

// {z in iv : (x(z) - cx)^2 + (z - cz)^2 <= R^2}.
SABRE_HD_INLINE Interval in_disk(const Line& l, Interval iv, double cx, double cz, double r) {
  // x(z) - cx = p + ax z with p = x_alpha - cx: (ax^2 + 1) z^2 + 2 (p ax - cz) z + p^2 + cz^2 - r^2 <= 0
  const double p = l.x_alpha() - cx;
  const double qa = l.ax * l.ax + 1, qb = 2 * (p * l.ax - cz), qc = p * p + cz * cz - r * r;
  const double disc = qb * qb - 4 * qa * qc;
  if (disc <= 0) return {iv.lo, iv.lo};
  const double s = std::sqrt(disc);
  return intersect(iv, {(-qb - s) / (2 * qa), (-qb + s) / (2 * qa)});
}

// Length of iv within one leaf-end region (half-plane beyond the arc centre, or the disk):
// |H ∩ iv| + |D ∩ iv| - |H ∩ D ∩ iv|.
SABRE_HD_INLINE double leaf_end_length(const Line& l, Interval iv, double centre_x, double zm, double r,
                                       bool bank_a) {
  // Bank A: half-plane x(z) <= centre_x; bank B: x(z) >= centre_x (not divergent).
  const Interval hh = below_zero(iv, bank_a ? l.x_alpha() - centre_x : centre_x - l.x_alpha(),
                                 bank_a ? l.ax : -l.ax);
  const Interval d = in_disk(l, iv, centre_x, zm, r);
  return hh.length() + d.length() - intersect(hh, d).length();
}

}  // namespace collimator_detail

// Tungsten along the straight line through `pos_cm` with direction `dir` (collimator
// frame, dir.z > 0: travelling away from the target), between the planes z = pos.z and
// the bottom of the lowest collimator. Returns 0 path for dir.z <= 0.
SABRE_HD_INLINE TungstenPath tungsten_path(const CollimatorGeometry& g, const ApertureState& s, Vec3 pos_cm,
                                           Vec3 dir) {
  using namespace collimator_detail;
  TungstenPath out;
  if (!(dir.z > 0)) return out;
  const Line l{pos_cm.x, pos_cm.y, pos_cm.z, dir.x / dir.z, dir.y / dir.z};
  const double ds_dz = std::sqrt(dir.x * dir.x + dir.y * dir.y + dir.z * dir.z) / dir.z;
  const double k = 1 / g.sad_cm;
  auto slab = [&](double top, double bottom) {
    return Interval{top > pos_cm.z ? top : pos_cm.z, bottom};
  };
  // Jaws: X1 blocks x <= X1 z/SAD, X2 blocks x >= X2 z/SAD.
  {
    const Interval ix = slab(g.jx_top_cm, g.jx_bottom_cm);
    double lx = 0;
    if (ix.length() > 0) {
      lx += x_le(l, ix, s.jaw_x1_cm * k, 1).length();
      lx += x_le(l, ix, s.jaw_x2_cm * k, -1).length();
    }
    const Interval iy = slab(g.jy_top_cm, g.jy_bottom_cm);
    double ly = 0;
    if (iy.length() > 0) {
      ly += y_le(l, iy, s.jaw_y1_cm * k, 1).length();
      ly += y_le(l, iy, s.jaw_y2_cm * k, -1).length();
    }
    out.jaws_cm = (lx + ly) * ds_dz;
    out.mass_g_cm2 += (lx * g.jx_density_g_cm3 + ly * g.jy_density_g_cm3) * ds_dz;
  }
  // MLC.
  if (g.n_pairs > 0 && s.a0 && pos_cm.z < g.mlc_bottom_cm) {
    const double zm = 0.5 * (g.mlc_top_cm + g.mlc_bottom_cm);
    const Interval halves[2] = {slab(g.mlc_top_cm, zm), slab(zm > pos_cm.z ? zm : pos_cm.z, g.mlc_bottom_cm)};
    // Projected y at the slab's ends bounds the leaves to visit.
    const double za = halves[0].lo < g.mlc_bottom_cm ? halves[0].lo : g.mlc_bottom_cm;
    const double zb = g.mlc_bottom_cm;
    double v1 = (l.y0 + l.ay * (za - l.z0)) * g.sad_cm / za;
    double v2 = (l.y0 + l.ay * (zb - l.z0)) * g.sad_cm / zb;
    if (v1 > v2) { const double t = v1; v1 = v2; v2 = t; }
    const double reach = 0.5 * g.tongue_groove_cm + g.interleaf_gap_cm;
    const double shift = 0.5 * g.tongue_groove_cm;
    const double half_gap = 0.5 * g.interleaf_gap_cm;
    double lm = 0;
    for (int i = 0; i < g.n_pairs; ++i) {
      const double lo_b = g.boundaries_cm[i], hi_b = g.boundaries_cm[i + 1];
      if (hi_b + reach < v1 || lo_b - reach > v2) continue;
      const double xa = (s.leaf_a(i) - g.leaf_offset_cm) * zm * k;
      const double xb = (s.leaf_b(i) + g.leaf_offset_cm) * zm * k;
      const double r = g.leaf_end_radius_cm;
      for (int h = 0; h < 2; ++h) {
        Interval iv = halves[h];
        if (iv.length() <= 0) continue;
        const double sh = h == 0 ? -shift : shift;
        const double ylo = lo_b + sh + half_gap, yhi = hi_b + sh - half_gap;
        iv = y_le(l, iv, ylo * k, -1);  // y >= ylo z/SAD
        iv = y_le(l, iv, yhi * k, 1);   // y <= yhi z/SAD
        if (iv.length() <= 0) continue;
        lm += leaf_end_length(l, iv, xa - r, zm, r, true);
        lm += leaf_end_length(l, iv, xb + r, zm, r, false);
      }
    }
    out.mlc_cm = lm * ds_dz;
    out.mass_g_cm2 += lm * ds_dz * g.mlc_density_g_cm3;
  }
  return out;
}

// Probability that a photon of energy_mev crosses `path` without interacting.
SABRE_HD_INLINE double tungsten_transmission(double energy_mev, const TungstenPath& path) {
  return std::exp(-tungsten_mu_rho_cm2_g(energy_mev) * path.mass_g_cm2);
}

}  // namespace sabre::beams
