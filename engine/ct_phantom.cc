#include "engine/ct_phantom.hh"

#include "core/memory.hh"

#include <chrono>
#include <ctime>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/h5.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"

namespace sabre {

CtPhantom load_ct_phantom(const CtPhantomOptions& opt) {
  PhantomBuildOptions build;
  build.overrides = opt.overrides;
  build.air_outside_body = opt.air_outside_body;
  build.body_roi = opt.body_roi;
  if ((!build.overrides.empty() || build.air_outside_body) && opt.structures_path.empty())
    throw UsageError("structure overrides and air outside the body need --structures RS.dcm");
  CtPhantom out;
  out.calibration = CtCalibration::load(opt.calibration);  // before the CT: cheap checks first
  out.ct = io::read_ct_series(opt.ct_path);
  if (!opt.structures_path.empty()) out.structures = io::read_rtstruct(opt.structures_path);
  out.phantom = build_phantom(out.ct, out.calibration, out.structures ? &*out.structures : nullptr,
                              opt.structures_path, build);
  if (opt.dose_grid_mm > 0) {
    const auto g = dose_grid(out.ct.grid, opt.dose_grid_mm);
    check_grid_memory(g.size(), kTransportBytesPerVoxel,
                      opt.ct_path + " (dose grid of " + std::to_string(opt.dose_grid_mm) + " mm)");
    out.phantom = resample_phantom(out.phantom, g);
  } else {
    check_grid_memory(out.phantom.grid.size(), kTransportBytesPerVoxel, opt.ct_path);
  }
  out.provenance["ct_path"] = opt.ct_path;
  out.provenance["ct_series_uid"] = out.ct.series_instance_uid;
  out.provenance["frame_of_reference_uid"] = out.ct.ids.frame_of_reference_uid;
  out.provenance["ct_calibration"] = out.calibration.source;
  // Digests: the series' is the SHA-256 of its slices' digests (hex, one per line) in
  // slice order, so it does not depend on file names or directory order.
  std::string slices;
  for (const auto& f : out.ct.files) slices += sha256_file(f) + "\n";
  out.provenance["input_sha256:ct_series"] = sha256_hex(slices);
  out.provenance["input_sha256:ct_calibration"] = sha256_file(out.calibration.source);
  if (!opt.structures_path.empty()) {
    out.provenance["structure_set"] = opt.structures_path;
    out.provenance["input_sha256:structure_set"] = sha256_file(opt.structures_path);
  }
  return out;
}

namespace {
std::vector<hsize_t> dims(const phys::GridGeometry& g) {
  return {hsize_t(g.nz), hsize_t(g.ny), hsize_t(g.nx)};
}
void write_grid(const h5::Group& grid, const phys::GridGeometry& g) {
  grid.set_attr("origin_cm", std::vector<double>{g.origin_cm.x, g.origin_cm.y, g.origin_cm.z});
  grid.set_attr("spacing_cm", std::vector<double>{g.spacing_cm.x, g.spacing_cm.y, g.spacing_cm.z});
  grid.set_attr("shape_xyz", std::vector<double>{double(g.nx), double(g.ny), double(g.nz)});
  grid.set_attr("first_voxel_centre_mm",
                std::vector<double>{10 * (g.origin_cm.x + 0.5 * g.spacing_cm.x),
                                    10 * (g.origin_cm.y + 0.5 * g.spacing_cm.y),
                                    10 * (g.origin_cm.z + 0.5 * g.spacing_cm.z)});
  grid.set_attr("frame", "DICOM patient coordinates (LPS)");
}
}  // namespace

void write_phantom_hdf5(const std::string& path, const CtPhantom& p) {
  OutputFile out(path);
  {
    auto f = h5::File::create(out.temp_path());
    const auto root = f.root();
    root.set_attr("format", "sabre-phantom");
    root.set_attr("schema_version", 1);
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char created[32];
    std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    root.set_attr("created_utc", created);
    write_grid(root.create_group("grid"), p.phantom.grid);
    const auto ph = root.create_group("phantom");
    ph.write("material", p.phantom.material, dims(p.phantom.grid), 4);
    ph.write("density_g_cm3", std::vector<double>(p.phantom.density_g_cm3.begin(), p.phantom.density_g_cm3.end()),
             dims(p.phantom.grid), 4);
    ph.set_attr("material_names", p.phantom.material_names);
    const auto ct = root.create_group("ct");
    write_grid(ct.create_group("grid"), p.ct.grid);
    ct.write("hu", std::vector<double>(p.ct.hu.begin(), p.ct.hu.end()), dims(p.ct.grid), 4);
    ct.set_attr("orientation", std::vector<double>{double(p.ct.orientation.x), double(p.ct.orientation.y)});
    ct.set_attr("patient_position", p.ct.patient_position);
    const auto pv = root.create_group("provenance");
    pv.set_attr("sabre_version", build::version());
    pv.set_attr("sabre_commit", build::git_commit());
    pv.set_attr("created_utc", created);
    for (const auto& [k, v] : p.provenance) pv.set_attr(k, v);
    f.close();
  }
  out.commit();
}

}  // namespace sabre
