// The result of a transport run on a voxel grid, as the engine hands it to writers
// (HDF5, DICOM RT Dose, pictures) and to comparison tools.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/grid_edges.hh"
#include "physics/geometry/voxel_grid.hh"

namespace sabre {

struct DoseResult {
  phys::GridGeometry grid;            // dose grid geometry (patient LPS frame, cm), pointer-free
  GridEdges edges;                    // planes of its non-uniform axes (engine/grid_edges.hh)
  std::vector<double> dose_gy;        // [voxel] absorbed dose [Gy] (per history unless
                                      // `dose_unit` says per MU or absolute)
  std::vector<double> rel_uncertainty;  // [voxel] relative 1-sigma STATISTICAL uncertainty
                                        // of dose_gy (0 where dose is 0)
  std::string dose_unit = "Gy/history";  // "Gy/history", "Gy/MU" or "Gy"
  bool dose_to_water = false;         // false: dose to medium
  // The quantity as every output names it.
  const char* quantity() const { return dose_to_water ? "dose to water" : "dose to medium"; }
  std::int64_t histories = 0;         // primary histories simulated
  int batches = 0;                    // independent batches behind rel_uncertainty
  std::uint64_t seed = 0;
  std::string device;                 // e.g. "cpu:2 threads", "cuda:0 NVIDIA H100"
  double wall_seconds = 0;
  double mean_rel_uncertainty_50 = 0;  // mean relative 1-sigma over voxels > 50 % of max
                                       // (statistical)
  // Relative 1-sigma of the calibration to Gy, common to every voxel (0: not calibrated).
  // The uncertainty of an absolute dose is this and rel_uncertainty in quadrature
  // (total_rel_uncertainty below; the HDF5's /dose/rel_uncertainty, docs/hdf5-output.md).
  double calibration_rel_uncertainty = 0;
  // Optional per-voxel maps of the phantom the dose was computed in (same grid or empty).
  std::vector<std::int32_t> material;
  std::vector<float> density_g_cm3;
  std::vector<std::string> material_names;
  // Free-form provenance (input file digests, table digest, machine model...): key -> value.
  std::map<std::string, std::string> provenance;
};

// The relative 1-sigma of a voxel's dose: statistical and calibration in quadrature, 0 where
// the dose is 0; the statistical value itself (same bits) when there is no calibration term.
inline double total_rel_uncertainty(double dose, double statistical, double calibration) {
  if (!(dose > 0)) return statistical;
  if (calibration == 0) return statistical;
  return std::sqrt(statistical * statistical + calibration * calibration);
}
inline std::vector<double> total_rel_uncertainty(const DoseResult& d) {
  std::vector<double> u(d.rel_uncertainty.size());
  for (std::size_t v = 0; v < u.size(); ++v)
    u[v] = total_rel_uncertainty(d.dose_gy[v], d.rel_uncertainty[v], d.calibration_rel_uncertainty);
  return u;
}

}  // namespace sabre
