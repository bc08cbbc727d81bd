// Phantom description file reader (format: docs/phantom-file.md).
#include "engine/phantom_file.hh"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <toml++/toml.h>

#include "beams/toml_keys.hh"
#include "core/errors.hh"
#include "engine/efficiency.hh"
#include "engine/toml_section.hh"
#include "physics/core/direction.hh"

namespace sabre {
namespace fs = std::filesystem;

namespace {

// The phantom file's tables: engine/toml_section.hh, plus its vectors and voxel planes.
class Section : public TomlSection {
 public:
  Section(const toml::table& t, const std::string& file, std::string where) : TomlSection(t, file, std::move(where)) {}

  bool vec3(const char* key, phys::Vec3& v) {
    double a[3];
    if (!numbers(key, a, 3)) return false;
    v = {a[0], a[1], a[2]};
    return true;
  }
  // The planes of one axis ("x", "y", "z") given as <a>_boundaries_cm = [p0, p1, ...] (at least
  // two, strictly increasing) or as <a>_groups = [[width_cm, count], ...] from <a>_start_cm
  // (default: centred on 0, or 0 for z when `from_zero`), DOSXYZnrc's two ways of giving
  // voxel boundaries.
  std::vector<double> axis_planes(const std::string& a, bool from_zero) {
    const std::string kb = a + "_boundaries_cm", kg = a + "_groups", ks = a + "_start_cm";
    const auto* b = get(kb.c_str());
    const auto* g = get(kg.c_str());
    const auto start = num(ks.c_str());
    if (b && g) fail(kb, "give " + kb + " or " + kg + ", not both");
    if (!b && !g) fail(kb, "required (or " + kg + "): the grid's other axes have boundaries, so this one needs them too");
    std::vector<double> planes;
    if (b) {
      if (start) fail(ks, "only with " + kg);
      const auto* arr = b->as_array();
      if (!arr || arr->size() < 2) fail(kb, "expected an array of at least 2 plane coordinates [cm]");
      for (const auto& e : *arr) {
        const auto v = e.value<double>();
        if (!v || !std::isfinite(*v)) fail(kb, "expected numbers [cm]");
        planes.push_back(*v);
      }
    } else {
      const auto* arr = g->as_array();
      if (!arr || arr->empty()) fail(kg, "expected [[width_cm, count], ...]");
      std::vector<std::pair<double, std::int64_t>> groups;
      std::int64_t n = 0;
      double total = 0;
      for (const auto& e : *arr) {
        const auto* pair = e.as_array();
        if (!pair || pair->size() != 2 || !(*pair)[1].is_integer())
          fail(kg, "each group is [width_cm, count] with an integer count");
        const auto w = (*pair)[0].value<double>();
        const std::int64_t c = *(*pair)[1].value<std::int64_t>();
        if (!w || !std::isfinite(*w) || !(*w > 0)) fail(kg, "group widths must be > 0 cm");
        if (c < 1 || c > 2048) fail(kg, "group counts must be in 1..2048");
        groups.emplace_back(*w, c);
        n += c;
        total += *w * double(c);
        if (n > 2048) fail(kg, "at most 2048 voxels per axis");
      }
      double x = start ? *start : (from_zero ? 0.0 : -0.5 * total);
      planes.push_back(x);
      for (const auto& [w, c] : groups) {
        const double x0 = x;
        for (std::int64_t i = 1; i <= c; ++i) planes.push_back(x0 + double(i) * w);  // no running sum
        x = planes.back();
      }
    }
    for (std::size_t c = 1; c < planes.size(); ++c)
      if (!(planes[c] > planes[c - 1]))
        fail(b ? kb : kg, "plane " + std::to_string(c) + " (" + std::to_string(planes[c]) +
                              " cm) is not above the one before: boundaries must increase");
    return planes;
  }
};

const toml::table& table_of(const toml::table& root, const char* key, const std::string& file,
                            bool required) {
  static const toml::table empty;
  const auto* n = root.get(key);
  if (!n) {
    if (required) throw InputError(file, std::string("missing the [") + key + "] table");
    return empty;
  }
  const auto* t = n->as_table();
  if (!t) throw InputError(file, std::string("'") + key + "': expected a table [" + key + "]");
  return *t;
}

std::string resolve_path(const std::string& file, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

}  // namespace

PhantomFile load_phantom_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "phantom file not found");
  const toml::table root = beams::parse_toml_file(path);
  PhantomFile pf;
  pf.path = path;
  Section top(root, path, "");
  for (const char* k : {"phantom", "slab", "world", "source", "run", "physics", "output"}) top.get(k);
  top.finish();

  // [phantom]
  {
    Section s(table_of(root, "phantom", path, true), path, "phantom.");
    // Non-uniform axes (issue 26): x_boundaries_cm = [planes...], or DOSXYZnrc-style groups
    // x_groups = [[width_cm, count], ...] starting at x_start_cm. Either form on any axis
    // replaces voxels / voxel_cm / origin_cm for the whole grid.
    const char* axis_name[3] = {"x", "y", "z"};
    bool any_edges = false;
    for (const char* a : axis_name)
      for (const char* suffix : {"_boundaries_cm", "_groups", "_start_cm"})
        if (s.peek(std::string(a) + suffix)) any_edges = true;
    if (any_edges) {
      for (const char* k : {"voxels", "voxel_cm", "origin_cm"})
        if (s.get(k))
          s.fail(k, "not with per-axis boundaries (x_boundaries_cm / x_groups ...): give every axis as "
                    "boundaries or groups, a uniform one as one group [[width_cm, count]]");
      for (int a = 0; a < 3; ++a) {
        std::vector<double> planes = s.axis_planes(axis_name[a], a == 2);
        if (planes.size() - 1 > 2048) s.fail(std::string(axis_name[a]) + "_boundaries_cm", "at most 2048 voxels per axis");
        pf.edges.set_axis(pf.grid, a, std::move(planes));
      }
    } else {
      double nvox[3], vox[3];
      const auto* vn = s.get("voxels");
      if (!vn) s.fail("voxels", "required: [nx, ny, nz] (or per-axis x_boundaries_cm / x_groups ...)");
      const auto* va = vn->as_array();
      if (!va || va->size() != 3) s.fail("voxels", "expected 3 integers [nx, ny, nz]");
      for (int i = 0; i < 3; ++i) {
        if (!(*va)[size_t(i)].is_integer()) s.fail("voxels", "expected 3 integers [nx, ny, nz]");
        nvox[i] = double(*(*va)[size_t(i)].value<std::int64_t>());
        if (nvox[i] < 1 || nvox[i] > 2048) s.fail("voxels", "each count must be in 1..2048");
      }
      if (!s.numbers("voxel_cm", vox, 3)) s.fail("voxel_cm", "required: [dx, dy, dz] in cm");
      for (double d : vox)
        if (!(d > 0)) s.fail("voxel_cm", "voxel sizes must be > 0");
      pf.grid.nx = int(nvox[0]);
      pf.grid.ny = int(nvox[1]);
      pf.grid.nz = int(nvox[2]);
      pf.grid.spacing_cm = {vox[0], vox[1], vox[2]};
      // default origin: centred on x = y = 0, z from 0
      pf.grid.origin_cm = {-0.5 * nvox[0] * vox[0], -0.5 * nvox[1] * vox[1], 0};
      s.vec3("origin_cm", pf.grid.origin_cm);
    }
    if (auto m = s.str("material")) pf.material = *m;
    pf.density_g_cm3 = s.num("density_g_cm3");
    if (pf.density_g_cm3 && !(*pf.density_g_cm3 >= 0)) s.fail("density_g_cm3", "must be >= 0");
    s.finish();
  }
  // [[slab]]
  if (const auto* sn = root.get("slab")) {
    const auto* arr = sn->as_array();
    if (!arr) throw InputError(path, "'slab': expected an array of tables [[slab]]");
    int idx = 0;
    for (const auto& e : *arr) {
      const auto* t = e.as_table();
      const std::string where = "slab[" + std::to_string(idx++) + "].";
      if (!t) throw InputError(path, "'" + where + "': expected a table");
      Section s(*t, path, where);
      SlabSpec slab;
      const std::string axis = s.str("axis").value_or("z");
      if (axis == "x") slab.axis = 0;
      else if (axis == "y") slab.axis = 1;
      else if (axis == "z") slab.axis = 2;
      else s.fail("axis", "expected \"x\", \"y\" or \"z\"");
      const auto from = s.num("from_cm"), to = s.num("to_cm");
      if (!from || !to) s.fail("from_cm", "from_cm and to_cm are required");
      if (!(*to > *from)) s.fail("to_cm", "must be > from_cm");
      slab.from_cm = *from;
      slab.to_cm = *to;
      const auto m = s.str("material");
      if (!m || m->empty()) s.fail("material", "required");
      slab.material = *m;
      slab.density_g_cm3 = s.num("density_g_cm3");
      if (slab.density_g_cm3 && !(*slab.density_g_cm3 >= 0)) s.fail("density_g_cm3", "must be >= 0");
      s.finish();
      pf.slabs.push_back(slab);
    }
  }
  // [world]
  if (root.get("world")) {
    Section s(table_of(root, "world", path, true), path, "world.");
    const auto m = s.str("material");
    if (!m || m->empty()) s.fail("material", "required: the world's material (a name in the physics table set)");
    pf.world.material = *m;
    pf.world.density_g_cm3 = s.num("density_g_cm3");
    if (pf.world.density_g_cm3 && !(*pf.world.density_g_cm3 >= 0)) s.fail("density_g_cm3", "must be >= 0");
    const auto* b = s.get("box_cm");
    const auto* arr = b ? b->as_array() : nullptr;
    const char* shape = "required: [[x_min, x_max], [y_min, y_max], [z_min, z_max]] in cm, containing the grid";
    if (!arr || arr->size() != 3) s.fail("box_cm", shape);
    const phys::GridGeometry g = pf.edges.attach(pf.grid);
    const phys::Vec3 hi = g.upper_cm();
    const double glo[3] = {g.origin_cm.x, g.origin_cm.y, g.origin_cm.z}, ghi[3] = {hi.x, hi.y, hi.z};
    for (int a = 0; a < 3; ++a) {
      const auto* pair = (*arr)[std::size_t(a)].as_array();
      if (!pair || pair->size() != 2) s.fail("box_cm", shape);
      for (int e = 0; e < 2; ++e) {
        const auto v = (*pair)[std::size_t(e)].value<double>();
        if (!v || !std::isfinite(*v)) s.fail("box_cm", shape);
        pf.world.box_cm[a][e] = *v;
      }
      if (!(pf.world.box_cm[a][0] <= glo[a] && pf.world.box_cm[a][1] >= ghi[a]))
        s.fail("box_cm", std::string("must contain the grid: along ") + "xyz"[a] + " the grid spans " +
                             std::to_string(glo[a]) + ".." + std::to_string(ghi[a]) + " cm");
    }
    s.finish();
  }
  // [source]
  {
    Section s(table_of(root, "source", path, true), path, "source.");
    SourceSpec& src = pf.source;
    const std::string particle = s.str("particle").value_or("photon");
    if (particle == "photon") src.particle = phys::ParticleType::photon;
    else if (particle == "electron") src.particle = phys::ParticleType::electron;
    else if (particle == "positron") src.particle = phys::ParticleType::positron;
    else s.fail("particle", "expected \"photon\", \"electron\" or \"positron\"");
    const std::string type = s.str("type").value_or("point");
    if (type == "point") src.shape = beams::SourceShape::point;
    else if (type == "parallel") src.shape = beams::SourceShape::parallel;
    else s.fail("type", "expected \"point\" or \"parallel\"");
    const bool has_pos = s.vec3("position_cm", src.position_cm);
    if (const auto ps = s.str("point_sampling")) {
      if (*ps == "area") src.point_sampling = beams::PointSampling::area;
      else if (*ps == "solid_angle") src.point_sampling = beams::PointSampling::solid_angle;
      else s.fail("point_sampling", "expected \"area\" (uniform per unit area of the field plane, the default) or "
                                    "\"solid_angle\" (uniform per solid angle, as DOSXYZnrc's source 3)");
      if (src.shape != beams::SourceShape::point) s.fail("point_sampling", "only for type = \"point\"");
    }
    if (src.shape == beams::SourceShape::point && !has_pos)
      s.fail("position_cm", "required for a point source");
    s.vec3("direction", src.direction);
    const double n = std::sqrt(phys::dot(src.direction, src.direction));
    if (!(n > 0)) s.fail("direction", "must not be zero");
    src.direction = (1.0 / n) * src.direction;
    if (!s.vec3("field_centre_cm", src.field_centre_cm))
      s.fail("field_centre_cm", "required: the centre of the field rectangle [cm]");
    if (s.numbers("field_x_cm", src.field_x_cm, 2) && !(src.field_x_cm[1] >= src.field_x_cm[0]))
      s.fail("field_x_cm", "expected [min, max] with min <= max");
    if (s.numbers("field_y_cm", src.field_y_cm, 2) && !(src.field_y_cm[1] >= src.field_y_cm[0]))
      s.fail("field_y_cm", "expected [min, max] with min <= max");
    const auto e = s.num("energy_mev");
    const auto spec = s.str("spectrum");
    if (e && spec) s.fail("energy_mev", "give either energy_mev or spectrum, not both");
    if (!e && !spec) s.fail("energy_mev", "give energy_mev or spectrum");
    if (e) {
      if (!(*e > 0 && *e <= 100)) s.fail("energy_mev", "must be in (0, 100] MeV");
      src.energy_mev = *e;
    }
    if (spec) src.spectrum = resolve_path(path, *spec);
    src.spectrum_column = s.str("spectrum_column").value_or("");
    s.finish();
  }
  // [run]
  {
    Section s(table_of(root, "run", path, false), path, "run.");
    if (auto h = s.integer("histories")) {
      if (*h < 1) s.fail("histories", "must be >= 1");
      pf.histories = *h;
    }
    if (auto b = s.integer("batches")) {
      if (*b < 10 || *b > 100000) s.fail("batches", "must be in 10..100000");
      pf.batches = int(*b);
    }
    if (auto sd = s.integer("seed")) {
      if (*sd < 0) s.fail("seed", "must be >= 0");
      pf.seed = std::uint64_t(*sd);
    }
    if (auto t = s.integer("threads")) {
      if (*t < 0 || *t > 4096) s.fail("threads", "must be in 0..4096 (0 = all)");
      pf.threads = int(*t);
    }
    s.finish();
  }
  // [physics]
  {
    Section s(table_of(root, "physics", path, false), path, "physics.");
    if (auto t = s.str("tables")) pf.tables = resolve_path(path, *t);
    auto& sw = pf.switches;
    sw.rayleigh = s.flag("rayleigh").value_or(sw.rayleigh);
    sw.delta_rays = s.flag("delta_rays").value_or(sw.delta_rays);
    sw.bremsstrahlung = s.flag("bremsstrahlung").value_or(sw.bremsstrahlung);
    sw.multiple_scattering = s.flag("multiple_scattering").value_or(sw.multiple_scattering);
    if (s.flag("straggling"))
      s.fail("straggling", "is not a switch: sabre has no energy-loss straggling below the production "
                           "thresholds (the restricted loss is continuous, docs/electron-transport.md); remove the key");
    sw.annihilation_in_flight = s.flag("annihilation_in_flight").value_or(sw.annihilation_in_flight);
    if (auto x = s.num("estepe")) {
      if (!(*x > 0 && *x < 1)) s.fail("estepe", "must be in (0, 1): the largest fractional energy loss per step");
      sw.estepe = *x;
    }
    if (auto x = s.num("msc_g1_max")) {
      if (!(*x > 0 && *x <= 1)) s.fail("msc_g1_max", "must be in (0, 1]: the largest int ds/lambda_1 per step");
      sw.msc_g1_max = *x;
    }
    sw.msc_two_moments = s.flag("msc_two_moments").value_or(sw.msc_two_moments);
    sw.msc_tables = s.flag("msc_tables").value_or(sw.msc_tables);
    sw.range_rejection = s.flag("range_rejection").value_or(sw.range_rejection);
    sw.far_steps = s.flag("far_steps").value_or(sw.far_steps);
    read_efficiency_numbers(s, sw);
    pf.electron_cut_mev = s.num("electron_cut_mev");
    pf.photon_cut_mev = s.num("photon_cut_mev");
    if (pf.electron_cut_mev && !(*pf.electron_cut_mev > 0)) s.fail("electron_cut_mev", "must be > 0");
    if (pf.photon_cut_mev && !(*pf.photon_cut_mev > 0)) s.fail("photon_cut_mev", "must be > 0");
    s.finish();
  }
  // [output]
  {
    Section s(table_of(root, "output", path, false), path, "output.");
    if (auto h = s.str("hdf5")) pf.output = resolve_path(path, *h);
    s.finish();
  }
  return pf;
}

Phantom build_phantom(const PhantomFile& pf, const std::vector<std::string>& names,
                      const std::vector<double>& nominal_density) {
  auto index_of = [&](const std::string& m) {
    const auto it = std::find(names.begin(), names.end(), m);
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw InputError(pf.path, "material '" + m + "' is not in the physics table set (it has: " +
                                    known + ")");
    }
    return std::int32_t(it - names.begin());
  };
  const phys::GridGeometry g = pf.edges.attach(pf.grid);  // the phantom grid
  const GridCrop crop = world_crop(pf);
  Phantom ph;
  ph.material_names = names;
  if (pf.world.material.empty()) {
    ph.grid = pf.grid;
    ph.edges = pf.edges;
  } else {  // the grid's planes with the world box's faces outside them
    for (int a = 0; a < 3; ++a) {
      std::vector<double> planes;
      if (crop.offset[a]) planes.push_back(pf.world.box_cm[a][0]);
      for (int c = 0; c <= g.count(a); ++c) planes.push_back(g.plane(a, c));
      if (pf.world.box_cm[a][1] > g.plane(a, g.count(a))) planes.push_back(pf.world.box_cm[a][1]);
      ph.edges.set_axis(ph.grid, a, std::move(planes));
    }
  }
  const std::int64_t nv = ph.grid.size();
  const std::int32_t m0 = index_of(pf.material);
  const float rho0 = float(pf.density_g_cm3.value_or(nominal_density[m0]));
  if (pf.world.material.empty()) {
    ph.material.assign(nv, m0);
    ph.density_g_cm3.assign(nv, rho0);
  } else {
    const std::int32_t mw = index_of(pf.world.material);
    ph.material.assign(nv, mw);
    ph.density_g_cm3.assign(nv, float(pf.world.density_g_cm3.value_or(nominal_density[mw])));
  }
  // The phantom grid's voxel (i, j, k) in the transport grid.
  auto at = [&](int i, int j, int k) {
    return ph.grid.index(i + crop.offset[0], j + crop.offset[1], k + crop.offset[2]);
  };
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        ph.material[std::size_t(at(i, j, k))] = m0;
        ph.density_g_cm3[std::size_t(at(i, j, k))] = rho0;
      }
  for (const auto& s : pf.slabs) {
    const std::int32_t m = index_of(s.material);
    const float rho = float(s.density_g_cm3.value_or(nominal_density[m]));
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const phys::Vec3 c = g.voxel_centre(i, j, k);
          const double x = s.axis == 0 ? c.x : (s.axis == 1 ? c.y : c.z);
          if (x >= s.from_cm && x < s.to_cm) {
            ph.material[std::size_t(at(i, j, k))] = m;
            ph.density_g_cm3[std::size_t(at(i, j, k))] = rho;
          }
        }
  }
  return ph;
}

GridCrop world_crop(const PhantomFile& pf) {
  GridCrop c;
  const phys::GridGeometry g = pf.edges.attach(pf.grid);
  for (int a = 0; a < 3; ++a) {
    c.n[a] = g.count(a);
    c.offset[a] = !pf.world.material.empty() && pf.world.box_cm[a][0] < g.origin(a) ? 1 : 0;
  }
  return c;
}

beams::SimpleSource build_source(const SourceSpec& s, const beams::Spectrum* spectrum) {
  beams::SimpleSource src;
  src.particle = s.particle;
  src.shape = s.shape;
  src.position_cm = s.position_cm;
  src.point_sampling = s.point_sampling;
  src.axis = s.direction;
  src.field_centre_cm = s.field_centre_cm;
  // u: x projected orthogonal to the axis (y if the axis is along x); v = axis x u.
  phys::Vec3 ref{1, 0, 0};
  if (std::abs(s.direction.x) > 0.9) ref = {0, 1, 0};
  const phys::Vec3 u = phys::normalized(ref - phys::dot(ref, s.direction) * s.direction);
  const phys::Vec3 a = s.direction;
  src.u_dir = u;
  src.v_dir = {a.y * u.z - a.z * u.y, a.z * u.x - a.x * u.z, a.x * u.y - a.y * u.x};
  src.u_min_cm = s.field_x_cm[0];
  src.u_max_cm = s.field_x_cm[1];
  src.v_min_cm = s.field_y_cm[0];
  src.v_max_cm = s.field_y_cm[1];
  src.mono_energy_mev = s.energy_mev;
  if (spectrum) src.spectrum = spectrum->view();
  return src;
}

}  // namespace sabre
