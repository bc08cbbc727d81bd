// DICOM RT Structure Set: ROI names and contours in patient coordinates [mm] (read and
// write), and rasterisation of closed planar contours onto a voxel grid (for density and
// material overrides, and for the outside-the-body mask). See docs/dicom.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/io/ct_series.hh"
#include "physics/geometry/voxel_grid.hh"

namespace sabre::io {

struct Contour {
  std::string geometric_type;                // CLOSED_PLANAR, POINT, OPEN_PLANAR...
  std::vector<std::array<double, 3>> points_mm;  // patient coordinates [mm]
};

struct Roi {
  int number = 0;             // ROINumber
  std::string name;           // ROIName
  std::string interpreted_type;  // RTROIInterpretedType (EXTERNAL, ORGAN, GTV, PTV...) or ""
  std::array<int, 3> colour{255, 0, 0};
  std::vector<Contour> contours;
};

struct StructureSet {
  std::string label;
  std::string sop_instance_uid;
  std::string frame_of_reference_uid;
  std::vector<Roi> rois;
  const Roi* find(const std::string& name) const;  // exact name, then case-insensitive
  // The body outline: the ROI of type EXTERNAL, else one named BODY, EXTERNAL, OUTLINE
  // or SKIN (case-insensitive); nullptr when there is none.
  const Roi* body() const;
};

// Reads an RT Structure Set file. Throws InputError naming `path` when it is not one, or
// when a contour is malformed (point count not matching ContourData).
StructureSet read_rtstruct(const std::string& path);

// Writes `rs` as an RT Structure Set referencing the CT series `ct` (its patient, study,
// frame of reference and slice SOP instances); temporary name + rename.
void write_rtstruct(const std::string& path, const StructureSet& rs, const CtImage& ct,
                    const std::string& uid_seed = "");

// An ROI's closed planar contours grouped by plane, for rasterisers (rasterise below, the
// sub-voxel DVH of engine/check/dvh.hh). A plane covers z within half the spacing to its
// neighbour on that side (the outermost planes: half the spacing to their one neighbour; a
// single plane: `single_plane_half_mm`). Throws InputError(`source`) for a non-axial contour.
class RoiPlanes {
 public:
  RoiPlanes(const Roi& roi, const std::string& source, double single_plane_half_mm);
  bool empty() const { return zs_.empty(); }
  // The contours of the plane covering z [mm], or nullptr.
  const std::vector<const Contour*>* at(double z_mm) const;
  // The even-odd crossings of `contours` with the line y = y_mm: sorted x [mm]; inside is
  // [x0, x1), [x2, x3), ...
  static std::vector<double> crossings(const std::vector<const Contour*>& contours, double y_mm);
  // The volume the contours describe: each plane's even-odd area times the z it covers [mm3].
  double volume_mm3() const;
  // Where coverage can change along z [mm], sorted: each plane's lower and upper limits.
  std::vector<double> edges_mm() const;

 private:
  std::vector<double> zs_;
  std::vector<std::vector<const Contour*>> contours_;
  double single_half_ = 0;
  double half_below(std::size_t k) const;
  double half_above(std::size_t k) const;
};

// Voxels of `grid` whose centre lies inside the ROI's closed planar contours: for each grid
// slice, the ROI's contour plane nearest the slice centre is used when it is within half the
// plane spacing (half the grid spacing for a single plane); several contours on a plane
// combine by the even-odd rule (so holes work). Contours must be axial (constant z).
// Returns a mask [voxel] of 0/1. Throws InputError(`source`) for a non-axial contour.
std::vector<std::uint8_t> rasterise(const Roi& roi, const phys::GridGeometry& grid,
                                    const std::string& source);

}  // namespace sabre::io
