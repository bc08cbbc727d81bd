// The voxel phantom on the host: it owns the per-voxel arrays that transport reads through
// a phys::PhantomView. Built from a CT image and a calibration (engine/ct_calibration.hh),
// or directly by tests and generators.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/grid_edges.hh"
#include "physics/geometry/voxel_grid.hh"

namespace sabre {

struct Phantom {
  phys::GridGeometry grid;                  // axis-aligned, patient LPS, cm; pointer-free
  GridEdges edges;                          // planes of non-uniform axes (engine/grid_edges.hh)
  std::vector<std::int32_t> material;       // [voxel] index into material_names
  std::vector<float> density_g_cm3;         // [voxel] mass density [g/cm^3]
  std::vector<std::string> material_names;  // material index -> name in the table set

  // A view for transport (with the planes attached). The phantom must outlive it and not be
  // resized meanwhile.
  // Checks (std::logic_error) that the arrays match the grid.
  phys::PhantomView view() const;

  // Re-indexes `material` so that index m means `table_names`' entry of the same name
  // (the loaded physics table set's order); throws InputError naming `table_file` and the
  // first material name the table set lacks.
  void resolve_materials(const std::vector<std::string>& table_names,
                         const std::string& table_file);
};

}  // namespace sabre
