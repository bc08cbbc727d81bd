// Host ownership of a grid's non-uniform voxel boundaries (issue 26). phys::GridGeometry
// carries raw pointers to per-axis plane coordinates so that the same struct runs on the
// device; the host containers that outlive a transport view (Phantom, DoseResult, the phantom
// file) keep the planes here and their `grid` member pointer-free, attaching the planes only
// where the geometry is used. A pointer-free grid of a non-uniform axis still has the right
// lower corner (origin_cm) but spacing_cm holds the axis's smallest width, so code that needs
// the planes must go through attach().
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "physics/geometry/voxel_grid.hh"

namespace sabre {

struct GridEdges {
  std::vector<double> cm[3];  // per axis: n + 1 increasing plane coordinates [cm]; empty: uniform

  bool operator==(const GridEdges&) const = default;
  bool uniform() const { return cm[0].empty() && cm[1].empty() && cm[2].empty(); }
  // g with this object's planes attached (valid while this object lives and is not changed).
  phys::GridGeometry attach(phys::GridGeometry g) const {
    for (int a = 0; a < 3; ++a) g.edges_cm[a] = cm[a].empty() ? nullptr : cm[a].data();
    return g;
  }
  // The planes g points to, copied (empty axes where g is uniform).
  static GridEdges of(const phys::GridGeometry& g) {
    GridEdges e;
    for (int a = 0; a < 3; ++a)
      if (g.edges_cm[a]) e.cm[a].assign(g.edges_cm[a], g.edges_cm[a] + g.count(a) + 1);
    return e;
  }
  // g without pointers (what host containers store).
  static phys::GridGeometry detach(phys::GridGeometry g) {
    for (auto& p : g.edges_cm) p = nullptr;
    return g;
  }
  // Sets axis a of `g` (pointer-free) to the planes `planes` (at least 2, strictly increasing:
  void set_axis(phys::GridGeometry& g, int a, std::vector<double> planes) {
    const int n = int(planes.size()) - 1;
    double w = planes[1] - planes[0];
    for (int c = 1; c < n; ++c) w = std::min(w, planes[std::size_t(c) + 1] - planes[std::size_t(c)]);
    if (a == 0) g.nx = n, g.origin_cm.x = planes[0], g.spacing_cm.x = w;
    if (a == 1) g.ny = n, g.origin_cm.y = planes[0], g.spacing_cm.y = w;
    if (a == 2) g.nz = n, g.origin_cm.z = planes[0], g.spacing_cm.z = w;
    cm[a] = std::move(planes);
  }
};

}  // namespace sabre
