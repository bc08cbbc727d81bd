// The stack of collimating devices (jaw pairs and MLC banks) as tungsten in its real
// divergent geometry: the mass thickness of tungsten along a photon's straight line, its
// survival, and the region the source model samples directions over. Host and device.
//
// This header is the one list of collimator kinds (CollimatorKind): a new kind (an Iris, a
// binary MLC) is a geometry struct here, a case in tungsten_path() and in
// sampling_window(), and its reader in beams/machine.cc.
//
// Frame ("collimator frame", cm): the target (nominal focal point) at the origin, z the
// distance below it along the central axis (the isocentre at z = SAD), x and y along IEC
// X_b and Y_b. A position p_c maps to IEC b as (x, y, SAD - z). Field positions (jaws,
// leaves, boundaries) are given at the isocentre plane and scale to depth z by z / SAD.
//
// Geometry (docs/machine-file.md). A device's `axis` is the axis its parts move along; a
// device moving along y is the same geometry with x and y exchanged (lengths do not
// change under that reflection).
// - Jaw pair on axis x: jaw 1 occupies x < J1 z/SAD, jaw 2 x > J2 z/SAD for z in
//   [top, bottom] (faces focused on the target; the jaws extend without limit outward).
// - MLC bank on axis x: leaf pair i spans the projected band [b_i, b_(i+1)] across the
//   motion (plan boundaries), shifted by tongue-and-groove: in the upper half of the leaf
//   height the band is [b_i - tg/2 + g/2, b_(i+1) - tg/2 - g/2], in the lower half
//   [b_i + tg/2 + g/2, b_(i+1) + tg/2 - g/2] (tg: tongue-and-groove width, g: interleaf
//   gap, both at isocentre). The band's sides are focused on the target when the leaf-side
//   tilt t is 0; otherwise every side plane is tilted by t about the leaf's mid-height
//   (y = b z/SAD + t (z - zm)), as on an Elekta Agility, whose interleaf gaps are not
//   focused on the source so that no ray runs along a gap. Outside the outermost leaves
//   there is no MLC material.
// - Leaf ends are circular arcs of radius R in the motion-z plane with the apex at the
//   leaf's mid-height zm: bank A (x < tip) holds {x <= xa - R} U disk((xa - R, zm), R),
//   bank B {x >= xb + R} U disk((xb + R, zm), R), with xa = (a - offset) zm/SAD and
//   xb = (b + offset) zm/SAD for plan positions a, b at isocentre.
// - Circular cone: a focused conical bore, tungsten where x^2 + y^2 >= (d/2 z/SAD)^2 for z
//   in [top, bottom] (d: the cone's diameter at isocentre, its one position value); the
//   tungsten extends without limit outward (the jaws must cover beyond the cone's body).
// - Iris (CyberKnife variable aperture): two stacked banks of six tungsten segments, the
//   upper over [top, mid], the lower over [mid, bottom] (mid halfway). Each bank leaves a
//   focused regular hexagon open, tungsten where n_k . (x, y) > a z/SAD for one of its six
//   flat normals n_k (upper bank at 0, 60, ..., 300 degrees from x; lower bank rotated by
//   30 degrees); a = f d is the inscribed radius at isocentre for nominal size d (its one
//   position value) and f the machine file's inradius_per_size. The two banks together
//   leave the regular 12-sided aperture of inscribed radius a; outward without limit.
// Every region is an intersection of half-spaces linear in z along a straight line, or a
// disk or cone (quadratic in z): the path is a union of z-intervals, measured exactly.
//
// Not represented: scatter in the jaws and leaves (a transmitted photon keeps its
// direction and energy; there is no Compton photon or electron from the tungsten), leaf
// length (leaves extend without limit behind their tips), MLC carriage and leaf guides,
// rounded jaw ends, and materials other than the tungsten.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "beams/tungsten_attenuation.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"

namespace sabre::beams {

using phys::Vec3;

// The device kinds, host and device (the host-side spec is beams/machine.hh).
enum class CollimatorKind : int { jaws = 0, mlc = 1, cone = 2, iris = 3 };

// Most devices one machine stacks (a C-arm linac has three: two jaw pairs and an MLC).
inline constexpr int kMaxCollimators = 4;

struct JawsGeometry {
  double top_cm = 0, bottom_cm = 0, density_g_cm3 = 0;
};

struct MlcGeometry {
  int n_pairs = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  const double* boundaries_cm = nullptr;  // n_pairs + 1 leaf boundaries at isocentre [cm]
  double top_cm = 0, bottom_cm = 0, density_g_cm3 = 0;
  double tongue_groove_cm = 0;  // at isocentre
  double interleaf_gap_cm = 0;  // at isocentre
  double side_tilt = 0;         // tan of the leaf sides' tilt from the focused plane
  double leaf_end_radius_cm = 1;
  double leaf_offset_cm = 0;    // at isocentre, + opens
};

struct ConeGeometry {
  double top_cm = 0, bottom_cm = 0, density_g_cm3 = 0;
};

struct IrisGeometry {
  double top_cm = 0, bottom_cm = 0, density_g_cm3 = 0;  // both banks: upper half, lower half
  double inradius_per_size = 0.5;  // inscribed radius of the 12-sided aperture / nominal size
};

// One device of the stack. Its positions at a control point are `n_values` consecutive
// numbers of the control point's position array starting at `first`: a jaw pair's two
// jaws (1 then 2), an MLC's bank A (n_pairs values) then bank B, a cone's diameter, the
// Iris's nominal size.
struct CollimatorDevice {
  CollimatorKind kind = CollimatorKind::jaws;
  int axis = 0;   // 0: moves along x, 1: along y (jaws, MLC)
  int first = 0;
  int n_values = 0;
  JawsGeometry jaws;  // kind jaws
  MlcGeometry mlc;    // kind mlc
  ConeGeometry cone;  // kind cone
  IrisGeometry iris;  // kind iris
};

struct CollimatorStack {
  double sad_cm = 100;
  double field_half_cm = 20;  // half the largest field at isocentre: nothing is sampled beyond
  int n = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  CollimatorDevice devices[kMaxCollimators];
  int n_values = 0;           // positions per control point, all devices
  // Field-restricted sampling (sampling_window): per axis, the jaw pair moving along it
  // and the MLC moving along it (-1: none).
  int jaws_on_axis[2] = {-1, -1};
  int mlc_on_axis[2] = {-1, -1};
  int cone = -1;  // the cone (-1: none)
  int iris = -1;  // the Iris (-1: none)
  std::int32_t padding2_ = 0;  // explicit, as padding_

  // A copy whose leaf-boundary arrays live where `copy` puts them
  // (kernels/params_relocation.hh).
  template <class Copier>
  CollimatorStack relocated(Copier& c) const {
    CollimatorStack r = *this;
    for (int d = 0; d < n; ++d) {
      MlcGeometry& m = r.devices[d].mlc;
      if (m.boundaries_cm && m.n_pairs > 0) m.boundaries_cm = c.copy(m.boundaries_cm, std::size_t(m.n_pairs) + 1);
    }
    return r;
  }
};

// Device positions at one instant, at isocentre [cm]: interpolated between two control
// points, v(i) = p0[i] + frac (p1[i] - p0[i]) (frac = 0 and p1 = p0 for a static
// aperture). A device whose bit is clear in `active` is out of the beam (a plan without
// that MLC): it contributes no tungsten.
struct ApertureState {
  const double* p0 = nullptr;
  const double* p1 = nullptr;
  double frac = 0;
  unsigned active = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)

  SABRE_HD double value(int i) const { return p0[i] + frac * (p1[i] - p0[i]); }
  SABRE_HD bool is_active(int device) const { return (active >> device) & 1u; }
};

struct TungstenPath {
  double jaws_cm = 0;         // geometric path in the jaws [cm]
  double mlc_cm = 0;          // geometric path in the leaves [cm]
  double cone_cm = 0;         // geometric path in a cone [cm]
  double iris_cm = 0;         // geometric path in the Iris [cm]
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
// For a device moving along y the line is given with x and y exchanged (along()).
struct Line {
  double x0, y0, z0, ax, ay;
  // x(z) - k z = (x0 - ax z0) + (ax - k) z: coefficients (alpha, beta) of "x(z) - k z".
  SABRE_HD double x_alpha() const { return x0 - ax * z0; }
  SABRE_HD double y_alpha() const { return y0 - ay * z0; }
  // The line in a device's frame: axis 0 as is, axis 1 with x and y exchanged.
  SABRE_HD Line along(int axis) const { return axis == 0 ? *this : Line{y0, x0, z0, ay, ax}; }
};

// {z in iv : x(z) <= k z} (sign = +1) or {x(z) >= k z} (sign = -1); same for y.
SABRE_HD_INLINE Interval x_le(const Line& l, Interval iv, double k, double sign) {
  return below_zero(iv, sign * l.x_alpha(), sign * (l.ax - k));
}
SABRE_HD_INLINE Interval y_le(const Line& l, Interval iv, double k, double sign) {
  return below_zero(iv, sign * l.y_alpha(), sign * (l.ay - k));
}
// {z in iv : y(z) <= k z + c} (sign = +1) or {y(z) >= k z + c} (sign = -1).
SABRE_HD_INLINE Interval y_le_affine(const Line& l, Interval iv, double k, double c, double sign) {
  return below_zero(iv, sign * (l.y_alpha() - c), sign * (l.ay - k));
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

SABRE_HD_INLINE Interval slab(double top, double bottom, double z_start) {
  return Interval{top > z_start ? top : z_start, bottom};
}

// Path along z (not yet divided by the direction cosine) in a jaw pair whose jaws are at
// j1, j2 (isocentre), for the line in the device's frame.
SABRE_HD_INLINE double jaws_length(const JawsGeometry& g, const Line& l, double z_start, double j1, double j2,
                                   double k) {
  const Interval iv = slab(g.top_cm, g.bottom_cm, z_start);
  double len = 0;
  if (iv.length() > 0) {
    len += x_le(l, iv, j1 * k, 1).length();
    len += x_le(l, iv, j2 * k, -1).length();
  }
  return len;
}

// Path along z in the leaves of an MLC bank, for the line in the device's frame; the
// positions of bank A and B at isocentre are s.value(first + i), s.value(first + n + i).
SABRE_HD_INLINE double mlc_length(const MlcGeometry& g, const Line& l, double z_start, const ApertureState& s,
                                  int first, double sad_cm) {
  if (!(g.n_pairs > 0 && z_start < g.bottom_cm)) return 0;
  const double k = 1 / sad_cm;
  const double zm = 0.5 * (g.top_cm + g.bottom_cm);
  const Interval halves[2] = {slab(g.top_cm, zm, z_start), slab(zm > z_start ? zm : z_start, g.bottom_cm, z_start)};
  // Projected y at the slab's ends bounds the leaves to visit.
  const double za = halves[0].lo < g.bottom_cm ? halves[0].lo : g.bottom_cm;
  const double zb = g.bottom_cm;
  double v1 = (l.y0 + l.ay * (za - l.z0)) * sad_cm / za;
  double v2 = (l.y0 + l.ay * (zb - l.z0)) * sad_cm / zb;
  if (v1 > v2) { const double t = v1; v1 = v2; v2 = t; }
  // A tilted side moves by t (z - zm) at depth z: at most t h/2 at the leaf's faces,
  // t h/2 SAD / top projected to the isocentre.
  const double tilt_reach = (g.side_tilt < 0 ? -g.side_tilt : g.side_tilt) * 0.5 * (g.bottom_cm - g.top_cm) *
                            sad_cm / g.top_cm;
  const double reach = 0.5 * g.tongue_groove_cm + g.interleaf_gap_cm + tilt_reach;
  const double shift = 0.5 * g.tongue_groove_cm;
  const double half_gap = 0.5 * g.interleaf_gap_cm;
  const double c_tilt = -g.side_tilt * zm;  // y = (b k + t) z - t zm
  const int n = g.n_pairs;
  double lm = 0;
  for (int i = 0; i < n; ++i) {
    const double lo_b = g.boundaries_cm[i], hi_b = g.boundaries_cm[i + 1];
    if (hi_b + reach < v1 || lo_b - reach > v2) continue;
    const double xa = (s.value(first + i) - g.leaf_offset_cm) * zm * k;
    const double xb = (s.value(first + n + i) + g.leaf_offset_cm) * zm * k;
    const double r = g.leaf_end_radius_cm;
    for (int h = 0; h < 2; ++h) {
      Interval iv = halves[h];
      if (iv.length() <= 0) continue;
      const double sh = h == 0 ? -shift : shift;
      const double ylo = lo_b + sh + half_gap, yhi = hi_b + sh - half_gap;
      iv = y_le_affine(l, iv, ylo * k + g.side_tilt, c_tilt, -1);  // y >= ylo z/SAD + t (z - zm)
      iv = y_le_affine(l, iv, yhi * k + g.side_tilt, c_tilt, 1);   // y <= yhi z/SAD + t (z - zm)
      if (iv.length() <= 0) continue;
      lm += leaf_end_length(l, iv, xa - r, zm, r, true);
      lm += leaf_end_length(l, iv, xb + r, zm, r, false);
    }
  }
  return lm;
}

// Path along z in a focused conical bore of radius c z (c = d/2 / SAD) for z in
// [top, bottom]: the measure of {z : f(z) >= 0}, f(z) = x(z)^2 + y(z)^2 - c^2 z^2 =
// A z^2 + B z + C with x(z) = x_alpha + ax z, y(z) = y_alpha + ay z.
SABRE_HD_INLINE double cone_length(const ConeGeometry& g, const Line& l, double z_start, double radius_iso_cm,
                                   double sad_cm) {
  const Interval iv = slab(g.top_cm, g.bottom_cm, z_start);
  if (iv.length() <= 0) return 0;
  const double c = radius_iso_cm / sad_cm;
  const double xa = l.x_alpha(), ya = l.y_alpha();
  const double qa = l.ax * l.ax + l.ay * l.ay - c * c, qb = 2 * (xa * l.ax + ya * l.ay), qc = xa * xa + ya * ya;
  const double whole = iv.length();
  if (qa == 0) {  // linear: qb z + qc >= 0
    return below_zero(iv, -qc, -qb).length();
  }
  const double disc = qb * qb - 4 * qa * qc;
  if (disc <= 0) return qa > 0 ? whole : 0;  // no sign change: f has the sign of qa
  const double s = std::sqrt(disc);
  double r1 = (-qb - s) / (2 * qa), r2 = (-qb + s) / (2 * qa);
  if (r1 > r2) { const double t = r1; r1 = r2; r2 = t; }
  const double inside = intersect(iv, {r1, r2}).length();  // where f has the sign of -qa
  return qa > 0 ? whole - inside : inside;
}

// Flat normals of the Iris's banks: cos and sin of 30 j degrees, j = 0..11 (upper bank:
// even j, lower bank: odd j).
SABRE_HD_INLINE void iris_normal(int j, double& c, double& s) {
  constexpr double h = 0.86602540378443864676;  // cos 30
  const double cs[12] = {1, h, 0.5, 0, -0.5, -h, -1, -h, -0.5, 0, 0.5, h};
  c = cs[j % 12];
  s = cs[(j + 9) % 12];  // sin t = cos(t - 90)
}

// Path along z in the Iris: per bank, the slab minus the z-interval inside its hexagon
// (the intersection of six half-spaces n_k . (x(z), y(z)) <= k z, linear in z).
SABRE_HD_INLINE double iris_length(const IrisGeometry& g, const Line& l, double z_start, double size_iso_cm,
                                   double sad_cm) {
  const double k = g.inradius_per_size * size_iso_cm / sad_cm;
  const double mid = 0.5 * (g.top_cm + g.bottom_cm);
  const double xa = l.x_alpha(), ya = l.y_alpha();
  double total = 0;
  for (int bank = 0; bank < 2; ++bank) {
    const Interval iv = bank == 0 ? slab(g.top_cm, mid, z_start) : slab(mid > z_start ? mid : z_start, g.bottom_cm, z_start);
    if (iv.length() <= 0) continue;
    Interval in = iv;
    for (int j = bank; j < 12; j += 2) {
      double c, s;
      iris_normal(j, c, s);
      in = below_zero(in, c * xa + s * ya, c * l.ax + s * l.ay - k);
    }
    total += iv.length() - in.length();
  }
  return total;
}

}  // namespace collimator_detail

// Tungsten along the straight line through `pos_cm` with direction `dir` (collimator
// frame, dir.z > 0: travelling away from the target), between the plane z = pos.z and
// the bottom of the lowest device. Returns 0 path for dir.z <= 0. Jaw lengths are summed
// along z first and converted once (sum of l_z rho, times ds/dz); each MLC adds its own.
SABRE_HD_INLINE TungstenPath tungsten_path(const CollimatorStack& st, const ApertureState& s, Vec3 pos_cm,
                                           Vec3 dir) {
  using namespace collimator_detail;
  TungstenPath out;
  if (!(dir.z > 0)) return out;
  const Line line{pos_cm.x, pos_cm.y, pos_cm.z, dir.x / dir.z, dir.y / dir.z};
  const double ds_dz = std::sqrt(dir.x * dir.x + dir.y * dir.y + dir.z * dir.z) / dir.z;
  const double k = 1 / st.sad_cm;
  double jaw_len = 0, jaw_mass = 0;
  for (int d = 0; d < st.n; ++d) {
    const CollimatorDevice& dev = st.devices[d];
    if (dev.kind != CollimatorKind::jaws || !s.is_active(d)) continue;
    const double l = jaws_length(dev.jaws, line.along(dev.axis), pos_cm.z, s.value(dev.first),
                                 s.value(dev.first + 1), k);
    jaw_len += l;
    jaw_mass += l * dev.jaws.density_g_cm3;
  }
  out.jaws_cm = jaw_len * ds_dz;
  out.mass_g_cm2 = jaw_mass * ds_dz;
  for (int d = 0; d < st.n; ++d) {
    const CollimatorDevice& dev = st.devices[d];
    if (dev.kind != CollimatorKind::mlc || !s.is_active(d)) continue;
    const double lm = mlc_length(dev.mlc, line.along(dev.axis), pos_cm.z, s, dev.first, st.sad_cm);
    out.mlc_cm += lm * ds_dz;
    out.mass_g_cm2 += lm * ds_dz * dev.mlc.density_g_cm3;
  }
  if (st.cone >= 0 && s.is_active(st.cone)) {
    const CollimatorDevice& dev = st.devices[st.cone];
    const double lc = cone_length(dev.cone, line, pos_cm.z, 0.5 * s.value(dev.first), st.sad_cm);
    out.cone_cm = lc * ds_dz;
    out.mass_g_cm2 += lc * ds_dz * dev.cone.density_g_cm3;
  }
  if (st.iris >= 0 && s.is_active(st.iris)) {
    const CollimatorDevice& dev = st.devices[st.iris];
    const double li = iris_length(dev.iris, line, pos_cm.z, s.value(dev.first), st.sad_cm);
    out.iris_cm = li * ds_dz;
    out.mass_g_cm2 += li * ds_dz * dev.iris.density_g_cm3;
  }
  return out;
}

// Probability that a photon of energy_mev crosses `path` without interacting.
SABRE_HD_INLINE double tungsten_transmission(double energy_mev, const TungstenPath& path) {
  return std::exp(-tungsten_mu_rho_cm2_g(energy_mev) * path.mass_g_cm2);
}

// ---- field-restricted sampling -------------------------------------------------------

// Iso-plane interval reached from a source at lateral position s (depth zs) through the
// opening [j1, j2] (at isocentre) of a device whose slab spans z in [top, bottom]: the
// projections of the opening's edges at the slab's top and bottom, the wider of the two.
SABRE_HD_INLINE void project_opening(double s, double zs, double j1, double j2, double top, double bottom,
                                     double sad, double& lo, double& hi) {
  const double h = sad - zs;
  auto at_iso = [&](double j, double z) { return s + (j * z / sad - s) * h / (z - zs); };
  const double a = at_iso(j1, top), b = at_iso(j1, bottom);
  const double c = at_iso(j2, top), d = at_iso(j2, bottom);
  lo = a < b ? a : b;
  hi = c > d ? c : d;
}

// Where the source model aims along one axis, at the isocentre plane [cm]: uniformly over
// [lo, hi], or, when p_inner > 0, a mixture: with probability p_inner uniformly over the
// inner interval [in_lo, in_hi] (inside [lo, hi]), else uniformly over [lo, hi].
struct AxisWindow {
  double lo = 0, hi = 0;
  double in_lo = 0, in_hi = 0;
  double p_inner = 0;

  // The aim for a uniform number u, and its weight 1 / pdf [cm].
  SABRE_HD double sample(double u, double& weight) const {
    if (p_inner <= 0) {
      weight = hi - lo;
      return lo + (hi - lo) * u;
    }
    const double x = u < p_inner ? in_lo + (in_hi - in_lo) * (u / p_inner)
                                 : lo + (hi - lo) * ((u - p_inner) / (1 - p_inner));
    const double pdf = (1 - p_inner) / (hi - lo) + (x >= in_lo && x <= in_hi ? p_inner / (in_hi - in_lo) : 0.0);
    weight = 1 / pdf;
    return x;
  }
};

// Share of the aims concentrated on the MLC's opening along an axis without jaws.
inline constexpr double kMlcWindowShare = 0.9;

// The share p_inner of the aims to draw over an inner interval of width `inner` (the rest
// uniformly over the whole window of width `whole` >= inner) so that the density of aims
// outside the inner interval is `density` (0 < density <= 1) times the density inside:
// (1 - p) / W = d ((1 - p) / W + p / I)  =>  p = (k - 1) I / (W + (k - 1) I), k = 1 / d.
// 0 (uniform sampling) when density >= 1 or either width is not positive.
SABRE_HD_INLINE double margin_aim_share(double inner, double whole, double density) {
  if (!(density < 1) || !(density > 0) || !(inner > 0) || !(whole > inner)) return 0;
  const double km1 = 1 / density - 1;
  return km1 * inner / (whole + km1 * inner);
}

// The sampling window along `axis` for a source point `o` (collimator frame), widened by
// `margin_cm` (isocentre) on each side:
// - with a cone in the beam: its bore projected from o through the cone (the square
//   around the circle; every ray through the bore lands inside without the margin); the
//   Iris likewise, with the circle around its 12-sided aperture;
// - else with a jaw pair on the axis: its opening projected from o (every ray that passes
//   between the jaws lands inside without the margin; the margin keeps the jaw penumbra and
//   a band of jaw transmission);
// - without jaws but with an MLC moving along the axis (an Agility's x): the largest field
//   (field_half_cm), with kMlcWindowShare of the aims on the envelope of the leaves' opening
//   at this instant (pairs open now; widened by the reach of the rounded leaf ends, R -
//   sqrt(R^2 - h^2/4) at mid-height, and the leaf offset), projected from o through the
//   leaf slab; the rest covers the leakage through the closed and retracted leaves;
// - without jaws or MLC along the axis but with an MLC whose leaves lie across it (a
//   tomotherapy binary MLC, the CyberKnife InCise's y): the largest field, with
//   kMlcWindowShare of the aims on the span of the open pairs' slots (widened by half the
//   tongue-and-groove and the interleaf gap), projected from o through the leaves;
// - with neither: the largest field.
// margin_density (0 < d <= 1) applies to the first three cases (cone, Iris, jaws): the
// aims' density in the margin bands relative to that over the projected opening
// (margin_aim_share; 1: uniform over the widened window). The weight stays 1 / pdf, so the
// fluence is unbiased everywhere, the margin's included (issue 20, docs/efficiency.md).
SABRE_HD_INLINE AxisWindow sampling_window(const CollimatorStack& st, const ApertureState& s, Vec3 o, int axis,
                                           double margin_cm, double margin_density = 1.0) {
  AxisWindow w;
  const double oa = axis == 0 ? o.x : o.y;
  // The projected opening [w.lo, w.hi] widened by the margin, with its share of the aims.
  auto widen = [&]() {
    const double in_lo = w.lo, in_hi = w.hi;
    w.lo -= margin_cm;
    w.hi += margin_cm;
    const double p = margin_aim_share(in_hi - in_lo, w.hi - w.lo, margin_density);
    if (p > 0) {
      w.in_lo = in_lo;
      w.in_hi = in_hi;
      w.p_inner = p;
    }
  };
  if (st.cone >= 0 && s.is_active(st.cone)) {
    const CollimatorDevice& dev = st.devices[st.cone];
    const double r = 0.5 * s.value(dev.first);
    project_opening(oa, o.z, -r, r, dev.cone.top_cm, dev.cone.bottom_cm, st.sad_cm, w.lo, w.hi);
    widen();
    return w;
  }
  if (st.iris >= 0 && s.is_active(st.iris)) {
    const CollimatorDevice& dev = st.devices[st.iris];
    // The circle around the 12-sided aperture: inscribed radius / cos 15 degrees.
    const double r = dev.iris.inradius_per_size * s.value(dev.first) / 0.96592582628906829;
    project_opening(oa, o.z, -r, r, dev.iris.top_cm, dev.iris.bottom_cm, st.sad_cm, w.lo, w.hi);
    widen();
    return w;
  }
  const int jd = st.jaws_on_axis[axis];
  if (jd >= 0 && s.is_active(jd)) {
    const CollimatorDevice& dev = st.devices[jd];
    project_opening(oa, o.z, s.value(dev.first), s.value(dev.first + 1), dev.jaws.top_cm, dev.jaws.bottom_cm,
                    st.sad_cm, w.lo, w.hi);
    widen();
    return w;
  }
  const double f = st.field_half_cm;
  // The largest field, as an opening at the isocentre plane.
  project_opening(oa, o.z, -f, f, st.sad_cm, st.sad_cm, st.sad_cm, w.lo, w.hi);
  w.lo -= margin_cm;
  w.hi += margin_cm;
  const int md = st.mlc_on_axis[axis];
  const int cross = st.mlc_on_axis[1 - axis];
  if ((md < 0 || !s.is_active(md)) && cross >= 0 && s.is_active(cross)) {
    // No jaws and no MLC along this axis, but leaves across it (a tomotherapy binary MLC
    // along x, an InCise along y): most aims on the span of the open pairs' slots.
    const CollimatorDevice& dv = st.devices[cross];
    const MlcGeometry& g = dv.mlc;
    int i_lo = -1, i_hi = -1;
    for (int i = 0; i < g.n_pairs; ++i) {
      if (!(s.value(dv.first + g.n_pairs + i) > s.value(dv.first + i))) continue;
      if (i_lo < 0) i_lo = i;
      i_hi = i;
    }
    if (i_lo < 0) return w;  // every pair closed: leakage only, uniformly
    const double tg = 0.5 * g.tongue_groove_cm + g.interleaf_gap_cm;
    double lo, hi;
    project_opening(oa, o.z, g.boundaries_cm[i_lo] - tg, g.boundaries_cm[i_hi + 1] + tg, g.top_cm, g.bottom_cm,
                    st.sad_cm, lo, hi);
    lo -= margin_cm;
    hi += margin_cm;
    w.in_lo = lo > w.lo ? lo : w.lo;
    w.in_hi = hi < w.hi ? hi : w.hi;
    if (w.in_hi > w.in_lo) w.p_inner = kMlcWindowShare;
    return w;
  }
  if (md < 0 || !s.is_active(md)) return w;
  const CollimatorDevice& dev = st.devices[md];
  const MlcGeometry& g = dev.mlc;
  double a_min = 1e30, b_max = -1e30;
  for (int i = 0; i < g.n_pairs; ++i) {
    const double a = s.value(dev.first + i), b = s.value(dev.first + g.n_pairs + i);
    if (!(b > a)) continue;
    a_min = a < a_min ? a : a_min;
    b_max = b > b_max ? b : b_max;
  }
  if (!(b_max > a_min)) return w;  // every pair closed: leakage only, uniformly
  const double zm = 0.5 * (g.top_cm + g.bottom_cm), half_h = 0.5 * (g.bottom_cm - g.top_cm);
  const double r = g.leaf_end_radius_cm;
  const double reach = (r - std::sqrt(r * r - half_h * half_h)) * st.sad_cm / zm + g.leaf_offset_cm;
  double lo, hi;
  project_opening(oa, o.z, a_min - reach, b_max + reach, g.top_cm, g.bottom_cm, st.sad_cm, lo, hi);
  lo -= margin_cm;
  hi += margin_cm;
  w.in_lo = lo > w.lo ? lo : w.lo;
  w.in_hi = hi < w.hi ? hi : w.hi;
  if (w.in_hi > w.in_lo) w.p_inner = kMlcWindowShare;
  return w;
}

}  // namespace sabre::beams
