// The voxel phantom's geometry: a rectilinear, axis-aligned grid in the patient (DICOM LPS)
// frame, in cm. Voxel (i, j, k) spans [origin + i*spacing, origin + (i+1)*spacing) on each
// axis; its linear index is i + nx*(j + ny*k) (x fastest), as in DICOM pixel order.
// Shared by host and device.
#pragma once

#include <cmath>
#include <cstdint>

#include "physics/core/macros.hh"
#include "physics/core/particle.hh"

namespace sabre::phys {

struct GridGeometry {
  Vec3 origin_cm;   // corner of voxel (0,0,0) with the lowest coordinates [cm] (NOT its centre)
  Vec3 spacing_cm;  // voxel size along x, y, z [cm]; on a non-uniform axis its smallest width
  int nx = 0, ny = 0, nz = 0;
  std::int32_t padding_ = 0;  // explicit: no uninitialised bytes (tests/kernels/params_relocation_test.cc)
  // Non-uniform axes (issue 26, as DOSXYZnrc's voxel boundaries): edges_cm[a], when not null,
  // points to the n_a + 1 strictly increasing plane coordinates of axis a [cm], voxel c spanning
  // [edges_cm[a][c], edges_cm[a][c + 1]); origin_cm is then edges_cm[a][0]. Null: the uniform
  // planes origin + c * spacing. The arrays are owned elsewhere: host containers keep them in a
  // GridEdges (engine/grid_edges.hh) and attach them where the geometry is used.
  const double* edges_cm[3] = {nullptr, nullptr, nullptr};

  SABRE_HD bool uniform() const { return !edges_cm[0] && !edges_cm[1] && !edges_cm[2]; }
  SABRE_HD int count(int a) const { return a == 0 ? nx : (a == 1 ? ny : nz); }
  SABRE_HD double origin(int a) const { return a == 0 ? origin_cm.x : (a == 1 ? origin_cm.y : origin_cm.z); }
  SABRE_HD double spacing(int a) const { return a == 0 ? spacing_cm.x : (a == 1 ? spacing_cm.y : spacing_cm.z); }
  // The smallest voxel width over the three axes [cm] (on a non-uniform axis spacing_cm is
  // already its smallest width, so this bounds every voxel).
  SABRE_HD double min_spacing() const {
    const Vec3 s = spacing_cm;
    return s.x < s.y ? (s.x < s.z ? s.x : s.z) : (s.y < s.z ? s.y : s.z);
  }
  // Coordinate of plane c (0..n) of axis a [cm].
  SABRE_HD double plane(int a, int c) const {
    return edges_cm[a] ? edges_cm[a][c] : origin(a) + c * spacing(a);
  }
  // Width of voxel c along axis a [cm].
  SABRE_HD double width(int a, int c) const {
    return edges_cm[a] ? edges_cm[a][c + 1] - edges_cm[a][c] : spacing(a);
  }
  // Index along axis a of the voxel holding coordinate x: floor on a uniform axis (any
  // integer), on a non-uniform one -1 below the first plane, n at or above the last.
  SABRE_HD int cell(int a, double x) const {
    const double* e = edges_cm[a];
    if (!e) return int(std::floor((x - origin(a)) / spacing(a)));
    const int n = count(a);
    if (!(x >= e[0])) return -1;
    if (x >= e[n]) return n;
    int lo = 0, hi = n;  // e[lo] <= x < e[hi]
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      if (x >= e[mid]) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  SABRE_HD std::int64_t size() const { return std::int64_t(nx) * ny * nz; }
  SABRE_HD std::int64_t index(int i, int j, int k) const {
    return i + std::int64_t(nx) * (j + std::int64_t(ny) * k);
  }
  SABRE_HD Vec3 voxel_centre(int i, int j, int k) const {
    if (uniform())
      return {origin_cm.x + (i + 0.5) * spacing_cm.x, origin_cm.y + (j + 0.5) * spacing_cm.y,
              origin_cm.z + (k + 0.5) * spacing_cm.z};
    return {0.5 * (plane(0, i) + plane(0, i + 1)), 0.5 * (plane(1, j) + plane(1, j + 1)),
            0.5 * (plane(2, k) + plane(2, k + 1))};
  }
  // Volume of a voxel of a uniform grid [cm^3]; voxel_volume_cm3(v) for any grid.
  SABRE_HD double voxel_volume_cm3() const { return spacing_cm.x * spacing_cm.y * spacing_cm.z; }
  SABRE_HD double voxel_volume_cm3(std::int64_t v) const {
    if (uniform()) return voxel_volume_cm3();
    int i, j, k;
    indices(v, i, j, k);
    return width(0, i) * width(1, j) * width(2, k);
  }
  SABRE_HD Vec3 upper_cm() const { return {plane(0, nx), plane(1, ny), plane(2, nz)}; }
  // Indices (i, j, k) of linear voxel index v.
  SABRE_HD void indices(std::int64_t v, int& i, int& j, int& k) const {
    i = int(v % nx);
    j = int((v / nx) % ny);
    k = int(v / (std::int64_t(nx) * ny));
  }
  // Voxel indices containing p; false when p is outside the grid.
  SABRE_HD bool locate(Vec3 p, int& i, int& j, int& k) const {
    i = cell(0, p.x);
    j = cell(1, p.y);
    k = cell(2, p.z);
    return i >= 0 && i < nx && j >= 0 && j < ny && k >= 0 && k < nz;
  }
};

// Read-only phantom data for transport ("params"): geometry plus, per voxel, a material
// index into the material tables and a mass density. Owns nothing.
struct PhantomView {
  GridGeometry grid;
  const std::int32_t* material = nullptr;   // [voxel] material index in the table set
  const float* density_g_cm3 = nullptr;     // [voxel] mass density [g/cm^3]
  float max_density_g_cm3 = 0;              // for the Woodcock majorant
  std::int32_t padding_ = 0;                // explicit: no uninitialised bytes
  // The far-step safety map (physics/transport/step_safety.hh): per voxel the Chebyshev
  // distance in voxels to another material or the grid's outside (1..255), per material its
  // smallest density here. nullptr: no far steps (PhysicsSwitches::far_steps has no effect).
  const std::uint8_t* step_safety = nullptr;            // [voxel]
  const float* material_min_density_g_cm3 = nullptr;  // [material]
  // A bound on the photons' attenuation per block of voxels (physics/transport/
  // block_majorant.hh): the grid cut into blocks of 2^block_shift voxels per side (fewer at
  // the upper faces), per block its largest density, index bx + block_count[0] * (by +
  // block_count[1] * bz) with b_a = voxel index >> block_shift. nullptr: none.
  const float* block_max_density_g_cm3 = nullptr;  // [block]
  std::int32_t block_shift = 0;
  std::int32_t block_count[3] = {0, 0, 0};
  SABRE_HD std::int64_t block_total() const {
    return std::int64_t(block_count[0]) * block_count[1] * block_count[2];
  }
  SABRE_HD std::int64_t block_of(int i, int j, int k) const {
    return (i >> block_shift) +
           std::int64_t(block_count[0]) * ((j >> block_shift) + std::int64_t(block_count[1]) * (k >> block_shift));
  }
};

}  // namespace sabre::phys
