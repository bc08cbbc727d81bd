// The photons' per-block attenuation bound (physics/transport/block_majorant.hh): the blocks'
// largest densities, M(E) over the phantom's materials, the bound M rho_b >= mu in every voxel
// of the block at every energy (what lets photon_transport.hh call a candidate fictitious
// without reading its voxel), and when the blocks are attached.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "physics/core/rng.hh"
#include "physics/transport/block_majorant.hh"
#include "physics/transport/phantom_derived.hh"
#include "tests/support/transport_fixtures.hh"

using namespace sabre::phys;
using sabre::test::shipped_tables;

namespace {

// 10 x 9 x 5 voxels (not multiples of the block side): air around a water body with lung,
// bone and titanium inside, densities varied voxel by voxel (fixed seed).
struct MixedPhantom {
  std::vector<std::int32_t> mat;
  std::vector<float> rho;
  TransportParams tp;
  explicit MixedPhantom(const MaterialTables& t) {
    GridGeometry g;
    g.origin_cm = {-2.5, -2.25, 0};
    g.spacing_cm = {0.5, 0.5, 0.25};
    g.nx = 10;
    g.ny = 9;
    g.nz = 5;
    mat.resize(std::size_t(g.size()));
    rho.resize(std::size_t(g.size()));
    Rng rng(17, 0, kStreamTest);
    float rmax = 0;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const double u = rng.uniform();
          int m = t.index("water");
          float r = float(0.95 + 0.1 * u);
          if (i < 4 || j < 4) m = t.index("air"), r = float(0.0012 * (0.5 + u));
          else if (i >= 6 && j >= 5) m = t.index("lung"), r = float(0.2 + 0.1 * u);
          else if (i == 5 && j == 4) m = t.index("bone_cortical"), r = float(1.8 + 0.1 * u);
          if (i == 9 && j == 8 && k == 4) m = t.index("titanium"), r = 4.5f;
          mat[std::size_t(g.index(i, j, k))] = m;
          rho[std::size_t(g.index(i, j, k))] = r;
          rmax = std::max(rmax, r);
        }
    tp.phantom.grid = g;
    tp.phantom.material = mat.data();
    tp.phantom.density_g_cm3 = rho.data();
    tp.phantom.max_density_g_cm3 = rmax;
    tp.materials = t.data();
  }
  MixedPhantom(const MixedPhantom&) = delete;
};

}  // namespace

TEST_CASE("Block majorant: each block's largest density, M over the phantom's materials only",
          "[transport][majorant][efficiency]") {
  SABRE_REQUIRE_TABLES();
  const MaterialTables& t = *shipped_tables();
  MixedPhantom ph(t);
  const GridGeometry& g = ph.tp.phantom.grid;
  const BlockMajorantStorage s =
      block_majorant(ph.tp.phantom, ph.tp.materials, material_density_range(ph.tp), 2);
  CHECK(s.shift == 2);
  CHECK(s.count[0] == 3);  // ceil(10 / 4)
  CHECK(s.count[1] == 3);  // ceil(9 / 4)
  CHECK(s.count[2] == 2);  // ceil(5 / 4)
  REQUIRE(s.max_density.size() == 18);
  // Brute force: every voxel against the block it lies in, by coordinates.
  std::vector<float> expect(18, 0.0f);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const int b = i / 4 + 3 * (j / 4 + 3 * (k / 4));
        expect[std::size_t(b)] = std::max(expect[std::size_t(b)], ph.rho[std::size_t(g.index(i, j, k))]);
      }
  CHECK(s.max_density == expect);
  CHECK(s.max_density[0] < 0.002f);  // blocks (0, 0, z): air only
  CHECK(s.max_density[9] < 0.002f);
  // M: the largest mu/rho over air, water, lung, bone and titanium, not over the table
  // set's other materials (tungsten is in the table set, not in the phantom).
  const GridTable& tot = t.data().photon.mu_rho_total;
  const int n = tot.grid.n;
  const int present[] = {t.index("air"), t.index("water"), t.index("lung"), t.index("bone_cortical"),
                         t.index("titanium")};
  bool below_table_majorant = false;
  for (int i = 0; i < n; ++i) {
    double m = 0;
    for (int mat : present) m = std::max(m, tot.values[std::int64_t(mat) * n + i]);
    REQUIRE(s.mu_rho_row[std::size_t(i)] == m);
    below_table_majorant |= m < t.data().photon.majorant_mu_rho.values[i];
  }
  CHECK(below_table_majorant);
}

TEST_CASE("Block majorant: M rho_b bounds mu in every voxel of its block at every energy",
          "[transport][majorant][efficiency]") {
  // The property photon_transport.hh relies on: a candidate whose acceptance number is at
  // least M(E) rho_b (1 + 1e-9) would have been fictitious had its voxel been read. Checked
  // with the transport's own interpolation at every photon grid point and at 20 000 random
  // energies, for every voxel.
  SABRE_REQUIRE_TABLES();
  const MaterialTables& t = *shipped_tables();
  MixedPhantom ph(t);
  BlockMajorantStorage s;
  use_block_majorant(ph.tp, material_density_range(ph.tp), s);
  const PhantomView& pv = ph.tp.phantom;
  REQUIRE(pv.block_max_density_g_cm3 == s.max_density.data());
  const PhotonData& pd = ph.tp.materials.photon;
  REQUIRE(pd.block_majorant_mu_rho.values == s.mu_rho_row.data());
  const GridGeometry& g = pv.grid;
  const LogGrid& eg = pd.mu_rho_total.grid;
  Rng rng(23, 0, kStreamTest);
  double worst = 0;  // largest mu_v / (M rho_b)
  long tighter = 0, candidates = 0;
  const auto check_at = [&](int bin, double f) {
    const double m_rho = pd.block_majorant_mu_rho.at(0, bin, f) * (1 + 1e-9);
    const double global = ph.tp.materials.photon.majorant_mu_rho.at(0, bin, f) * pv.max_density_g_cm3;
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          const std::int64_t v = g.index(i, j, k);
          const double mu = pd.mu_rho_total.at(pv.material[v], bin, f) * pv.density_g_cm3[v];
          const double bound = m_rho * double(pv.block_max_density_g_cm3[pv.block_of(i, j, k)]);
          if (!(mu <= bound)) FAIL("voxel " << i << "," << j << "," << k << " bin " << bin << " f " << f);
          worst = std::max(worst, mu / bound);
          tighter += bound < global;
          ++candidates;
        }
  };
  for (int bin = 0; bin + 1 < eg.n; ++bin) check_at(bin, 0.0);
  check_at(eg.n - 2, 1.0);
  for (int r = 0; r < 20000; ++r) {
    double f;
    const double e = std::exp(std::log(0.011) + rng.uniform() * (std::log(20.0) - std::log(0.011)));
    const int bin = eg.locate(e, f);
    check_at(bin, f);
  }
  WARN("largest mu / block bound " << worst << "; block bound below the phantom-wide majorant for "
                                   << 100.0 * double(tighter) / double(candidates) << " % of voxel-energy pairs");
  CHECK(worst <= 1.0);
  CHECK(worst > 0.99);  // the bound is attained (the block's densest voxel of M's material)
  CHECK(tighter > candidates / 2);  // air and lung blocks: the blocks bound better than one majorant
}

TEST_CASE("Block majorant: attached only where a block is below the phantom's largest density",
          "[transport][majorant][efficiency]") {
  SABRE_REQUIRE_TABLES();
  const MaterialTables& t = *shipped_tables();
  // A homogeneous water box: every block at the largest density, nothing to gain: not attached,
  // and what use_phantom_derived_data attached before is cleared.
  sabre::test::WaterBox box(t, {0, 0, 0}, 6, 6, 6);
  PhantomDerivedStorage d;
  use_phantom_derived_data(box.tp, d);
  CHECK_FALSE(block_majorant_useful(d.blocks));
  CHECK(box.tp.phantom.block_max_density_g_cm3 == nullptr);
  CHECK(box.tp.materials.photon.block_majorant_mu_rho.values == nullptr);
  // One block of lung (voxels 0-3 on each axis): below 1 g/cm3, the others are not: attached.
  const auto set_first_block = [&](const char* name, float r) {
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 4; ++j)
        for (int i = 0; i < 4; ++i) {
          box.rho[std::size_t(box.tp.phantom.grid.index(i, j, k))] = r;
          box.mat[std::size_t(box.tp.phantom.grid.index(i, j, k))] = t.index(name);
        }
  };
  set_first_block("lung", 0.26f);
  use_phantom_derived_data(box.tp, d);
  CHECK(block_majorant_useful(d.blocks));
  CHECK(box.tp.phantom.block_max_density_g_cm3 == d.blocks.max_density.data());
  CHECK(box.tp.phantom.block_shift == kMajorantBlockShift);
  CHECK(box.tp.materials.photon.block_majorant_mu_rho.values == d.blocks.mu_rho_row.data());
  // Back to water: cleared again.
  set_first_block("water", 1.0f);
  use_phantom_derived_data(box.tp, d);
  CHECK(box.tp.phantom.block_max_density_g_cm3 == nullptr);
}
