// Phantom description file reader (format: docs/phantom-file.md).
#include "engine/phantom_file.hh"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <toml++/toml.h>

#include "core/errors.hh"
#include "physics/core/direction.hh"

namespace sabre {
namespace fs = std::filesystem;

namespace {

class Section {
 public:
  Section(const toml::table& t, const std::string& file, std::string where)
      : t_(t), file_(file), where_(std::move(where)) {}

  const toml::node* get(const char* key) {
    seen_.insert(key);
    return t_.get(key);
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(file_, "'" + where_ + key + "': " + what);
  }
  std::optional<double> num(const char* key) {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    const auto v = n->value<double>();
    if (!v || !std::isfinite(*v)) fail(key, "expected a number");
    return *v;
  }
  std::optional<std::int64_t> integer(const char* key) {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "expected an integer");
    return *n->value<std::int64_t>();
  }
  std::optional<std::string> str(const char* key) {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    const auto v = n->value<std::string>();
    if (!v) fail(key, "expected a string");
    return *v;
  }
  std::optional<bool> flag(const char* key) {
    const auto* n = get(key);
    if (!n) return std::nullopt;
    const auto v = n->value<bool>();
    if (!v) fail(key, "expected true or false");
    return *v;
  }
  // An array of exactly `n` numbers.
  bool numbers(const char* key, double* out, int n) {
    const auto* node = get(key);
    if (!node) return false;
    const auto* a = node->as_array();
    if (!a || int(a->size()) != n) fail(key, "expected an array of " + std::to_string(n) + " numbers");
    for (int i = 0; i < n; ++i) {
      const auto v = (*a)[size_t(i)].value<double>();
      if (!v || !std::isfinite(*v)) fail(key, "expected an array of " + std::to_string(n) + " numbers");
      out[i] = *v;
    }
    return true;
  }
  bool vec3(const char* key, phys::Vec3& v) {
    double a[3];
    if (!numbers(key, a, 3)) return false;
    v = {a[0], a[1], a[2]};
    return true;
  }
  void finish() const {
    for (const auto& [k, v] : t_)
      if (!seen_.count(std::string(k.str())))
        throw InputError(file_, "unknown key '" + where_ + std::string(k.str()) + "'");
  }

 private:
  const toml::table& t_;
  const std::string& file_;
  std::string where_;
  std::set<std::string> seen_;
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
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(path, "line " + std::to_string(e.source().begin.line) + ": " +
                               std::string(e.description()));
  }
  PhantomFile pf;
  pf.path = path;
  Section top(root, path, "");
  for (const char* k : {"phantom", "slab", "source", "run", "physics", "output"}) top.get(k);
  top.finish();

  // [phantom]
  {
    Section s(table_of(root, "phantom", path, true), path, "phantom.");
    double nvox[3], vox[3];
    const auto* vn = s.get("voxels");
    if (!vn) s.fail("voxels", "required: [nx, ny, nz]");
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
    if (auto x = s.num("range_rejection_survival")) {
      if (!(*x > 0 && *x <= 1)) s.fail("range_rejection_survival", "must be in (0, 1]: the roulette's survival probability");
      sw.range_rejection_survival = *x;
    }
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
  Phantom ph;
  ph.grid = pf.grid;
  ph.material_names = names;
  const std::int64_t nv = pf.grid.size();
  const std::int32_t m0 = index_of(pf.material);
  ph.material.assign(nv, m0);
  ph.density_g_cm3.assign(nv, float(pf.density_g_cm3.value_or(nominal_density[m0])));
  for (const auto& s : pf.slabs) {
    const std::int32_t m = index_of(s.material);
    const float rho = float(s.density_g_cm3.value_or(nominal_density[m]));
    const auto& g = pf.grid;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const phys::Vec3 c = g.voxel_centre(i, j, k);
          const double x = s.axis == 0 ? c.x : (s.axis == 1 ? c.y : c.z);
          if (x >= s.from_cm && x < s.to_cm) {
            ph.material[g.index(i, j, k)] = m;
            ph.density_g_cm3[g.index(i, j, k)] = rho;
          }
        }
  }
  return ph;
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
