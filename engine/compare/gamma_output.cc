#include "engine/compare/gamma_output.hh"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/build_info.hh"
#include "core/sha256.hh"
#include "core/errors.hh"
#include "core/h5.hh"
#include "core/output_file.hh"
#include "engine/viz/png.hh"

namespace sabre::compare {

namespace {

// Signed 64-bit integer array attribute (the h5 helper writes double arrays only).
void set_int64_array_attr(const h5::Group& g, const std::string& name,
                          const std::vector<std::int64_t>& values) {
  const hsize_t n = values.size();
  h5::Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  h5::Handle a(H5Acreate2(g.id(), name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                          H5P_DEFAULT),
               H5Aclose);
  if (!a.valid() || H5Awrite(a.get(), H5T_NATIVE_INT64, values.data()) < 0)
    throw RuntimeError(g.file() + ": cannot write output: attribute " + name);
}

}  // namespace

void write_gamma_hdf5(const std::string& path, const GammaResult& r,
                      const std::string& reference_file, const std::string& evaluated_file) {
  OutputFile out(path);
  {
    auto f = h5::File::create(out.temp_path());
    const auto root = f.root();
    root.set_attr("format", kGammaHdf5Format);
    root.set_attr("schema_version", kGammaHdf5SchemaVersion);
    root.set_attr("sabre_version", build::version());
    root.set_attr("sabre_commit", build::git_commit());
    root.set_attr("reference_file", reference_file);
    root.set_attr("evaluated_file", evaluated_file);
    root.set_attr("input_sha256:reference_file", sha256_file(reference_file));
    root.set_attr("input_sha256:evaluated_file", sha256_file(evaluated_file));

    const auto& g = r.grid;
    const std::vector<hsize_t> dims = {hsize_t(g.nz), hsize_t(g.ny), hsize_t(g.nx)};
    {
      const auto grid = root.create_group("grid");
      grid.set_attr("origin_cm", std::vector<double>{g.origin_cm.x, g.origin_cm.y, g.origin_cm.z});
      grid.set_attr("spacing_cm",
                    std::vector<double>{g.spacing_cm.x, g.spacing_cm.y, g.spacing_cm.z});
      set_int64_array_attr(grid, "shape_xyz", {g.nx, g.ny, g.nz});
      grid.set_attr("frame", "DICOM patient coordinates (LPS); the reference dose grid");
    }
    std::vector<double> gamma(r.gamma.begin(), r.gamma.end());
    root.write("gamma", gamma, dims, 4);
    std::vector<std::int32_t> pass(r.pass.size());
    for (std::size_t v = 0; v < pass.size(); ++v) pass[v] = r.pass[v] == 255 ? -1 : r.pass[v];
    root.write("pass", pass, dims, 4);
    std::vector<double> diff(r.difference_gy.begin(), r.difference_gy.end());
    root.write("dose_difference_gy", diff, dims, 4);

    const auto& c = r.criteria;
    {
      const auto cr = root.create_group("criteria");
      cr.set_attr("dose_percent", 100 * c.dose_fraction);
      cr.set_attr("distance_mm", c.distance_mm);
      cr.set_attr("normalisation", c.local ? "local" : "global");
      cr.set_attr("threshold_percent", 100 * c.threshold_fraction);
      cr.set_attr("threshold_gy", r.threshold_gy);
      cr.set_attr("norm_dose_gy", r.norm_dose_gy);
      cr.set_attr("max_search_mm", r.max_search_mm);
      cr.set_attr("interpolation", "trilinear between evaluated voxel centres");
    }
    {
      const auto s = root.create_group("summary");
      s.set_attr("pass_rate_percent", r.pass_rate_percent);
      s.set_attr("evaluated_voxels", r.evaluated);
      s.set_attr("passed_voxels", r.passed);
      s.set_attr("no_evaluated_dose_voxels", r.outside_evaluated_grid);
      s.set_attr("mean_gamma", r.mean_gamma);
      s.set_attr("max_gamma", r.max_gamma);
      s.set_attr("gamma_p95", r.gamma_p95);
      s.set_attr("reference_max_gy", r.reference_max_gy);
      const auto& d = r.difference;
      s.set_attr("dose_difference_voxels", d.voxels);
      s.set_attr("dose_difference_mean_gy", d.mean_gy);
      s.set_attr("dose_difference_sd_gy", d.sd_gy);
      s.set_attr("dose_difference_min_gy", d.min_gy);
      s.set_attr("dose_difference_max_gy", d.max_gy);
      s.set_attr("dose_difference_mean_abs_percent", d.mean_abs_percent);
      s.set_attr("within_levels_percent", d.within_levels_percent);
      s.set_attr("within_percent", d.within_percent);
    }
    f.close();
  }
  out.commit();
}

int gamma_png_slice(const GammaResult& r) {
  return int(r.reference_max_index / (std::int64_t(r.grid.nx) * r.grid.ny));
}

void write_gamma_png(const std::string& path, const GammaResult& r, const DoseResult& reference) {
  const auto& g = r.grid;
  const int k = gamma_png_slice(r);
  // Square pixels of size min(sx, sy) / f, f an integer so the picture is >= 400 px wide
  // (at most 8 pixels per voxel edge).
  const double sx = g.spacing_cm.x, sy = g.spacing_cm.y;
  const double base = std::min(sx, sy);
  int f = 1;
  while (f < 8 && g.nx * sx / base * f < 400) ++f;
  const double pix_cm = base / f;
  const int w = std::max(1, int(std::lround(g.nx * sx / pix_cm)));
  const int h_map = std::max(1, int(std::lround(g.ny * sy / pix_cm)));
  const int bar_h = std::max(8, h_map / 20), gap = 4;
  viz::Image img(w, h_map + gap + bar_h, {0, 0, 0});
  const double dmax = r.reference_max_gy > 0 ? r.reference_max_gy : 1.0;
  for (int py = 0; py < h_map; ++py) {
    const int j = std::min(g.ny - 1, int((py + 0.5) * pix_cm / sy));
    for (int px = 0; px < w; ++px) {
      const int i = std::min(g.nx - 1, int((px + 0.5) * pix_cm / sx));
      const std::int64_t v = g.index(i, j, k);
      if (r.pass[v] != 255) {
        img.set(px, py, viz::colour(viz::Colormap::gamma, double(r.gamma[v]) / 2.0));
      } else {
        img.set(px, py, viz::colour(viz::Colormap::grey, 0.6 * reference.dose_gy[v] / dmax));
      }
    }
  }
  const auto bar = viz::colour_bar(viz::Colormap::gamma, w, bar_h);
  for (int y = 0; y < bar_h; ++y)
    for (int x = 0; x < w; ++x) img.set(x, h_map + gap + y, bar.get(x, y));
  for (int y = 0; y < bar_h; ++y) img.set(w / 2, h_map + gap + y, {255, 255, 255});  // gamma 1
  viz::write_png(path, img);
}

}  // namespace sabre::compare
