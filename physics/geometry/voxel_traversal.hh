// Ray stepping through the voxel grid (physics/geometry/voxel_grid.hh), shared by host and
// device. Units: cm. Directions are unit vectors.
//
// Three tools:
//  - grid_entry_exit(): where a ray enters and leaves the whole grid (slab method,
//    [Kay & Kajiya, SIGGRAPH 1986]); used to bring a source particle that starts outside
//    to the phantom surface.
//  - VoxelWalker: voxel-by-voxel traversal of a ray (3-D DDA after [J. Amanatides and
//    A. Woo, "A fast voxel traversal algorithm for ray tracing", Eurographics 1987]).
//    The walker keeps integer voxel indices, so a point lying exactly on a boundary is
//    never ambiguous: the voxel is the one the ray is travelling into. Boundary distances
//    are recomputed from the voxel planes at each crossing (no accumulated rounding).
//  - for_each_segment(): calls f(voxel, segment_cm) for each voxel a straight segment of
//    length `length_cm` crosses, the segment lengths summing to the part of length_cm
//    that lies inside the grid. For along-step energy deposits.
#pragma once

#include <cmath>
#include <cstdint>

#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/geometry/voxel_grid.hh"

namespace sabre::phys {

inline constexpr double kInfinityCm = 1e300;

// Distances along the ray p + t*dir at which it enters (t_in) and leaves (t_out) the grid
// box; returns false when it misses the box or the box is entirely behind (t_out <= 0).
// t_in is clamped to >= 0 (0 when p is inside).
SABRE_HD_INLINE bool grid_entry_exit(const GridGeometry& g, Vec3 p, Vec3 dir, double& t_in,
                                     double& t_out) {
  const Vec3 lo = g.origin_cm, hi = g.upper_cm();
  const double pc[3] = {p.x, p.y, p.z}, dc[3] = {dir.x, dir.y, dir.z};
  const double loc[3] = {lo.x, lo.y, lo.z}, hic[3] = {hi.x, hi.y, hi.z};
  double a = 0, b = kInfinityCm;
  for (int ax = 0; ax < 3; ++ax) {
    if (dc[ax] == 0) {
      if (pc[ax] < loc[ax] || pc[ax] >= hic[ax]) return false;
      continue;
    }
    const double inv = 1.0 / dc[ax];
    double t0 = (loc[ax] - pc[ax]) * inv, t1 = (hic[ax] - pc[ax]) * inv;
    if (t0 > t1) { const double s = t0; t0 = t1; t1 = s; }
    if (t0 > a) a = t0;
    if (t1 < b) b = t1;
  }
  if (!(b > a) || b <= 0) return false;
  t_in = a;
  t_out = b;
  return true;
}

// Moves p to where the ray enters the grid (when outside). Returns false if it misses;
// `travelled_cm` receives the distance moved. The point lands on the entry face; the
// walker/locate_along below resolve which voxel it is entering.
SABRE_HD_INLINE bool move_to_grid(const GridGeometry& g, Vec3& p, Vec3 dir,
                                  double& travelled_cm) {
  double t_in, t_out;
  travelled_cm = 0;
  if (!grid_entry_exit(g, p, dir, t_in, t_out)) return false;
  if (t_in > 0) {
    p = p + t_in * dir;
    travelled_cm = t_in;
  }
  return true;
}

// Voxel index along axis a of a point at coordinate x moving with direction component d: on
// a boundary, the voxel it moves into. May return -1 or n (outside).
SABRE_HD_INLINE int axis_cell(const GridGeometry& g, int a, double x, double d) {
  const int n = g.count(a);
  int c;
  if (!g.edges_cm[a]) {
    const double u = (x - g.origin(a)) / g.spacing(a);
    c = int(std::floor(u));
    if (d < 0 && double(c) == u) --c;  // exactly on a plane and moving down
  } else {
    c = g.cell(a, x);
    if (d < 0 && c >= 0 && c <= n && g.edges_cm[a][c] == x) --c;
  }
  if (c < -1) c = -1;
  if (c > n) c = n;
  return c;
}

struct VoxelWalker {
  int i = 0, j = 0, k = 0;                  // current voxel
  int step_i = 0, step_j = 0, step_k = 0;   // -1, 0, +1 per axis
  Vec3 start_cm;                            // ray origin [cm]
  Vec3 dir;                                 // unit direction
  double t_cm = 0;                          // distance from start to the current point [cm]

  // Starts at p (inside the grid, or on its surface moving in). Returns false when the
  // point is not in any voxel (outside, or on the surface moving out).
  SABRE_HD bool init(const GridGeometry& g, Vec3 p, Vec3 d) {
    start(p, d);
    i = axis_cell(g, 0, p.x, d.x);
    j = axis_cell(g, 1, p.y, d.y);
    k = axis_cell(g, 2, p.z, d.z);
    return inside(g);
  }
  // As init, but in a voxel the caller knows p to be in (p inside it or on its surface):
  // no relocation from the coordinates, whose rounding at a boundary plane can disagree
  // with the distance to that plane (a particle stopped at a material change must start
  // its next step in the new voxel, tests/physics/electron/fano_interface_test.cc).
  SABRE_HD bool init_in(const GridGeometry& g, Vec3 p, Vec3 d, std::int64_t v) {
    start(p, d);
    g.indices(v, i, j, k);
    return inside(g);
  }
  // The ray's start and direction and the step signs, shared by init and init_in.
  SABRE_HD void start(Vec3 p, Vec3 d) {
    start_cm = p;
    dir = d;
    t_cm = 0;
    step_i = d.x > 0 ? 1 : (d.x < 0 ? -1 : 0);
    step_j = d.y > 0 ? 1 : (d.y < 0 ? -1 : 0);
    step_k = d.z > 0 ? 1 : (d.z < 0 ? -1 : 0);
  }
  SABRE_HD bool inside(const GridGeometry& g) const {
    return i >= 0 && i < g.nx && j >= 0 && j < g.ny && k >= 0 && k < g.nz;
  }
  SABRE_HD std::int64_t voxel(const GridGeometry& g) const { return g.index(i, j, k); }

  // Distance from the start point to the exit plane of the current voxel (index c) along axis a.
  SABRE_HD static double plane_t(const GridGeometry& g, int a, double p, double d, int c, int step) {
    if (step == 0) return kInfinityCm;
    const double plane = g.plane(a, step > 0 ? c + 1 : c);
    const double t = (plane - p) / d;
    return t > 0 ? t : 0;
  }
  // Distance from the current point to the current voxel's exit [cm] (>= 0), and which
  // axis it exits through (0, 1, 2).
  SABRE_HD double to_boundary(const GridGeometry& g, int& axis) const {
    const double tx = plane_t(g, 0, start_cm.x, dir.x, i, step_i);
    const double ty = plane_t(g, 1, start_cm.y, dir.y, j, step_j);
    const double tz = plane_t(g, 2, start_cm.z, dir.z, k, step_k);
    double t = tx;
    axis = 0;
    if (ty < t) { t = ty; axis = 1; }
    if (tz < t) { t = tz; axis = 2; }
    const double s = t - t_cm;
    return s > 0 ? s : 0;
  }
  SABRE_HD double to_boundary(const GridGeometry& g) const {
    int axis;
    return to_boundary(g, axis);
  }
  // Moves to the next voxel through the nearest boundary. Returns false when that leaves
  // the grid (the walker is then outside; t_cm is at the grid surface).
  SABRE_HD bool cross(const GridGeometry& g) {
    int axis;
    t_cm += to_boundary(g, axis);
    if (axis == 0) i += step_i;
    else if (axis == 1) j += step_j;
    else k += step_k;
    return inside(g);
  }
  // Advances by s_cm within the current voxel (s_cm <= to_boundary()).
  SABRE_HD void advance(double s_cm) { t_cm += s_cm; }
  SABRE_HD Vec3 position() const { return start_cm + t_cm * dir; }
};

// Calls f(std::int64_t voxel, double segment_cm) for each voxel crossed by the segment from
// p along dir of length length_cm (segments of zero length are skipped). Returns the length
// inside the grid [cm]. p must be inside the grid (or on its surface moving in); if it is
// not, nothing is called and 0 is returned.
template <class F>
SABRE_HD double for_each_segment(const GridGeometry& g, Vec3 p, Vec3 dir, double length_cm,
                                 F&& f) {
  VoxelWalker w;
  if (!w.init(g, p, dir)) return 0;
  double left = length_cm, done = 0;
  while (left > 0) {
    const double b = w.to_boundary(g);
    if (b >= left) {
      f(w.voxel(g), left);
      done += left;
      break;
    }
    if (b > 0) {
      f(w.voxel(g), b);
      done += b;
      left -= b;
    }
    if (!w.cross(g)) break;
  }
  return done;
}

}  // namespace sabre::phys
