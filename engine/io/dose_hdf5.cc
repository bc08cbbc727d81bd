// HDF5 dose output, schema documented in docs/hdf5-output.md.
#include "engine/io/dose_hdf5.hh"

#include <hdf5.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <set>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/crash_guard.hh"
#include "core/output_file.hh"

namespace sabre::io {
namespace {

// Minimal RAII for HDF5 ids (engine/core has no shared helper yet).
class Id {
 public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  ~Id() {
    if (id_ >= 0 && close_) close_(id_);
  }
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// Silences HDF5's own error stack printing while alive; errors are reported as exceptions.
struct QuietHdf5 {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

const std::set<std::string>& reserved_provenance() {
  static const std::set<std::string> keys = {
      "sabre_version", "sabre_commit", "seed", "histories", "batches", "device",
      "wall_seconds", "mean_rel_uncertainty_50", "created_utc", "dose_unit", "dose_to_water"};
  return keys;
}

std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---------------------------------------------------------------- writing
struct Writer {
  std::string path;  // the final path, for messages

  void check(herr_t rc, const std::string& what) const {
    if (rc < 0) throw RuntimeError(path + ": cannot write HDF5 " + what);
  }
  Id group(hid_t parent, const char* name) const {
    Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    H5Pset_obj_track_times(gcpl, false);
    Id g(H5Gcreate2(parent, name, H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose);
    if (!g.ok()) throw RuntimeError(path + ": cannot create HDF5 group " + name);
    return g;
  }
  Id string_type() const {
    Id t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
  }
  void attr_string(hid_t obj, const char* name, const std::string& value) const {
    Id t = string_type();
    Id sp(H5Screate(H5S_SCALAR), H5Sclose);
    Id a(H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    const char* p = value.c_str();
    check(a.ok() ? H5Awrite(a, t, &p) : -1, std::string("attribute ") + name);
  }
  template <class T>
  void attr_array(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const T* v,
                  hsize_t n) const {
    Id sp = n == 0 ? Id(H5Screate(H5S_SCALAR), H5Sclose) : Id(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Id a(H5Acreate2(obj, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    check(a.ok() ? H5Awrite(a, mem_type, v) : -1, std::string("attribute ") + name);
  }
  void attr_double(hid_t obj, const char* name, double v) const {
    attr_array(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 0);
  }
  void attr_int64(hid_t obj, const char* name, std::int64_t v) const {
    attr_array(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, 0);
  }
  void attr_uint64(hid_t obj, const char* name, std::uint64_t v) const {
    attr_array(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, 0);
  }
  // A 3-D dataset [nz][ny][nx], chunked by slice and deflated (deterministic).
  template <class T>
  void volume(hid_t parent, const char* name, const phys::GridGeometry& g, hid_t file_type,
              hid_t mem_type, const T* data) const {
    const hsize_t dims[3] = {hsize_t(g.nz), hsize_t(g.ny), hsize_t(g.nx)};
    Id sp(H5Screate_simple(3, dims, nullptr), H5Sclose);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_obj_track_times(dcpl, false);
    if (g.size() > 0) {
      const hsize_t chunk[3] = {1, dims[1], dims[2]};
      H5Pset_chunk(dcpl, 3, chunk);
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, 4);
    }
    Id d(H5Dcreate2(parent, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
    check(d.ok() ? H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : -1,
          std::string("dataset ") + name);
  }
};

constexpr const char* kEdgeNames[3] = {"x_edges_cm", "y_edges_cm", "z_edges_cm"};

void write_file(const std::string& tmp, const std::string& final_path, const DoseResult& r,
                const std::function<void(hid_t)>& extra) {
  const Writer w{output_name(final_path)};  // a caller's temporary shows as its final name
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, fapl), H5Fclose);
  if (!file.ok()) throw RuntimeError(w.path + ": cannot create the HDF5 file");
  const phys::GridGeometry g = r.edges.attach(r.grid);
  const bool uniform = g.uniform();

  w.attr_string(file, "format", kDoseHdf5Format);
  // A uniform grid's file is schema 2 (readers of 2 read it); non-uniform planes are schema 3,
  // which a reader of 2 refuses rather than misreading spacing_cm.
  w.attr_int64(file, "schema_version", uniform ? 2 : kDoseHdf5SchemaVersion);
  const std::string created = utc_now();
  w.attr_string(file, "created_utc", created);

  {
    Id grid = w.group(file, "grid");
    const double origin[3] = {g.origin_cm.x, g.origin_cm.y, g.origin_cm.z};
    const double spacing[3] = {g.spacing_cm.x, g.spacing_cm.y, g.spacing_cm.z};
    const std::int64_t shape[3] = {g.nx, g.ny, g.nz};
    const double centre_mm[3] = {10 * (g.origin_cm.x + 0.5 * g.spacing_cm.x),
                                 10 * (g.origin_cm.y + 0.5 * g.spacing_cm.y),
                                 10 * (g.origin_cm.z + 0.5 * g.spacing_cm.z)};
    w.attr_array(grid, "origin_cm", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, origin, 3);
    if (uniform) w.attr_array(grid, "spacing_cm", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, spacing, 3);
    w.attr_array(grid, "shape_xyz", H5T_STD_I64LE, H5T_NATIVE_INT64, shape, 3);
    if (uniform) w.attr_array(grid, "first_voxel_centre_mm", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, centre_mm, 3);
    // Every grid's voxel boundaries, per axis (n + 1 planes): the one description that holds
    // for uniform and non-uniform grids alike.
    for (int a = 0; a < 3; ++a) {
      std::vector<double> planes(std::size_t(g.count(a)) + 1);
      for (int c = 0; c <= g.count(a); ++c) planes[std::size_t(c)] = g.plane(a, c);
      w.attr_array(grid, kEdgeNames[a], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, planes.data(), planes.size());
    }
    w.attr_string(grid, "frame", "DICOM patient coordinates (LPS)");
    if (auto it = r.provenance.find("frame_of_reference_uid"); it != r.provenance.end())
      w.attr_string(grid, "frame_of_reference_uid", it->second);
  }
  {
    Id dose = w.group(file, "dose");
    w.volume(dose, "dose", g, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, r.dose_gy.data());
    // Total (statistical and calibration in quadrature; the statistical values themselves,
    // bit for bit, when there is no calibration term), then the statistical part.
    if (r.calibration_rel_uncertainty == 0) {  // total == statistical, bit for bit: no copy
      w.volume(dose, "rel_uncertainty", g, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, r.rel_uncertainty.data());
    } else {
      const std::vector<double> total = total_rel_uncertainty(r);
      w.volume(dose, "rel_uncertainty", g, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, total.data());
    }
    w.volume(dose, "rel_uncertainty_statistical", g, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
             r.rel_uncertainty.data());
    w.attr_string(dose, "unit", r.dose_unit);
    w.attr_string(dose, "quantity", r.quantity());
    w.attr_string(dose, "uncertainty",
                  r.calibration_rel_uncertainty > 0
                      ? "relative 1-sigma: statistical (independent batches) and calibration in quadrature"
                      : "relative 1-sigma, by independent batches");
    w.attr_double(dose, "calibration_rel_uncertainty", r.calibration_rel_uncertainty);
    w.attr_double(dose, "mean_rel_uncertainty_50", r.mean_rel_uncertainty_50);
  }
  if (!r.material.empty() || !r.density_g_cm3.empty()) {
    Id ph = w.group(file, "phantom");
    if (!r.material.empty())
      w.volume(ph, "material", g, H5T_STD_I32LE, H5T_NATIVE_INT32, r.material.data());
    if (!r.density_g_cm3.empty())
      w.volume(ph, "density_g_cm3", g, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, r.density_g_cm3.data());
    // An attribute (1-D, variable-length UTF-8): h5py returns its entries as str (a string
    // dataset would come back as bytes). Files of earlier versions have a dataset.
    std::vector<const char*> names;
    for (const auto& n : r.material_names) names.push_back(n.c_str());
    const hsize_t n = names.size();
    Id t = w.string_type();
    Id sp(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Id a(H5Acreate2(ph, "material_names", t, sp, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    w.check(a.ok() && (n == 0 || H5Awrite(a, t, names.data()) >= 0) ? 0 : -1, "attribute material_names");
  }
  {
    Id pv = w.group(file, "provenance");
    w.attr_string(pv, "sabre_version", build::version());
    w.attr_string(pv, "sabre_commit", build::git_commit());
    w.attr_uint64(pv, "seed", r.seed);
    w.attr_int64(pv, "histories", r.histories);
    w.attr_int64(pv, "batches", r.batches);
    w.attr_string(pv, "device", r.device);
    w.attr_double(pv, "wall_seconds", r.wall_seconds);
    w.attr_string(pv, "created_utc", created);
    for (const auto& [k, v] : r.provenance) {
      if (reserved_provenance().count(k)) continue;  // sabre writes these itself
      SABRE_EXPECT(!k.empty() && k.find('/') == std::string::npos && k.find('.') != 0,
                   "provenance key '" + k + "' is not a valid attribute name");
      w.attr_string(pv, k.c_str(), v);
    }
  }
  if (extra) extra(file);
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw RuntimeError(w.path + ": cannot write HDF5 file (disk full or write error)");
}

// ---------------------------------------------------------------- reading
struct Reader {
  std::string path;
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(path, "not a readable sabre dose file: " + what);
  }
  bool has(hid_t obj, const char* name) const { return H5Aexists(obj, name) > 0; }
  std::string attr_string(hid_t obj, const char* name) const {
    Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(std::string("attribute '") + name + "' missing");
    Id ft(H5Aget_type(a), H5Tclose);
    if (H5Tget_class(ft) != H5T_STRING) fail(std::string("attribute '") + name + "' is not a string");
    if (H5Tis_variable_str(ft) > 0) {
      Id t(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(t, H5T_VARIABLE);
      H5Tset_cset(t, H5Tget_cset(ft));
      char* p = nullptr;
      if (H5Aread(a, t, &p) < 0) fail(std::string("attribute '") + name + "' unreadable");
      std::string s = p ? p : "";
      H5free_memory(p);
      return s;
    }
    const size_t n = H5Tget_size(ft);
    std::string s(n, '\0');
    if (H5Aread(a, ft, s.data()) < 0) fail(std::string("attribute '") + name + "' unreadable");
    s.resize(std::strlen(s.c_str()));
    return s;
  }
  template <class T>
  std::vector<T> attr_array(hid_t obj, const char* name, hid_t mem_type, size_t n) const {
    Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(std::string("attribute '") + name + "' missing");
    Id sp(H5Aget_space(a), H5Sclose);
    if (static_cast<size_t>(H5Sget_simple_extent_npoints(sp)) != n)
      fail(std::string("attribute '") + name + "' has the wrong size");
    std::vector<T> v(n);
    if (H5Aread(a, mem_type, v.data()) < 0) fail(std::string("attribute '") + name + "' unreadable");
    return v;
  }
  template <class T>
  std::vector<T> volume(hid_t parent, const char* name, const phys::GridGeometry& g,
                        hid_t mem_type) const {
    Id d(H5Dopen2(parent, name, H5P_DEFAULT), H5Dclose);
    if (!d.ok()) fail(std::string("dataset '") + name + "' missing");
    Id sp(H5Dget_space(d), H5Sclose);
    hsize_t dims[3] = {0, 0, 0};
    if (H5Sget_simple_extent_ndims(sp) != 3 || H5Sget_simple_extent_dims(sp, dims, nullptr) != 3 ||
        dims[0] != hsize_t(g.nz) || dims[1] != hsize_t(g.ny) || dims[2] != hsize_t(g.nx))
      fail(std::string("dataset '") + name + "' does not match the grid shape");
    std::vector<T> v(g.size());
    if (H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      fail(std::string("dataset '") + name + "' unreadable");
    return v;
  }
};

}  // namespace

void write_dose_hdf5(const std::string& path, const DoseResult& r) { write_dose_hdf5(path, r, {}); }

void write_dose_hdf5(const std::string& path, const DoseResult& r, const std::function<void(hid_t)>& extra) {
  const auto n = r.grid.size();
  SABRE_EXPECT(r.grid.nx > 0 && r.grid.ny > 0 && r.grid.nz > 0, "dose grid is empty");
  SABRE_EXPECT(static_cast<std::int64_t>(r.dose_gy.size()) == n, "dose array does not match grid");
  SABRE_EXPECT(static_cast<std::int64_t>(r.rel_uncertainty.size()) == n,
               "uncertainty array does not match grid");
  SABRE_EXPECT(r.material.empty() || static_cast<std::int64_t>(r.material.size()) == n,
               "material array does not match grid");
  SABRE_EXPECT(r.density_g_cm3.empty() || static_cast<std::int64_t>(r.density_g_cm3.size()) == n,
               "density array does not match grid");
  QuietHdf5 quiet;
  OutputFile out(path);
  write_file(out.temp_path(), path, r, extra);
  out.commit();
}

static DoseResult read_dose_hdf5_unguarded(const std::string& path) {
  QuietHdf5 quiet;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path, "no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path, "not an HDF5 file (or truncated)");
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw InputError(path, "cannot open the HDF5 file");
  const Reader rd{path};
  if (!rd.has(file, "format") || rd.attr_string(file, "format") != kDoseHdf5Format)
    rd.fail(std::string("root attribute format is not '") + kDoseHdf5Format + "'");
  const auto version = rd.attr_array<std::int64_t>(file, "schema_version", H5T_NATIVE_INT64, 1)[0];
  if (version < 1 || version > kDoseHdf5SchemaVersion)
    throw InputError(path, "sabre dose schema version " + std::to_string(version) +
                               " is not supported (this sabre reads 1.." +
                               std::to_string(kDoseHdf5SchemaVersion) + ")");
  DoseResult r;
  {
    Id grid(H5Gopen2(file, "grid", H5P_DEFAULT), H5Gclose);
    if (!grid.ok()) rd.fail("group /grid missing");
    const auto o = rd.attr_array<double>(grid, "origin_cm", H5T_NATIVE_DOUBLE, 3);
    const auto n = rd.attr_array<std::int64_t>(grid, "shape_xyz", H5T_NATIVE_INT64, 3);
    if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0 || n[0] > INT32_MAX || n[1] > INT32_MAX || n[2] > INT32_MAX)
      rd.fail("grid shape not positive");
    r.grid.origin_cm = {o[0], o[1], o[2]};
    r.grid.nx = int(n[0]);
    r.grid.ny = int(n[1]);
    r.grid.nz = int(n[2]);
    if (rd.has(grid, "spacing_cm")) {
      const auto s = rd.attr_array<double>(grid, "spacing_cm", H5T_NATIVE_DOUBLE, 3);
      if (!(s[0] > 0 && s[1] > 0 && s[2] > 0)) rd.fail("grid spacing not positive");
      r.grid.spacing_cm = {s[0], s[1], s[2]};
    } else {  // non-uniform (schema 3): the planes
      if (version < 3) rd.fail("attribute 'spacing_cm' missing");
      for (int a = 0; a < 3; ++a) {
        auto planes = rd.attr_array<double>(grid, kEdgeNames[a], H5T_NATIVE_DOUBLE, std::size_t(n[a]) + 1);
        for (std::size_t c = 0; c < planes.size(); ++c)
          if (!std::isfinite(planes[c]) || (c > 0 && !(planes[c] > planes[c - 1])))
            rd.fail(std::string("attribute '") + kEdgeNames[a] + "': planes not finite and increasing");
        if (planes[0] != o[a]) rd.fail(std::string("attribute '") + kEdgeNames[a] + "' does not start at origin_cm");
        r.edges.set_axis(r.grid, a, std::move(planes));
      }
    }
    if (rd.has(grid, "frame_of_reference_uid"))
      r.provenance["frame_of_reference_uid"] = rd.attr_string(grid, "frame_of_reference_uid");
  }
  {
    Id dose(H5Gopen2(file, "dose", H5P_DEFAULT), H5Gclose);
    if (!dose.ok()) rd.fail("group /dose missing");
    r.dose_gy = rd.volume<double>(dose, "dose", r.grid, H5T_NATIVE_DOUBLE);
    if (version >= 2) {
      r.rel_uncertainty = rd.volume<double>(dose, "rel_uncertainty_statistical", r.grid, H5T_NATIVE_DOUBLE);
      r.calibration_rel_uncertainty =
          rd.attr_array<double>(dose, "calibration_rel_uncertainty", H5T_NATIVE_DOUBLE, 1)[0];
    } else {
      r.rel_uncertainty = rd.volume<double>(dose, "rel_uncertainty", r.grid, H5T_NATIVE_DOUBLE);
    }
    r.dose_unit = rd.attr_string(dose, "unit");
    r.dose_to_water = rd.attr_string(dose, "quantity") == "dose to water";
    r.mean_rel_uncertainty_50 =
        rd.attr_array<double>(dose, "mean_rel_uncertainty_50", H5T_NATIVE_DOUBLE, 1)[0];
  }
  if (H5Lexists(file, "phantom", H5P_DEFAULT) > 0) {
    Id ph(H5Gopen2(file, "phantom", H5P_DEFAULT), H5Gclose);
    if (H5Lexists(ph, "material", H5P_DEFAULT) > 0)
      r.material = rd.volume<std::int32_t>(ph, "material", r.grid, H5T_NATIVE_INT32);
    if (H5Lexists(ph, "density_g_cm3", H5P_DEFAULT) > 0)
      r.density_g_cm3 = rd.volume<float>(ph, "density_g_cm3", r.grid, H5T_NATIVE_FLOAT);
    const bool as_attr = H5Aexists(ph, "material_names") > 0;  // this version; earlier: a dataset
    if (as_attr || H5Lexists(ph, "material_names", H5P_DEFAULT) > 0) {
      Id obj = as_attr ? Id(H5Aopen(ph, "material_names", H5P_DEFAULT), H5Aclose)
                       : Id(H5Dopen2(ph, "material_names", H5P_DEFAULT), H5Dclose);
      Id sp(as_attr ? H5Aget_space(obj) : H5Dget_space(obj), H5Sclose);
      const auto n = H5Sget_simple_extent_npoints(sp);
      Id t(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(t, H5T_VARIABLE);
      H5Tset_cset(t, H5T_CSET_UTF8);
      std::vector<char*> p(std::size_t(std::max<hssize_t>(n, 0)), nullptr);
      const herr_t rc = n <= 0 ? 0
                        : as_attr ? H5Aread(obj, t, p.data())
                                  : H5Dread(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data());
      if (rc < 0) rd.fail("'material_names' unreadable (expected variable-length strings)");
      for (auto* s : p) {
        r.material_names.emplace_back(s ? s : "");
        H5free_memory(s);
      }
    }
  }
  {
    Id pv(H5Gopen2(file, "provenance", H5P_DEFAULT), H5Gclose);
    if (!pv.ok()) rd.fail("group /provenance missing");
    r.seed = rd.attr_array<std::uint64_t>(pv, "seed", H5T_NATIVE_UINT64, 1)[0];
    r.histories = rd.attr_array<std::int64_t>(pv, "histories", H5T_NATIVE_INT64, 1)[0];
    r.batches = int(rd.attr_array<std::int64_t>(pv, "batches", H5T_NATIVE_INT64, 1)[0]);
    r.device = rd.attr_string(pv, "device");
    r.wall_seconds = rd.attr_array<double>(pv, "wall_seconds", H5T_NATIVE_DOUBLE, 1)[0];
    // Every other attribute is a free-form provenance entry (plus version, commit, date).
    std::vector<std::string> names;
    H5Aiterate2(pv, H5_INDEX_NAME, H5_ITER_INC, nullptr,
                [](hid_t, const char* name, const H5A_info_t*, void* op) -> herr_t {
                  static_cast<std::vector<std::string>*>(op)->emplace_back(name);
                  return 0;
                },
                &names);
    const std::set<std::string> typed = {"seed", "histories", "batches", "device", "wall_seconds"};
    for (const auto& name : names)
      if (!typed.count(name)) r.provenance[name] = rd.attr_string(pv, name.c_str());
  }
  return r;
}


DoseResult read_dose_hdf5(const std::string& path) {
  // A corrupted file can crash the HDF5 library (core/crash_guard.hh): one message instead.
  DoseResult out;
  guarded_read(path, [&] { out = read_dose_hdf5_unguarded(path); });
  return out;
}

}  // namespace sabre::io
