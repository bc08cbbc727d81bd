// Shared test fixtures for transport tests: the shipped physics table set (loaded once, or
// null when the file is missing so the caller can skip) and a uniform water box.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "core/build_info.hh"
#include "kernels/charged_policy.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/majorant.hh"
#include "physics/transport/transport_params.hh"
#include "tests/support/skip.hh"

namespace sabre::test {

inline std::string shipped_tables_path() {
  return (std::filesystem::path(build::data_dir()) / "physics" / "data" / "default.h5").string();
}

// The default table set, loaded on first use; nullptr when the file is not there.
inline const phys::MaterialTables* shipped_tables() {
  static std::unique_ptr<phys::MaterialTables> t;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::error_code ec;
    if (std::filesystem::is_regular_file(shipped_tables_path(), ec))
      t = std::make_unique<phys::MaterialTables>(shipped_tables_path());
  }
  return t.get();
}

// A uniform water box of nx x ny x nz voxels of 1 cm, origin (cm) as given, with the
// phantom's own photon majorant. Owns every array the TransportParams point to.
struct WaterBox {
  std::vector<std::int32_t> mat;
  std::vector<float> rho;
  std::vector<double> majorant;
  phys::TransportParams tp;
  WaterBox(const phys::MaterialTables& t, std::array<double, 3> origin_cm, int nx, int ny, int nz) {
    phys::GridGeometry g;
    g.origin_cm = {origin_cm[0], origin_cm[1], origin_cm[2]};
    g.spacing_cm = {1, 1, 1};
    g.nx = nx;
    g.ny = ny;
    g.nz = nz;
    mat.assign(std::size_t(g.size()), t.index("water"));
    rho.assign(std::size_t(g.size()), 1.0f);
    tp.phantom.grid = g;
    tp.phantom.material = mat.data();
    tp.phantom.density_g_cm3 = rho.data();
    tp.phantom.max_density_g_cm3 = 1;
    tp.materials = t.data();
    phys::use_phantom_majorant(tp, phys::material_density_range(tp), majorant);
  }
  WaterBox(const WaterBox&) = delete;
  WaterBox& operator=(const WaterBox&) = delete;
};

}  // namespace sabre::test

// In a test case body: skip (with the reason) and return when the shipped tables are
// missing; SABRE_REQUIRE_TRANSPORT_PHYSICS also when the build has no e-/e+ transport.
#define SABRE_REQUIRE_TABLES()                                                         \
  do {                                                                                 \
    if (!sabre::test::shipped_tables()) {                                              \
      sabre::test::skip("no physics table file at " + sabre::test::shipped_tables_path()); \
      return;                                                                          \
    }                                                                                  \
  } while (0)

#define SABRE_REQUIRE_TRANSPORT_PHYSICS()                                   \
  do {                                                                      \
    SABRE_REQUIRE_TABLES();                                                 \
    if (!sabre::kernels::kChargedTransportAvailable) {                      \
      sabre::test::skip("no charged-particle transport in this build");     \
      return;                                                               \
    }                                                                       \
  } while (0)
