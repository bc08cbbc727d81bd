// Woodcock photon tracking through a voxel phantom with the hand-made tables:
// uncollided transmission against exp(-mu t) of the same tables, and exact per-history
// energy bookkeeping (photon part). The acceptance tests against NIST data with the
// shipped tables are in tests/kernels/.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "hand_tables.hh"
#include "physics/transport/history.hh"

using namespace sabre::phys;

namespace {

// TEST DOUBLE for the charged-particle transport: deposits an electron's kinetic energy
// where it starts, and a positron's kinetic + annihilation energy (kerma approximation).
// Only for photon-side tests; production uses physics/electron/.
struct DepositChargedHere {
  template <class Scorer, class Stack>
  static void transport(const TransportParams& tp, Particle& p, Rng&, Scorer& scorer, Stack&) {
    const std::int64_t v = voxel_clamped(tp.phantom.grid, p.pos_cm);
    if (p.type == ParticleType::positron) {
      scorer.rest_mass(2 * kElectronMassMeV);
      scorer.deposit(v, p.energy_mev + 2 * kElectronMassMeV);
    } else {
      scorer.deposit(v, p.energy_mev);
    }
  }
};

struct BalanceScorer {
  double deposited = 0, below = 0, escaped = 0, rest = 0;
  void deposit(std::int64_t, double e) { deposited += e; }
  void below_cut(std::int64_t, double e) { below += e; }
  void escape(double e) { escaped += e; }
  void rest_mass(double e) { rest += e; }
};

struct Phantom {
  GridGeometry grid;
  std::vector<std::int32_t> mat;
  std::vector<float> rho;
  TransportParams tp;
};

// A column of nz voxels of `thick_cm` along z, lateral size 4 cm, water (material 0,
// 1 g/cm3) except `bone_voxel` (material 1, 1.85 g/cm3) if >= 0, to force fictitious events.
void make_slab(Phantom& ph, const MaterialData& md, int nz, double thick_cm, int bone_voxel) {
  ph.grid.origin_cm = {-2, -2, 0};
  ph.grid.spacing_cm = {4, 4, thick_cm};
  ph.grid.nx = ph.grid.ny = 1;
  ph.grid.nz = nz;
  ph.mat.assign(nz, 0);
  ph.rho.assign(nz, 1.0f);
  if (bone_voxel >= 0) {
    ph.mat[bone_voxel] = 1;
    ph.rho[bone_voxel] = 1.85f;
  }
  ph.tp.phantom.grid = ph.grid;
  ph.tp.phantom.material = ph.mat.data();
  ph.tp.phantom.density_g_cm3 = ph.rho.data();
  ph.tp.phantom.max_density_g_cm3 = 1.85f;  // even without the bone: majorant > mu
  ph.tp.materials = md;
}

struct PencilSource {
  double energy_mev;
  Particle sample(Rng&) const {
    Particle p;
    p.energy_mev = energy_mev;
    p.pos_cm = {0, 0, -10};
    p.dir = {0, 0, 1};
    return p;
  }
};

}  // namespace

TEST_CASE("Woodcock tracking gives the uncollided fraction exp(-mu t)", "[photon][transport]") {
  // Water slab of 10 cm (20 voxels of 0.5 cm) seen through a majorant of 1.85 x the bone-
  // like material's mu, so most flights end in fictitious events. 10^6 pencil photons per
  // energy; the uncollided ones leave the back face with the initial energy and
  // direction. Reference exp(-mu t) with mu interpolated from the same table.
  // Tolerance: 4 binomial standard deviations (deterministic, fixed seed).
  sabre::test::HandTables tables;
  Phantom ph;
  make_slab(ph, tables.data, 20, 0.5, -1);
  const long n = 1000000;
  for (double e : {0.1, 1.25, 6.0, 10.0}) {
    FixedStack<64> stack;
    BalanceScorer sc;
    long uncollided = 0;
    for (long h = 0; h < n; ++h) {
      Rng rng(99, std::uint64_t(h), kStreamTransport);
      Particle p = PencilSource{e}.sample(rng);
      REQUIRE(enter_grid(ph.grid, p));
      stack.clear();
      const PhotonFate fate = transport_photon(ph.tp, p, rng, sc, stack);
      if (fate == PhotonFate::escaped && p.energy_mev == e && p.dir.z == 1.0 && p.pos_cm.z > 10)
        ++uncollided;
    }
    const double mu = tables.data.photon.mu_rho_total(0, e) * 1.0;
    const double expect = std::exp(-mu * 10.0);
    const double frac = double(uncollided) / n;
    const double sigma = std::sqrt(expect * (1 - expect) / n);
    WARN("E = " << e << " MeV: uncollided " << frac << ", exp(-mu t) = " << expect
                << ", difference " << (frac / expect - 1) * 100 << " % (" << (frac - expect) / sigma
                << " sigma)");
    CHECK(std::abs(frac - expect) < 4 * sigma);
  }
}

TEST_CASE("Photon histories balance energy exactly", "[photon][transport]") {
  // Per history: emitted + rest-mass changes = deposited + below-cut + escaped, to 1e-12
  // relative (double sums; the requirement is 1e-6). Slab of water with a bone voxel.
  sabre::test::HandTables tables;
  Phantom ph;
  make_slab(ph, tables.data, 40, 0.5, 10);
  for (double e : {0.1, 0.5, 1.25, 6.0, 20.0}) {
    FixedStack<64> stack;
    for (long h = 0; h < 20000; ++h) {
      BalanceScorer sc;
      const double emitted =
          run_history<DepositChargedHere>(ph.tp, PencilSource{e}, 5, std::uint64_t(h), sc, stack);
      const double out = sc.deposited + sc.below + sc.escaped;
      REQUIRE(out == Approx(emitted + sc.rest).epsilon(1e-12));
    }
  }
}

TEST_CASE("Grid entry: a particle that misses the phantom escapes with its energy",
          "[photon][transport]") {
  sabre::test::HandTables tables;
  Phantom ph;
  make_slab(ph, tables.data, 4, 1.0, -1);
  FixedStack<8> stack;
  BalanceScorer sc;
  Particle p;
  p.energy_mev = 2;
  p.pos_cm = {0, 0, -5};
  p.dir = {0, 0, -1};
  Rng rng(1, 0, kStreamTransport);
  transport_one<DepositChargedHere>(ph.tp, p, rng, sc, stack);
  CHECK(sc.escaped == 2);
  CHECK(sc.deposited == 0);
}
