#include "engine/ct_calibration.hh"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/number.hh"
#include "core/log.hh"

namespace sabre {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, sep)) out.push_back(trim(x));
  return out;
}

double number(const std::string& s, const std::string& where) {
  if (s == "inf" || s == "Inf" || s == "INF") return std::numeric_limits<double>::infinity();
  if (const auto v = parse_finite(s)) return *v;
  throw InputError(where, "'" + s + "' is not a number");
}

}  // namespace

double CtCalibration::density(double h) const {
  if (h <= hu.front()) return density_g_cm3.front();
  if (h >= hu.back()) return density_g_cm3.back();
  const auto it = std::upper_bound(hu.begin(), hu.end(), h);
  const std::size_t b = std::size_t(it - hu.begin()), a = b - 1;
  const double t = (h - hu[a]) / (hu[b] - hu[a]);
  return density_g_cm3[a] + t * (density_g_cm3[b] - density_g_cm3[a]);
}

int CtCalibration::material_bin(double rho) const {
  const auto it = std::upper_bound(bin_upper_g_cm3.begin(), bin_upper_g_cm3.end(), rho);
  return int(std::min<std::size_t>(it - bin_upper_g_cm3.begin(), bin_upper_g_cm3.size() - 1));
}

CtCalibration CtCalibration::load(const std::string& name_or_path) {
  std::string path = name_or_path;
  if (name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos)
    path = (std::filesystem::path(build::data_dir()) / "physics" / "data" / "calibration" /
            (name_or_path + ".csv")).string();
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot open the CT calibration file");
  CtCalibration c;
  c.source = path;
  std::string line;
  int n = 0;
  bool format_seen = false;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + ":" + std::to_string(n);
    const auto f = split(line, ',');
    if (f[0] == "format") {
      if (f.size() != 3 || f[1] != "sabre-ct-calibration" || f[2] != "1")
        throw InputError(where, "unsupported format line (expected 'format,sabre-ct-calibration,1')");
      format_seen = true;
    } else if (f[0] == "point") {
      if (f.size() != 3) throw InputError(where, "a point line is 'point,HU,density_g_cm3'");
      const double h = number(f[1], where), rho = number(f[2], where);
      if (!std::isfinite(h) || !(rho > 0) || !std::isfinite(rho))
        throw InputError(where, "density must be positive and finite");
      if (!c.hu.empty() && !(h > c.hu.back())) throw InputError(where, "HU values must increase");
      if (!c.density_g_cm3.empty() && rho < c.density_g_cm3.back())
        throw InputError(where, "density must not decrease with HU");
      c.hu.push_back(h);
      c.density_g_cm3.push_back(rho);
    } else if (f[0] == "material") {
      if (f.size() != 3 || f[2].empty())
        throw InputError(where, "a material line is 'material,upper_density_g_cm3,name'");
      const double up = number(f[1], where);
      if (!c.bin_upper_g_cm3.empty() && !(up > c.bin_upper_g_cm3.back()))
        throw InputError(where, "material upper density limits must increase");
      c.bin_upper_g_cm3.push_back(up);
      c.bin_material.push_back(f[2]);
    } else {
      throw InputError(where, "unknown line kind '" + f[0] + "' (format, point, material)");
    }
  }
  if (!format_seen) throw InputError(path, "no 'format,sabre-ct-calibration,1' line: not a sabre CT calibration");
  if (c.hu.size() < 2) throw InputError(path, "needs at least two 'point' lines");
  if (c.bin_material.empty() || !std::isinf(c.bin_upper_g_cm3.back()))
    throw InputError(path, "the last 'material' line must have the upper limit inf");
  return c;
}

StructureOverride parse_override(const std::string& text) {
  const auto eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("override '" + text + "' is not ROI=density:VALUE or ROI=material:NAME");
  StructureOverride o;
  o.roi = text.substr(0, eq);
  for (const auto& part : split(text.substr(eq + 1), ',')) {
    const auto colon = part.find(':');
    const std::string key = part.substr(0, colon), value = colon == std::string::npos ? "" : trim(part.substr(colon + 1));
    if (key == "density" && !value.empty()) {
      o.density_g_cm3 = parse_finite(value);
      if (!o.density_g_cm3) throw UsageError("override '" + text + "': bad density '" + value + "'");
      if (!(*o.density_g_cm3 > 0)) throw UsageError("override '" + text + "': density must be positive");
    } else if (key == "material" && !value.empty()) {
      o.material = value;
    } else {
      throw UsageError("override '" + text + "': '" + part + "' is not density:VALUE or material:NAME");
    }
  }
  return o;
}

Phantom build_phantom(const io::CtImage& ct, const CtCalibration& cal, const io::StructureSet* rs,
                      const std::string& rs_path, const PhantomBuildOptions& opt) {
  Phantom p;
  p.grid = ct.grid;
  const auto n = ct.grid.size();
  SABRE_EXPECT(static_cast<std::int64_t>(ct.hu.size()) == n, "CT HU array does not match grid");
  std::map<std::string, std::int32_t> index;
  auto material_id = [&](const std::string& name) {
    auto [it, fresh] = index.emplace(name, std::int32_t(p.material_names.size()));
    if (fresh) p.material_names.push_back(name);
    return it->second;
  };
  std::vector<std::int32_t> bin_id;
  for (const auto& m : cal.bin_material) bin_id.push_back(material_id(m));
  p.material.resize(n);
  p.density_g_cm3.resize(n);
  for (std::int64_t v = 0; v < n; ++v) {
    const double rho = cal.density(ct.hu[v]);
    p.density_g_cm3[v] = float(rho);
    p.material[v] = bin_id[cal.material_bin(rho)];
  }
  if ((opt.overrides.empty() && !opt.air_outside_body)) return p;
  if (!rs) throw UsageError("structure overrides and --air-outside-body need an RT Structure Set");
  if (!rs->frame_of_reference_uid.empty() && !ct.ids.frame_of_reference_uid.empty() &&
      rs->frame_of_reference_uid != ct.ids.frame_of_reference_uid)
    throw InputError(rs_path, "its frame of reference " + rs->frame_of_reference_uid +
                                  " is not the CT's (" + ct.ids.frame_of_reference_uid + ")");
  auto roi_names = [&] {
    std::string s;
    for (const auto& r : rs->rois) s += (s.empty() ? "" : ", ") + r.name;
    return s;
  };
  if (opt.air_outside_body) {
    const io::Roi* body = opt.body_roi.empty() ? rs->body() : rs->find(opt.body_roi);
    if (!body)
      throw InputError(rs_path, (opt.body_roi.empty() ? std::string("no body ROI (type EXTERNAL, or named BODY/EXTERNAL)")
                                                      : "no ROI named '" + opt.body_roi + "'") +
                                    "; it has: " + roi_names());
    const auto mask = io::rasterise(*body, p.grid, rs_path);
    const auto air = material_id(opt.air_material);
    std::int64_t changed = 0;
    for (std::int64_t v = 0; v < n; ++v)
      if (!mask[v]) {
        p.material[v] = air;
        p.density_g_cm3[v] = float(opt.air_density_g_cm3);
        ++changed;
      }
    spdlog::info("{} voxels outside ROI '{}' set to {}", changed, body->name, opt.air_material);
  }
  for (const auto& o : opt.overrides) {
    const io::Roi* roi = rs->find(o.roi);
    if (!roi) throw InputError(rs_path, "no ROI named '" + o.roi + "' for an override; it has: " + roi_names());
    const auto mask = io::rasterise(*roi, p.grid, rs_path);
    const std::int32_t mat = o.material.empty() ? -1 : material_id(o.material);
    std::int64_t changed = 0;
    for (std::int64_t v = 0; v < n; ++v)
      if (mask[v]) {
        if (mat >= 0) p.material[v] = mat;
        if (o.density_g_cm3) p.density_g_cm3[v] = float(*o.density_g_cm3);
        ++changed;
      }
    if (changed == 0) spdlog::warn("override of ROI '{}' covers no voxel of the CT grid", roi->name);
    else spdlog::info("override of ROI '{}': {} voxels", roi->name, changed);
  }
  return p;
}

phys::GridGeometry dose_grid(const phys::GridGeometry& ct, double spacing_mm) {
  if (spacing_mm <= 0) return ct;
  phys::GridGeometry g;
  const double s = spacing_mm / 10;
  g.origin_cm = ct.origin_cm;
  g.spacing_cm = {s, s, s};
  g.nx = int(std::ceil(ct.nx * ct.spacing_cm.x / s - 1e-9));
  g.ny = int(std::ceil(ct.ny * ct.spacing_cm.y / s - 1e-9));
  g.nz = int(std::ceil(ct.nz * ct.spacing_cm.z / s - 1e-9));
  return g;
}

Phantom resample_phantom(const Phantom& p, const phys::GridGeometry& grid,
                         const std::string& outside_material, double outside_density_g_cm3) {
  Phantom out;
  out.grid = grid;
  out.material_names = p.material_names;
  std::int32_t outside = -1;
  out.material.resize(grid.size());
  out.density_g_cm3.resize(grid.size());
  for (int k = 0; k < grid.nz; ++k)
    for (int j = 0; j < grid.ny; ++j)
      for (int i = 0; i < grid.nx; ++i) {
        const auto c = grid.voxel_centre(i, j, k);
        int a, b, d;
        const auto v = grid.index(i, j, k);
        if (p.grid.locate(c, a, b, d)) {
          out.material[v] = p.material[p.grid.index(a, b, d)];
          out.density_g_cm3[v] = p.density_g_cm3[p.grid.index(a, b, d)];
        } else {
          if (outside < 0) {
            const auto it = std::find(out.material_names.begin(), out.material_names.end(), outside_material);
            outside = std::int32_t(it - out.material_names.begin());
            if (it == out.material_names.end()) out.material_names.push_back(outside_material);
          }
          out.material[v] = outside;
          out.density_g_cm3[v] = float(outside_density_g_cm3);
        }
      }
  return out;
}

}  // namespace sabre
