// Small RAII layer over the HDF5 C API, shared by every sabre file format (physics tables,
// dose output). Host only.
//
// What it adds over the raw C API:
//  - every hid_t is owned by an object that closes it (no leaks on exceptions);
//  - HDF5's own error-stack printing is silenced; failures become sabre errors naming the
//    file and the object: reading -> InputError (exit code 3), writing -> RuntimeError (4);
//  - deterministic output: object modification times are never stored (the same calls give
//    a byte-identical file), strings are fixed-length ASCII/UTF-8, and datasets are written
//    either contiguous or as one chunk with shuffle + deflate (level given by the caller).
//
// Usage:
//   auto f = sabre::h5::File::create("out.h5.tmp");          // truncates
//   auto g = f.root().create_group("materials");
//   g.write("density_g_cm3", std::vector<double>{1.0, 0.0012}, {2});
//   g.set_attr("unit", "g/cm^3");
//   ...
//   auto r = sabre::h5::File::open("in.h5");
//   std::vector<double> v; auto dims = r.root().group("materials").read("density_g_cm3", v);
//
// Write to a temporary name and rename on success (core/output_file.hh) so that a
// failed write leaves no partial file behind.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sabre::h5 {

// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// A group (or the file's root group). Paths in messages read "file.h5:/group/name".
class Group {
 public:
  Group(Handle h, std::string file, std::string path, bool writable)
      : h_(std::move(h)), file_(std::move(file)), path_(std::move(path)), writable_(writable) {}

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  hid_t id() const { return h_.get(); }

  // --- structure
  Group create_group(const std::string& name) const;
  Group group(const std::string& name) const;       // InputError if absent
  bool has(const std::string& name) const;          // a link of that name exists
  std::vector<std::string> children() const;        // link names in creation/name order
  bool has_attr(const std::string& name) const;

  // --- datasets (row-major; dims must multiply to data.size(); deflate 0 = contiguous;
  // deflate > 0: one chunk, shuffled, compressed and Fletcher-32 checksummed, so that a
  // corrupted file is a read error (InputError) rather than wrong numbers)
  void write(const std::string& name, const std::vector<double>& data,
             const std::vector<hsize_t>& dims, int deflate = 0) const;
  void write(const std::string& name, const std::vector<std::int32_t>& data,
             const std::vector<hsize_t>& dims, int deflate = 0) const;
  void write(const std::string& name, const std::vector<std::int64_t>& data,
             const std::vector<hsize_t>& dims, int deflate = 0) const;
  void write(const std::string& name, const std::vector<std::uint64_t>& data,
             const std::vector<hsize_t>& dims, int deflate = 0) const;
  // Read a whole dataset; returns its dimensions. Type mismatches are InputErrors.
  std::vector<hsize_t> read(const std::string& name, std::vector<double>& out) const;
  std::vector<hsize_t> read(const std::string& name, std::vector<std::int32_t>& out) const;
  std::vector<hsize_t> read(const std::string& name, std::vector<std::int64_t>& out) const;
  std::vector<hsize_t> read(const std::string& name, std::vector<std::uint64_t>& out) const;
  // 1-D string datasets of earlier files (fixed or variable length); new files keep string
  // lists in attributes (set_attr below), which h5py returns as str, not bytes.
  std::vector<hsize_t> read(const std::string& name, std::vector<std::string>& out) const;

  // --- attributes (scalars, 1-D double arrays, strings and 1-D string lists: variable-length
  // UTF-8, which h5py reads as str)
  void set_attr(const std::string& name, const std::string& value) const;
  void set_attr(const std::string& name, const std::vector<std::string>& values) const;
  void set_attr(const std::string& name, const char* value) const {
    set_attr(name, std::string(value));
  }
  void set_attr(const std::string& name, double value) const;
  void set_attr(const std::string& name, std::int64_t value) const;
  void set_attr(const std::string& name, int value) const {
    set_attr(name, static_cast<std::int64_t>(value));
  }
  void set_attr(const std::string& name, const std::vector<double>& values) const;
  std::string attr_string(const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& name) const;  // 1-D (or scalar) string attribute
  // A string list as sabre writes it (an attribute), or as earlier versions did (a dataset).
  std::vector<std::string> string_list(const std::string& name) const;
  double attr_double(const std::string& name) const;
  std::int64_t attr_int(const std::string& name) const;
  std::vector<double> attr_doubles(const std::string& name) const;

 private:
  std::string where(const std::string& name) const;  // "file:/path/name"
  [[noreturn]] void fail(const std::string& name, const std::string& problem) const;

  Handle h_;
  std::string file_;
  std::string path_;
  bool writable_;
};

class File {
 public:
  // Creates (truncates) a file for writing with deterministic settings.
  static File create(const std::string& path);
  // Opens an existing file read-only; InputError naming the file if it is missing or not
  // an HDF5 file.
  static File open(const std::string& path);

  Group root() const;
  const std::string& path() const { return path_; }
  // Flushes and closes now (errors are RuntimeErrors); the destructor closes silently.
  void close();

 private:
  File(Handle h, std::string path, bool writable)
      : h_(std::move(h)), path_(std::move(path)), writable_(writable) {}
  Handle h_;
  std::string path_;
  bool writable_;
};

}  // namespace sabre::h5
