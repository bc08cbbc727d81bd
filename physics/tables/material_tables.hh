// Loads a physics table file (docs/tables.md) into the read-only MaterialData that
// transport uses on host and device. Host only; owns the storage the MaterialData points
// into (flat std::vectors, one GPU copy per array).
//
//   sabre::phys::MaterialTables tables("physics/data/default.h5");
//   const sabre::phys::MaterialData& d = tables.data();
//   const int water = tables.index("water");
//   double mu = d.photon.mu_rho_total(water, 1.25) * density_g_cm3;   // [1/cm]
#pragma once

#include <string>
#include <vector>

#include "physics/materials/material_data.hh"
#include "physics/tables/table_set.hh"

namespace sabre::phys {

// All arrays of a MaterialData in one contiguous, 8-byte aligned block, so that a device
// copy is a single memcpy: copy `bytes` to device memory at `base`, then use at(base).
struct PackedMaterialData {
  std::vector<unsigned char> bytes;
  MaterialData layout;  // pointers hold byte offsets into `bytes` (not dereferenceable)
  // The MaterialData whose arrays live at `base` (a copy of `bytes`, host or device).
  MaterialData at(const void* base) const;
};

class MaterialTables {
 public:
  // Reads `path`; InputError naming the file on any problem (missing file, not a table
  // file, unknown major format version, inconsistent arrays).
  explicit MaterialTables(const std::string& path);
  // Wraps an in-memory set (the generator's output), e.g. for tests.
  explicit MaterialTables(tables::TableSet set, std::string label = "(in memory)");
  MaterialTables(const MaterialTables&) = delete;  // data() points into this object
  // The shipped default set: <data dir>/physics/data/default.h5 (core/build_info.hh).
  static std::string default_file();
  MaterialTables& operator=(const MaterialTables&) = delete;

  const MaterialData& data() const { return data_; }
  int n_materials() const { return set_.n_materials(); }
  const std::vector<std::string>& names() const { return set_.names; }
  // Index of a material by its name in the file; -1 if absent.
  int find(const std::string& name) const;
  // Same, but InputError naming the file and listing the materials if absent.
  int index(const std::string& name) const;
  double density_g_cm3(int material) const { return set_.density_g_cm3.at(material); }
  double i_value_ev(int material) const { return set_.i_value_ev.at(material); }
  const std::string& definition(int material) const { return set_.definitions.at(material); }

  // Provenance.
  const std::string& path() const { return path_; }
  std::string format_version() const;             // "1.0"
  const std::string& generator_version() const { return set_.generator_version; }
  const std::string& set_name() const { return set_.set_name; }
  const Cuts& cuts() const { return set_.cuts; }
  const std::vector<tables::SourceFile>& sources() const { return set_.sources; }
  const std::string& file_sha256() const { return sha256_; }  // of the file's bytes; "" in memory

  const tables::TableSet& table_set() const { return set_; }
  // One contiguous copy of every array (see PackedMaterialData).
  PackedMaterialData pack() const;

 private:
  void bind();
  tables::TableSet set_;
  MaterialData data_;
  std::vector<double> msc_table_;  // MaterialData::msc_wentzel's values
  std::string path_;
  std::string sha256_;
};

}  // namespace sabre::phys
