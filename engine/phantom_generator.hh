// Generated test and example phantoms, defined analytically in patient coordinates (LPS,
// mm, centred on the origin) and sampled at voxel centres into a CT image (HU) with an RT
// Structure Set of the same shapes. The patient position only changes how the image is
// stored (orientation cosines), never where the anatomy is in patient coordinates.
// `sabre phantom` (cli/cmd_phantom.cc) is the command line; docs/cli.md documents it.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/io/ct_series.hh"
#include "engine/io/rtstruct.hh"

namespace sabre {

struct Slab {
  std::string name;   // ROI name and material keyword (or "HU<value>")
  double hu = 0;
  double thickness_mm = 0;
};

struct PhantomSpec {
  std::string kind = "water";  // "water" (box), "cylinder" (water, along z), "slabs", "thorax"
  // Object size [mm] (x: left-right, y: anterior-posterior, z: inferior-superior); a zero
  // entry takes the kind's default (water 100 x 100 x 100, cylinder 300 (x = y) x 300,
  // slabs 100 x sum x 100, thorax 300 x 200 x 120 for the body ellipse).
  std::array<double, 3> size_mm{0, 0, 0};
  double spacing_mm = 2.5;  // in-plane voxel size [mm]
  double slice_mm = 2.5;    // slice spacing [mm]
  double margin_mm = 10;    // air around the object in x and y [mm]
  std::string position = "HFS";  // HFS, HFP, FFS, FFP
  std::vector<Slab> slabs;       // for "slabs": along +y (anterior to posterior, beam depth)
};

// Parses "water:20,lung:60,bone:10,HU-500:5" into slabs (thickness in mm). Material
// keywords: air, lung, adipose, water, muscle, bone (HU -1000, -750, -100, 0, 40, 1000).
// Throws UsageError for a malformed spec.
std::vector<Slab> parse_slabs(const std::string& spec);

struct GeneratedPhantom {
  io::CtImage ct;
  io::StructureSet structures;
};

// Throws UsageError for an unknown kind or position, or non-positive sizes.
GeneratedPhantom generate_phantom(const PhantomSpec& spec);

// Writes the CT series (CT_0001.dcm...) and RS.dcm into `dir`. UIDs are derived from
// `uid_seed` when it is not empty (the same spec gives the same files).
void write_generated_phantom(const std::string& dir, GeneratedPhantom& p, const std::string& uid_seed);

}  // namespace sabre
