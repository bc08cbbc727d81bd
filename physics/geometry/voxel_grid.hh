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
  Vec3 spacing_cm;  // voxel size along x, y, z [cm]
  int nx = 0, ny = 0, nz = 0;

  SABRE_HD std::int64_t size() const { return std::int64_t(nx) * ny * nz; }
  SABRE_HD std::int64_t index(int i, int j, int k) const {
    return i + std::int64_t(nx) * (j + std::int64_t(ny) * k);
  }
  SABRE_HD Vec3 voxel_centre(int i, int j, int k) const {
    return {origin_cm.x + (i + 0.5) * spacing_cm.x, origin_cm.y + (j + 0.5) * spacing_cm.y,
            origin_cm.z + (k + 0.5) * spacing_cm.z};
  }
  SABRE_HD double voxel_volume_cm3() const { return spacing_cm.x * spacing_cm.y * spacing_cm.z; }
  SABRE_HD Vec3 upper_cm() const {
    return {origin_cm.x + nx * spacing_cm.x, origin_cm.y + ny * spacing_cm.y,
            origin_cm.z + nz * spacing_cm.z};
  }
  // Indices (i, j, k) of linear voxel index v.
  SABRE_HD void indices(std::int64_t v, int& i, int& j, int& k) const {
    i = int(v % nx);
    j = int((v / nx) % ny);
    k = int(v / (std::int64_t(nx) * ny));
  }
  // Voxel indices containing p; false when p is outside the grid.
  SABRE_HD bool locate(Vec3 p, int& i, int& j, int& k) const {
    i = int(std::floor((p.x - origin_cm.x) / spacing_cm.x));
    j = int(std::floor((p.y - origin_cm.y) / spacing_cm.y));
    k = int(std::floor((p.z - origin_cm.z) / spacing_cm.z));
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
};

}  // namespace sabre::phys
