// Acceptance 5 (and 1) of issue 3: each table file records its format version, generator
// version, cuts, source files and digests; the loader refuses an unknown major version;
// regenerating the default set gives a byte-identical file.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <vector>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/sha256.hh"
#include "physics/tables/material_tables.hh"
#include "physics/tables/table_builder.hh"
#include "tests/support/skip.hh"

using namespace sabre::phys;
using namespace sabre::phys::tables;
namespace fs = std::filesystem;

namespace {
std::string shipped() { return (fs::path(sabre::build::data_dir()) / "physics" / "data" / "default.h5").string(); }
std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
fs::path tmpdir() {
  const auto d = fs::temp_directory_path() / "sabre_table_file_test";
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("the shipped table file records its provenance", "[tables][acceptance]") {
  const MaterialTables t(shipped());
  CHECK(t.format_version() == "1.0");
  CHECK(t.generator_version() == kGeneratorVersion);
  CHECK(t.set_name() == "default");
  CHECK(t.cuts().electron_production_mev == Approx(0.189));
  CHECK(t.cuts().electron_absorption_mev == Approx(0.189));
  CHECK(t.cuts().photon_production_mev == 0.010);
  CHECK(t.cuts().photon_absorption_mev == 0.010);
  CHECK(t.file_sha256() == sabre::sha256_file(shipped()));
  // sources: the five XCOM files, the Seltzer-Berger file and one density file per material
  REQUIRE(t.sources().size() == 6 + static_cast<std::size_t>(t.n_materials()));
  bool xcom = false, sb = false;
  for (const auto& s : t.sources()) {
    CHECK(s.sha256.size() == 64);
    xcom = xcom || s.path == "photon/xcom_photo.data";
    sb = sb || s.path == "electron/nist_brems.data";
  }
  CHECK(xcom);
  CHECK(sb);
  // the default set covers what the CT calibration and the machine models use
  for (const char* m : {"air", "lung", "adipose", "soft_tissue", "muscle", "water", "cartilage",
                        "bone_cortical", "pmma", "polystyrene", "titanium", "tungsten"})
    CHECK(t.find(m) >= 0);
  CHECK(t.density_g_cm3(t.index("water")) == 1.0);
  CHECK_THROWS_AS(t.index("kryptonite"), sabre::InputError);
}

TEST_CASE("recorded source digests match ../shared", "[tables][acceptance]") {
  SABRE_REQUIRE_SHARED();
  const MaterialTables t(shipped());
  for (const auto& s : t.sources())
    CHECK(sabre::sha256_file(sabre::test::shared_dir() + "/data/physics/" + s.path) == s.sha256);
}

TEST_CASE("the loader refuses an unknown major format version", "[tables][acceptance]") {
  TableSet set = read_table_file(shipped());
  set.format_major = kFormatMajor + 1;
  const std::string path = (tmpdir() / "future.h5").string();
  write_table_file(set, path);
  try {
    MaterialTables t(path);
    FAIL("loaded a file of major version " << set.format_major);
  } catch (const sabre::InputError& e) {
    CHECK(std::string(e.what()) == path + ": unsupported table format version 2.0 (this sabre reads 1.x); "
                                          "regenerate the tables");
  }
  // a newer minor version is read
  set.format_major = kFormatMajor;
  set.format_minor = kFormatMinor + 1;
  write_table_file(set, path);
  CHECK(MaterialTables(path).format_version() == "1.1");
  fs::remove(path);
}

TEST_CASE("a missing or foreign table file is a one-line InputError", "[tables]") {
  const std::string missing = (tmpdir() / "missing.h5").string();
  fs::remove(missing);
  try {
    MaterialTables t(missing);
    FAIL("no exception");
  } catch (const sabre::InputError& e) {
    CHECK(std::string(e.what()) == missing + ": no such file");
  }
}

TEST_CASE("regenerating the default set gives a byte-identical file", "[tables][acceptance]") {
  SABRE_REQUIRE_SHARED();
  // The documented command is scripts/make-tables.sh (= sabre tables build --source
  // ../shared/data/physics --set default --output physics/data/default.h5); the same call here.
  const auto start = std::chrono::steady_clock::now();
  BuildOptions o;
  o.source_dir = sabre::test::shared_dir() + "/data/physics";
  o.set_name = "default";
  const std::string path = (tmpdir() / "regenerated.h5").string();
  write_table_file(build_tables(o), path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("regeneration took " << seconds << " s");
  const std::string a = slurp(path), b = slurp(shipped());
  REQUIRE(!a.empty());
  CHECK(a.size() == b.size());
  CHECK(a == b);
  CHECK(seconds < 60);
  fs::remove(path);
}

TEST_CASE("loaded MaterialData points into the table set", "[tables]") {
  const MaterialTables t(shipped());
  const MaterialData& d = t.data();
  CHECK(d.n_materials == t.n_materials());
  const int w = t.index("water");
  // grid ends are exactly the file's values
  const LogGrid& g = d.charged[kElectron].dedx_total.grid;
  CHECK(g.energy(0) == Approx(1e-3).epsilon(1e-12));
  CHECK(g.energy(g.n - 1) == Approx(25.0).epsilon(1e-12));
  CHECK(d.charged[kElectron].sigma_annihilation(w, 1.0) == 0);
  CHECK(d.charged[kPositron].sigma_annihilation(w, 1.0) > 0);
  // the majorant bounds every material's total
  for (int m = 0; m < d.n_materials; ++m)
    for (double e : {0.01, 0.05, 0.3, 1.0, 4.0, 20.0})
      CHECK(d.photon.majorant_mu_rho(0, e) >= d.photon.mu_rho_total(m, e));
  CHECK(d.brems_photon[kElectron].prob == d.brems_photon[kPositron].prob);
  CHECK(d.brems_photon[kElectron].bins == kAliasBins);
}

TEST_CASE("packed MaterialData is one block that reproduces every lookup", "[tables]") {
  const MaterialTables t(shipped());
  const PackedMaterialData p = t.pack();
  // a copy of the block elsewhere (as a device copy would be)
  std::vector<double> storage(p.bytes.size() / sizeof(double) + 1);
  std::memcpy(storage.data(), p.bytes.data(), p.bytes.size());
  const MaterialData a = t.data();
  const MaterialData b = p.at(storage.data());
  CHECK(p.bytes.size() < 4u << 20);
  for (int m = 0; m < a.n_materials; ++m)
    for (double e : {0.011, 0.2, 1.3, 17.0}) {
      CHECK(b.photon.mu_rho_total(m, e) == a.photon.mu_rho_total(m, e));
      CHECK(b.photon.mu_rho[kPhotoelectric](m, e) == a.photon.mu_rho[kPhotoelectric](m, e));
      CHECK(b.photon.majorant_mu_rho(0, e) == a.photon.majorant_mu_rho(0, e));
      for (int s = 0; s < kNumChargedSpecies; ++s)
        for (int q = 0; q < kNumChargedQuantities; ++q)
          CHECK((b.charged[s].*(kChargedQuantities[q].member))(m, e) ==
                (a.charged[s].*(kChargedQuantities[q].member))(m, e));
    }
  const std::size_t n = static_cast<std::size_t>(a.n_materials) * a.brems_photon[0].grid.n * a.brems_photon[0].bins;
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(b.brems_photon[1].prob[i] == a.brems_photon[1].prob[i]);
    REQUIRE(b.brems_photon[0].alias[i] == a.brems_photon[0].alias[i]);
  }
}
