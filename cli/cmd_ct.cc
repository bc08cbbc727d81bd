// sabre ct: reads a DICOM CT series (+ RT Structure Set), builds the voxel phantom with a
// calibration and overrides, prints what it found, and optionally writes the phantom.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/registry.hh"
#include "core/output_file.hh"
#include "engine/ct_phantom.hh"

namespace sabre::cli {
namespace {

struct CtOptions {
  CtPhantomOptions load;
  std::vector<std::string> overrides;
  std::string output;
  bool json = false;
};

void run_ct(CtOptions& opt) {
  for (const auto& o : opt.overrides) opt.load.overrides.push_back(parse_override(o));
  if (!opt.output.empty()) check_output_paths({opt.output});
  const auto p = load_ct_phantom(opt.load);
  const auto& ct = p.ct;
  const auto& g = ct.grid;
  float lo = 0, hi = 0;
  if (!ct.hu.empty()) {
    const auto [a, b] = std::minmax_element(ct.hu.begin(), ct.hu.end());
    lo = *a;
    hi = *b;
  }
  std::vector<long> count(p.phantom.material_names.size(), 0);
  std::vector<double> rho_sum(count.size(), 0);
  for (std::size_t v = 0; v < p.phantom.material.size(); ++v) {
    ++count[p.phantom.material[v]];
    rho_sum[p.phantom.material[v]] += p.phantom.density_g_cm3[v];
  }
  const auto& pg = p.phantom.grid;
  if (opt.json) {
    nlohmann::json j;
    j["slices"] = g.nz;
    j["ct_shape_xyz"] = {g.nx, g.ny, g.nz};
    j["ct_origin_cm"] = {g.origin_cm.x, g.origin_cm.y, g.origin_cm.z};
    j["ct_spacing_cm"] = {g.spacing_cm.x, g.spacing_cm.y, g.spacing_cm.z};
    j["orientation_signs"] = {ct.orientation.x, ct.orientation.y, ct.orientation.z()};
    j["patient_position"] = ct.patient_position;
    j["frame_of_reference_uid"] = ct.ids.frame_of_reference_uid;
    j["series_instance_uid"] = ct.series_instance_uid;
    j["hu_min"] = lo;
    j["hu_max"] = hi;
    j["phantom_shape_xyz"] = {pg.nx, pg.ny, pg.nz};
    j["phantom_spacing_cm"] = {pg.spacing_cm.x, pg.spacing_cm.y, pg.spacing_cm.z};
    j["calibration"] = p.calibration.source;
    j["materials"] = nlohmann::json::array();
    for (std::size_t m = 0; m < count.size(); ++m)
      j["materials"].push_back({{"name", p.phantom.material_names[m]}, {"voxels", count[m]},
                                {"mean_density_g_cm3", count[m] ? rho_sum[m] / count[m] : 0.0}});
    j["rois"] = nlohmann::json::array();
    if (p.structures)
      for (const auto& r : p.structures->rois) j["rois"].push_back(r.name);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "CT series: " << g.nz << " slices of " << g.nx << " x " << g.ny << ", voxel "
              << g.spacing_cm.x * 10 << " x " << g.spacing_cm.y * 10 << " x " << g.spacing_cm.z * 10
              << " mm, position " << (ct.patient_position.empty() ? "?" : ct.patient_position)
              << " (orientation signs " << ct.orientation.x << " " << ct.orientation.y << " "
              << ct.orientation.z() << ")\n";
    std::cout << "extent (mm): x " << g.origin_cm.x * 10 << " .. " << g.upper_cm().x * 10 << ", y "
              << g.origin_cm.y * 10 << " .. " << g.upper_cm().y * 10 << ", z " << g.origin_cm.z * 10
              << " .. " << g.upper_cm().z * 10 << "\n";
    std::cout << "HU: " << lo << " .. " << hi << "\n";
    std::cout << "frame of reference: " << ct.ids.frame_of_reference_uid << "\n";
    if (p.structures) {
      std::cout << "structures (" << p.structures->rois.size() << "):";
      for (const auto& r : p.structures->rois) std::cout << " " << r.name;
      std::cout << "\n";
    }
    std::cout << "phantom: " << pg.nx << " x " << pg.ny << " x " << pg.nz << " voxels of "
              << pg.spacing_cm.x * 10 << " x " << pg.spacing_cm.y * 10 << " x " << pg.spacing_cm.z * 10
              << " mm, calibration " << p.calibration.source << "\n";
    for (std::size_t m = 0; m < count.size(); ++m)
      if (count[m])
        std::cout << "  " << p.phantom.material_names[m] << ": " << count[m] << " voxels, mean "
                  << rho_sum[m] / count[m] << " g/cm3\n";
  }
  if (!opt.output.empty()) write_phantom_hdf5(opt.output, p);
}

const bool registered = register_command(
    "ct", "Read a DICOM CT series (+ RT Structure Set) into the voxel phantom; print it, optionally write it",
    [](CLI::App& sub) {
      auto opt = std::make_shared<CtOptions>();
      sub.add_option("ct", opt->load.ct_path, "CT series directory (or one slice)")->required();
      sub.add_option("--structures", opt->load.structures_path, "RT Structure Set file");
      sub.add_option("--calibration", opt->load.calibration,
                     "schneider (default), ramp4, or a calibration CSV (docs/ct-calibration.md)");
      sub.add_option("--override", opt->overrides,
                     "ROI=density:G_CM3 and/or material:NAME (repeatable, in order)");
      sub.add_flag("--air-outside-body", opt->load.air_outside_body, "Voxels outside the body ROI become air");
      sub.add_option("--body-roi", opt->load.body_roi, "Body ROI name (default: EXTERNAL type, BODY...)");
      sub.add_option("--dose-grid", opt->load.dose_grid_mm, "Phantom/dose voxel size in mm (default: the CT grid)");
      sub.add_option("-o,--output", opt->output, "Write the phantom as HDF5 (docs/hdf5-output.md)");
      sub.add_flag("--json", opt->json, "Print one JSON object");
      sub.callback([opt] { run_ct(*opt); });
    });

}  // namespace
}  // namespace sabre::cli
