// The result of a transport run on a voxel grid, as the engine hands it to writers
// (HDF5, DICOM RT Dose, pictures) and to comparison tools.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "physics/geometry/voxel_grid.hh"

namespace sabre {

struct DoseResult {
  phys::GridGeometry grid;            // dose grid geometry (patient LPS frame, cm)
  std::vector<double> dose_gy;        // [voxel] absorbed dose [Gy] (per history unless
                                      // `dose_unit` says per MU or absolute)
  std::vector<double> rel_uncertainty;  // [voxel] relative 1-sigma statistical uncertainty
                                        // of dose_gy (0 where dose is 0)
  std::string dose_unit = "Gy/history";  // "Gy/history", "Gy/MU" or "Gy"
  bool dose_to_water = false;         // false: dose to medium
  std::int64_t histories = 0;         // primary histories simulated
  int batches = 0;                    // independent batches behind rel_uncertainty
  std::uint64_t seed = 0;
  std::string device;                 // e.g. "cpu:2 threads", "cuda:0 NVIDIA H100"
  double wall_seconds = 0;
  double mean_rel_uncertainty_50 = 0;  // mean relative 1-sigma over voxels > 50 % of max
  // Optional per-voxel maps of the phantom the dose was computed in (same grid or empty).
  std::vector<std::int32_t> material;
  std::vector<float> density_g_cm3;
  std::vector<std::string> material_names;
  // Free-form provenance (input file digests, table digest, machine model...): key -> value.
  std::map<std::string, std::string> provenance;
};

}  // namespace sabre
