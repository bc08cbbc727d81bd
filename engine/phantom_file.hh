// The phantom description file of `sabre simulate` (TOML, documented in
// docs/phantom-file.md): a voxel box of one material with slabs of other materials, a
// simple source (point or parallel, rectangular field, mono or spectrum), run settings
// and physics switches. Host only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "beams/source.hh"
#include "beams/spectrum.hh"
#include "engine/grid_edges.hh"
#include "engine/phantom.hh"
#include "physics/geometry/voxel_grid.hh"
#include "physics/transport/transport_params.hh"

namespace sabre {

struct SlabSpec {
  int axis = 2;            // 0 = x, 1 = y, 2 = z
  double from_cm = 0;      // voxels whose centre lies in [from_cm, to_cm) on that axis
  double to_cm = 0;
  std::string material;
  std::optional<double> density_g_cm3;  // unset: the table's nominal density
};

struct SourceSpec {
  phys::ParticleType particle = phys::ParticleType::photon;
  beams::SourceShape shape = beams::SourceShape::point;
  phys::Vec3 position_cm{0, 0, -100};   // point sources
  beams::PointSampling point_sampling = beams::PointSampling::area;  // point sources
  phys::Vec3 direction{0, 0, 1};        // beam axis
  phys::Vec3 field_centre_cm{0, 0, 0};  // centre of the field plane
  double field_x_cm[2] = {-5, 5};       // along u (x unless the axis is along x)
  double field_y_cm[2] = {-5, 5};       // along v = axis x u
  double energy_mev = 0;                // mono energy (if no spectrum)
  std::string spectrum;                 // spectrum file (absolute or relative to the file)
  std::string spectrum_column;          // CSV weight column
};

// [world]: a box of one material around the grid (issue 26). Transport runs on the grid with
// a shell of voxels around it filling the box (one voxel per side where the box extends past
// the grid); the dose reported is the grid's. Outside the box: vacuum.
struct WorldSpec {
  std::string material;                  // "" = no world (vacuum around the grid)
  std::optional<double> density_g_cm3;   // unset: the table's nominal density
  double box_cm[3][2] = {};              // per axis [lower, upper]; contains the grid
};

// Where the phantom grid sits in the transport grid (the grid plus the world's shell).
struct GridCrop {
  int offset[3] = {0, 0, 0};
  int n[3] = {0, 0, 0};
};

struct PhantomFile {
  std::string path;
  phys::GridGeometry grid;  // pointer-free (engine/grid_edges.hh)
  GridEdges edges;          // the non-uniform axes' planes
  std::string material = "water";
  std::optional<double> density_g_cm3;
  std::vector<SlabSpec> slabs;
  WorldSpec world;
  SourceSpec source;
  // [run]
  std::int64_t histories = 100000;
  int batches = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  // [physics]
  std::string tables;  // table file; "" = the default set
  // source_margin_density is 1 (off): the phantom file's point and parallel sources have no
  // field-restriction margin (the key is the run file's; docs/efficiency.md).
  phys::PhysicsSwitches switches = [] {
    phys::PhysicsSwitches s;
    s.source_margin_density = 1;
    return s;
  }();
  std::optional<double> electron_cut_mev, photon_cut_mev;  // absorption cuts
  // [output]
  std::string output;  // HDF5 path ("" = none)
};

// Parses the file; InputError naming it for syntax errors, unknown keys, bad values.
PhantomFile load_phantom_file(const std::string& path);

// Builds the voxel phantom transport runs on (with a [world], the grid and its shell):
// `material_names` are the table set's materials (indices into it are written),
// `nominal_density_g_cm3` their densities. InputError naming `pf.path`
// for a material the table set lacks.
Phantom build_phantom(const PhantomFile& pf, const std::vector<std::string>& material_names,
                      const std::vector<double>& nominal_density_g_cm3);

// The phantom grid's place in the transport grid build_phantom makes (offset 0 without a world).
GridCrop world_crop(const PhantomFile& pf);

// The source; `spectrum` must outlive it (its view is referenced) when the file names one.
beams::SimpleSource build_source(const SourceSpec& s, const beams::Spectrum* spectrum);

}  // namespace sabre
