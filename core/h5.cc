// RAII layer over the HDF5 C API (see h5.hh).
#include "core/h5.hh"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/errors.hh"
#include "core/output_file.hh"

namespace sabre::h5 {
namespace {

// Silences HDF5's error-stack printing while alive; failures become sabre exceptions.
struct Quiet {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  Quiet() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Quiet() { H5Eset_auto2(H5E_DEFAULT, func, data); }
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;
};

Handle plist(hid_t cls) { return Handle(H5Pcreate(cls), H5Pclose); }

// Variable-length UTF-8: what sabre writes (h5py reads such attributes as str).
Handle vlen_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

std::string join(const std::string& path, const std::string& name) {
  return path == "/" ? "/" + name : path + "/" + name;
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  std::swap(id_, o.id_);
  std::swap(close_, o.close_);
  return *this;
}

Handle::~Handle() {
  if (id_ >= 0 && close_) {
    Quiet q;
    close_(id_);
  }
}

// ------------------------------------------------------------------------------- Group

std::string Group::where(const std::string& name) const {
  return file_ + ":" + (name.empty() ? path_ : join(path_, name));
}

void Group::fail(const std::string& name, const std::string& problem) const {
  if (writable_) throw RuntimeError(where(name) + ": " + problem);
  throw InputError(where(name), problem);
}

Group Group::create_group(const std::string& name) const {
  Quiet q;
  Handle gcpl = plist(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(gcpl.get(), false);
  H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  Handle g(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail(name, "cannot create group");
  return Group(std::move(g), file_, join(path_, name), writable_);
}

Group Group::group(const std::string& name) const {
  Quiet q;
  if (!has(name)) fail(name, "missing group");
  Handle g(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail(name, "not a group");
  return Group(std::move(g), file_, join(path_, name), writable_);
}

bool Group::has(const std::string& name) const {
  Quiet q;
  return H5Lexists(id(), name.c_str(), H5P_DEFAULT) > 0;
}

bool Group::has_attr(const std::string& name) const {
  Quiet q;
  return H5Aexists(id(), name.c_str()) > 0;
}

std::vector<std::string> Group::children() const {
  Quiet q;
  std::vector<std::string> out;
  H5G_info_t info;
  if (H5Gget_info(id(), &info) < 0) fail("", "cannot list group");
  // Creation order when the group tracks it (groups made here do), else name order.
  Handle gcpl(H5Gget_create_plist(id()), H5Pclose);
  unsigned flags = 0;
  H5Pget_link_creation_order(gcpl.get(), &flags);
  const H5_index_t index = (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(id(), ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail("", "cannot list group");
    std::string s(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(id(), ".", index, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<std::size_t>(n));
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

template <class T>
void write_numeric(const Group& g, const std::string& name, const T* data, std::size_t count,
                   const std::vector<hsize_t>& dims, int deflate, hid_t file_type,
                   hid_t mem_type) {
  Quiet q;
  hsize_t total = 1;
  for (auto d : dims) total *= d;
  if (dims.empty() || total != count)
    throw RuntimeError(g.file() + ":" + join(g.path(), name) +
                       ": internal: dimensions do not match the data size");
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl = plist(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl.get(), false);
  if (deflate > 0 && total > 0) {
    H5Pset_chunk(dcpl.get(), static_cast<int>(dims.size()), dims.data());  // one chunk
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(deflate, 9)));
    H5Pset_fletcher32(dcpl.get());  // a corrupted chunk is a read error, not wrong numbers
  }
  Handle d(H5Dcreate2(g.id(), name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                      H5P_DEFAULT),
           H5Dclose);
  if (!d.valid() || H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw RuntimeError(g.file() + ":" + join(g.path(), name) + ": cannot write dataset");
}

template <class T>
std::vector<hsize_t> read_numeric(const Group& g, const std::string& name, std::vector<T>& out,
                                  H5T_class_t want, hid_t mem_type) {
  Quiet q;
  const std::string where = g.file() + ":" + join(g.path(), name);
  if (!g.has(name)) throw InputError(where, "missing dataset");
  Handle d(H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid()) throw InputError(where, "not a dataset");
  Handle t(H5Dget_type(d.get()), H5Tclose);
  if (H5Tget_class(t.get()) != want)
    throw InputError(where, want == H5T_FLOAT ? "expected floating-point data"
                                              : "expected integer data");
  Handle space(H5Dget_space(d.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  hsize_t total = 1;
  for (auto x : dims) total *= x;
  out.assign(static_cast<std::size_t>(total), T{});
  if (total > 0 && H5Dread(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw InputError(where, "cannot read dataset (corrupted or truncated file: checksum or decompression failed)");
  return dims;
}

}  // namespace

void Group::write(const std::string& name, const std::vector<double>& data,
                  const std::vector<hsize_t>& dims, int deflate) const {
  write_numeric(*this, name, data.data(), data.size(), dims, deflate, H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE);
}

void Group::write(const std::string& name, const std::vector<std::int32_t>& data,
                  const std::vector<hsize_t>& dims, int deflate) const {
  write_numeric(*this, name, data.data(), data.size(), dims, deflate, H5T_STD_I32LE,
                H5T_NATIVE_INT32);
}

void Group::write(const std::string& name, const std::vector<std::int64_t>& data,
                  const std::vector<hsize_t>& dims, int deflate) const {
  write_numeric(*this, name, data.data(), data.size(), dims, deflate, H5T_STD_I64LE,
                H5T_NATIVE_INT64);
}

void Group::write(const std::string& name, const std::vector<std::uint64_t>& data,
                  const std::vector<hsize_t>& dims, int deflate) const {
  write_numeric(*this, name, data.data(), data.size(), dims, deflate, H5T_STD_U64LE,
                H5T_NATIVE_UINT64);
}

std::vector<hsize_t> Group::read(const std::string& name, std::vector<double>& out) const {
  return read_numeric(*this, name, out, H5T_FLOAT, H5T_NATIVE_DOUBLE);
}

std::vector<hsize_t> Group::read(const std::string& name, std::vector<std::int32_t>& out) const {
  return read_numeric(*this, name, out, H5T_INTEGER, H5T_NATIVE_INT32);
}

std::vector<hsize_t> Group::read(const std::string& name, std::vector<std::int64_t>& out) const {
  return read_numeric(*this, name, out, H5T_INTEGER, H5T_NATIVE_INT64);
}

std::vector<hsize_t> Group::read(const std::string& name, std::vector<std::uint64_t>& out) const {
  return read_numeric(*this, name, out, H5T_INTEGER, H5T_NATIVE_UINT64);
}

std::vector<hsize_t> Group::read(const std::string& name, std::vector<std::string>& out) const {
  Quiet q;
  if (!has(name)) fail(name, "missing dataset");
  Handle d(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid()) fail(name, "not a dataset");
  Handle t(H5Dget_type(d.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_STRING) fail(name, "expected strings");
  Handle space(H5Dget_space(d.get()), H5Sclose);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(space.get()) != 1) fail(name, "expected a 1-D string list");
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  if (H5Tis_variable_str(t.get()) > 0) {
    std::vector<char*> p(n, nullptr);
    Handle mt(H5Tcopy(t.get()), H5Tclose);  // the file's character set (ASCII or UTF-8)
    if (n > 0 && H5Dread(d.get(), mt.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0)
      fail(name, "cannot read dataset");
    out.clear();
    for (char* c : p) out.emplace_back(c ? c : "");
    if (n > 0) H5Dvlen_reclaim(mt.get(), space.get(), H5P_DEFAULT, p.data());
    return {n};
  }
  const std::size_t len = H5Tget_size(t.get());
  std::vector<char> buf(len * n + 1, '\0');
  Handle mt(H5Tcopy(t.get()), H5Tclose);  // the file's own type: any padding and character set
  if (n > 0 && H5Dread(d.get(), mt.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    fail(name, "cannot read dataset");
  out.clear();
  for (hsize_t i = 0; i < n; ++i) {
    const char* p = buf.data() + i * len;
    out.emplace_back(p, strnlen(p, len));
  }
  return {n};
}

void Group::set_attr(const std::string& name, const std::string& value) const {
  Quiet q;
  Handle t = vlen_string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate2(id(), name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  const char* p = value.c_str();
  if (!a.valid() || H5Awrite(a.get(), t.get(), &p) < 0) fail("@" + name, "cannot write attribute");
}

void Group::set_attr(const std::string& name, const std::vector<std::string>& values) const {
  Quiet q;
  Handle t = vlen_string_type();
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle a(H5Acreate2(id(), name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  if (!a.valid() || (n > 0 && H5Awrite(a.get(), t.get(), p.data()) < 0))
    fail("@" + name, "cannot write attribute");
}

std::vector<std::string> Group::string_list(const std::string& name) const {
  if (has_attr(name)) return attr_strings(name);
  std::vector<std::string> out;
  read(name, out);
  return out;
}

std::vector<std::string> Group::attr_strings(const std::string& name) const {
  Quiet q;
  if (!has_attr(name)) fail("@" + name, "missing attribute");
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_STRING) fail("@" + name, "expected a string attribute");
  Handle space(H5Aget_space(a.get()), H5Sclose);
  const int nd = H5Sget_simple_extent_ndims(space.get());
  if (nd == 0) return {attr_string(name)};
  if (nd != 1) fail("@" + name, "expected a 1-D string list");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  std::vector<std::string> out;
  if (H5Tis_variable_str(t.get()) > 0) {
    std::vector<char*> p(n, nullptr);
    Handle mt(H5Tcopy(t.get()), H5Tclose);  // the file's character set (ASCII or UTF-8)
    if (n > 0 && H5Aread(a.get(), mt.get(), p.data()) < 0) fail("@" + name, "cannot read attribute");
    for (char* c : p) out.emplace_back(c ? c : "");
    if (n > 0) H5Dvlen_reclaim(mt.get(), space.get(), H5P_DEFAULT, p.data());
    return out;
  }
  const std::size_t len = H5Tget_size(t.get());
  std::vector<char> buf(len * n + 1, '\0');
  Handle mt(H5Tcopy(t.get()), H5Tclose);  // the file's own type: any padding and character set
  if (n > 0 && H5Aread(a.get(), mt.get(), buf.data()) < 0) fail("@" + name, "cannot read attribute");
  for (hsize_t i = 0; i < n; ++i) out.emplace_back(buf.data() + i * len, strnlen(buf.data() + i * len, len));
  return out;
}

namespace {
void set_numeric_attr(const Group& g, const std::string& name, hid_t ft, hid_t mt,
                      const void* v, hsize_t n, bool scalar) {
  Quiet q;
  Handle space = scalar ? Handle(H5Screate(H5S_SCALAR), H5Sclose)
                        : Handle(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle a(H5Acreate2(g.id(), name.c_str(), ft, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.valid() || H5Awrite(a.get(), mt, v) < 0)
    throw RuntimeError(g.file() + ":" + join(g.path(), "@" + name) + ": cannot write attribute");
}
}  // namespace

void Group::set_attr(const std::string& name, double value) const {
  set_numeric_attr(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, 1, true);
}
void Group::set_attr(const std::string& name, std::int64_t value) const {
  set_numeric_attr(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, 1, true);
}
void Group::set_attr(const std::string& name, const std::vector<double>& values) const {
  set_numeric_attr(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data(), values.size(),
                   false);
}

std::string Group::attr_string(const std::string& name) const {
  Quiet q;
  if (!has_attr(name)) fail("@" + name, "missing attribute");
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_STRING) fail("@" + name, "expected a string attribute");
  if (H5Tis_variable_str(t.get()) > 0) {
    char* p = nullptr;
    Handle mt(H5Tcopy(t.get()), H5Tclose);  // the file's character set (ASCII or UTF-8)
    if (H5Aread(a.get(), mt.get(), &p) < 0) fail("@" + name, "cannot read attribute");
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t len = H5Tget_size(t.get());
  std::string s(len, '\0');
  Handle mt(H5Tcopy(t.get()), H5Tclose);  // the file's own type: any padding and character set
  if (H5Aread(a.get(), mt.get(), s.data()) < 0) fail("@" + name, "cannot read attribute");
  s.resize(strnlen(s.data(), len));
  return s;
}

std::vector<double> Group::attr_doubles(const std::string& name) const {
  Quiet q;
  if (!has_attr(name)) fail("@" + name, "missing attribute");
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  const H5T_class_t c = H5Tget_class(t.get());
  if (c != H5T_FLOAT && c != H5T_INTEGER) fail("@" + name, "expected a numeric attribute");
  Handle space(H5Aget_space(a.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<double> v(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  if (n > 0 && H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()) < 0)
    fail("@" + name, "cannot read attribute");
  return v;
}

double Group::attr_double(const std::string& name) const {
  const auto v = attr_doubles(name);
  if (v.size() != 1) fail("@" + name, "expected one number");
  return v[0];
}

std::int64_t Group::attr_int(const std::string& name) const {
  Quiet q;
  if (!has_attr(name)) fail("@" + name, "missing attribute");
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(t.get()) != H5T_INTEGER) fail("@" + name, "expected an integer attribute");
  Handle space(H5Aget_space(a.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) fail("@" + name, "expected one integer");
  std::int64_t v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) fail("@" + name, "cannot read attribute");
  return v;
}

// -------------------------------------------------------------------------------- File

File File::create(const std::string& path) {
  Quiet q;
  Handle fcpl = plist(H5P_FILE_CREATE);
  H5Pset_obj_track_times(fcpl.get(), false);  // root group: no times either
  H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose);
  if (!f.valid()) throw RuntimeError(output_name(path) + ": cannot create HDF5 file");
  return File(std::move(f), output_name(path), true);  // messages name the final file
}

File File::open(const std::string& path) {
  Quiet q;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "is a directory, not a file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path, "not an HDF5 file");
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) throw InputError(path, "cannot open HDF5 file (missing, truncated or not HDF5)");
  return File(std::move(f), path, false);
}

Group File::root() const {
  Quiet q;
  Handle g(H5Gopen2(h_.get(), "/", H5P_DEFAULT), H5Gclose);
  if (!g.valid()) {
    if (writable_) throw RuntimeError(path_ + ": cannot open root group");
    throw InputError(path_, "cannot open root group");
  }
  return Group(std::move(g), path_, "/", writable_);
}

void File::close() {
  Quiet q;
  if (!h_.valid()) return;
  const herr_t flushed = writable_ ? H5Fflush(h_.get(), H5F_SCOPE_GLOBAL) : 0;
  h_ = Handle();
  if (flushed < 0) throw RuntimeError(path_ + ": cannot write HDF5 file (disk full or write error)");
}

}  // namespace sabre::h5
