// Fano cavity test (acceptance 5): a source of electrons uniform per unit MASS in a phantom
// of one material (water) whose density varies (a slab at 1/4, 1/10 or 1/100 of the
// surrounding density) must give a dose per mass that is the same everywhere inside the
// region of charged-particle equilibrium [U. Fano, Radiat. Res. 1 (1954) 237]. Reference:
// the analytic equilibrium dose E0 x N / M (M the phantom's mass per unit area), and the
// slab-to-surround ratio 1. Tolerance: 0.5 %.
//
// Method:
//  - 1-D geometry: layers along z; one voxel laterally, 1e6 cm wide, so nothing leaves
//    sideways (the lateral integral of the dose is scored, which is uniform too).
//  - Layers (mass thickness, R = the restricted range of E0, the longest path any particle
//    of the history can travel: no straggling, delta rays and photons carry energy away):
//    R of water buffer | 0.3 R water (scored) | slab of mass 0.5 R at reduced density
//    (scored) | 0.3 R water (scored) | R of water buffer. A particle born farther than R
//    from the scored region never reaches it, and one that reaches it never goes farther
//    than R from it, so this is exact equilibrium for the scored region.
//  - Source: voxel chosen with probability rho V / M, position uniform inside, isotropic.
//  - Bremsstrahlung photons are not transported: their energy is deposited where they are
//    created (the usual "regeneration" treatment; the photon source is then also uniform per
//    mass). Delta rays are transported. Full class II physics otherwise.
//  - Statistics: history by history (each history's region energies), 1 sigma printed.
// Longer runs (10 MeV, more histories): validation/fano/ (SABRE_FANO_SCALE multiplies the
// histories, SABRE_FANO_SEED sets the seed; the [.fano-long] case is hidden from the
// default run).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "physics/electron/condensed_history.hh"
#include "physics/transport/history.hh"
#include "tests/physics/electron/electron_test_support.hh"
#include "tests/support/evidence.hh"

using namespace sabre::phys;
namespace et = sabre::test::electron;

namespace {

// Scorer that sums each history's energy per region (0: not scored, 1: water, 2: slab).
struct RegionScorer {
  const std::vector<int>* region = nullptr;
  double h[3] = {0, 0, 0};
  void deposit(std::int64_t v, double e) { h[(*region)[std::size_t(v)]] += e; }
  void below_cut(std::int64_t v, double e) { deposit(v, e); }
  void escape(double) {}
  void rest_mass(double) {}
};

struct Stat {  // sums for means, variances and covariances of per-history values
  double s = 0, s2 = 0;
  void add(double x) { s += x; s2 += x * x; }
};

// Runs n histories of e0 electrons in each geometry of `ratios` IN LOCKSTEP: history h uses
// the same random numbers in every geometry (correlated sampling), so density effects are
// seen against the uniform-water case without its statistical noise. Prints and checks.
// `evidence`: when set, the figures are recorded for validation/run.py (tests/support/evidence.hh)
// under ids "<evidence>/<E0>MeV/...": the theorem rows of the thinnest slab (independent) and
// the density-scaling row (a guard: the slabs at every density against uniform water).
void run_fano(const MaterialTables& tab, double e0, const std::vector<double>& ratios, long n,
              std::uint64_t seed, bool check_absolute, const ElectronOptions& opt = ElectronOptions(),
              const char* evidence = nullptr) {
  const int water = tab.index("water");
  const MaterialData& md = tab.data();
  const double r = md.charged[kElectron].range_restricted(water, e0);  // [g/cm^2]
  std::vector<double> all{1.0};
  all.insert(all.end(), ratios.begin(), ratios.end());
  const std::size_t g_n = all.size();
  std::vector<std::unique_ptr<et::FanoGeometry>> geo;
  for (double x : all) geo.push_back(std::make_unique<et::FanoGeometry>(r, x, [water](int, int) { return water; }));
  std::vector<Stat> slab(g_n), surround(g_n), diff(g_n);
  std::vector<double> cross_ws(g_n, 0.0);
  FixedStack<256> st;
  const auto t0 = std::chrono::steady_clock::now();
  for (long h = 0; h < n; ++h) {
    double slab1 = 0;
    for (std::size_t gi = 0; gi < g_n; ++gi) {
      const et::FanoGeometry& g = *geo[gi];
      TransportParams tp;
      tp.phantom = g.ph->view;
      tp.materials = md;
      RegionScorer sc;
      sc.region = &g.region;
      et::fano_history(tp, opt, g.cum, g.dz, e0, seed, std::uint64_t(h), sc, st);
      const double ds = sc.h[2] / g.mass_s, dw = sc.h[1] / g.mass_w;  // per mass
      if (gi == 0) slab1 = ds;
      slab[gi].add(ds);
      surround[gi].add(dw);
      diff[gi].add(ds - slab1);
      cross_ws[gi] += ds * dw;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double eq = e0 / geo[0]->cum.back();  // equilibrium energy per mass per history
  double scaling_worst = 0, scaling_tol = 1.0;
  bool scaling_pass = true;
  for (std::size_t gi = 0; gi < g_n; ++gi) {
    const double ms = slab[gi].s / n, mw = surround[gi].s / n;
    const double vs = (slab[gi].s2 / n - ms * ms) / n, vw = (surround[gi].s2 / n - mw * mw) / n;
    const double cov = (cross_ws[gi] / n - ms * mw) / n;
    const double rs = ms / eq, rw = mw / eq, rat = ms / mw;
    const double se_s = std::sqrt(vs) / eq, se_w = std::sqrt(vw) / eq;
    const double se_rat = rat * std::sqrt(vs / (ms * ms) + vw / (mw * mw) - 2 * cov / (ms * mw));
    // Slab at this density vs the same histories in uniform water (paired differences).
    const double md_ = diff[gi].s / n;
    const double se_d = std::sqrt((diff[gi].s2 / n - md_ * md_) / n) / (slab[0].s / n);
    const double rel = md_ / (slab[0].s / n);
    std::printf("Fano water E0 %4.1f MeV slab 1/%-3.0f (%ld histories, %zu geometries in %.1f s): "
                "slab %.4f +- %.4f, surround %.4f +- %.4f of E0 N/M; slab/surround %.4f +- %.4f; "
                "slab vs uniform water (same histories) %+.5f +- %.5f\n",
                e0, 1 / all[gi], n, g_n, secs, rs, se_s, rw, se_w, rat, se_rat, rel, se_d);
    if (gi == 0) continue;
    // (a) Correlated comparison: the dose per mass in the slab does not change with its
    //     density, within 0.5 % (acceptance bound) and within 4 sigma of the pairing plus
    //     1e-6 of rounding. In a slab geometry every quantity of the step being a mass
    //     thickness, a history's motion projected on the mass axis is the same for every
    //     slab density (only its lateral spread differs), so the paired difference is
    //     rounding (~1e-7 observed): the strongest form of Fano's theorem for the algorithm.
    CHECK(std::fabs(rel) < 0.005);
    CHECK(std::fabs(rel) < 4 * se_d + 1e-6);
    // (b) Absolute: slab and surround equal the equilibrium value E0 N / M. Held to 0.5 %
    //     only when the run is long enough for that to mean something (check_absolute:
    //     sigma < 0.17 %); else to 4 sigma (statistical consistency with Fano's 1.000).
    const double tol_s = check_absolute ? 0.005 : 4 * se_s;
    const double tol_r = check_absolute ? 0.005 : 4 * se_rat;
    if (check_absolute) {
      CHECK(se_s < 0.0017);
      CHECK(se_rat < 0.0017);
    }
    CHECK(std::fabs(rs - 1) < tol_s);
    CHECK(std::fabs(rat - 1) < tol_r);
    const bool scaled_ok = std::fabs(rel) < 0.005 && std::fabs(rel) < 4 * se_d + 1e-6;
    scaling_pass = scaling_pass && scaled_ok;
    scaling_worst = std::fmax(scaling_worst, std::fabs(rel));
    scaling_tol = std::fmin(scaling_tol, 4 * se_d + 1e-6);
    if (evidence && gi + 1 == g_n) {
      char pre[64], buf[192];
      std::snprintf(pre, sizeof pre, "%s/%gMeV", evidence, e0);
      const std::string tol_text = check_absolute ? "" : "4 sigma (a run too short for the 0.5 % acceptance bound)";
      sabre::test::Evidence row;
      row.kind = "independent";
      row.reference_source = "Fano's theorem: dose per mass = E0 N / M in charged-particle equilibrium";
      row.histories = n;
      row.unit = "ratio";
      row.id = std::string(pre) + "/slab";
      std::snprintf(buf, sizeof buf, "%g MeV electrons, water slab at 1/%.0f density: slab dose / (E0 N/M)", e0,
                    1 / all[gi]);
      row.quantity = buf;
      row.reference = 1.0;
      row.value = rs;
      row.difference = rs - 1;
      row.sigma = se_s;
      row.tolerance = tol_s;
      row.tolerance_text = tol_text;
      row.pass = std::fabs(rs - 1) < tol_s && (!check_absolute || se_s < 0.0017);
      sabre::test::record(row);
      row.id = std::string(pre) + "/ratio";
      std::snprintf(buf, sizeof buf, "%g MeV electrons, water slab at 1/%.0f density: slab / surrounding water", e0,
                    1 / all[gi]);
      row.quantity = buf;
      row.value = rat;
      row.difference = rat - 1;
      row.sigma = se_rat;
      row.tolerance = tol_r;
      row.pass = std::fabs(rat - 1) < tol_r && (!check_absolute || se_rat < 0.0017);
      sabre::test::record(row);
    }
  }
  if (evidence && g_n > 1) {
    char buf[192];
    std::string slabs;
    for (double x : ratios) slabs += (slabs.empty() ? "1/" : ", 1/") + std::to_string(int(std::lround(1 / x)));
    sabre::test::Evidence row;
    std::snprintf(buf, sizeof buf, "%s/%gMeV/density-scaling", evidence, e0);
    row.id = buf;
    std::snprintf(buf, sizeof buf, "%g MeV: slab dose at %s density vs uniform water, same histories: largest |difference|",
                  e0, slabs.c_str());
    row.quantity = buf;
    row.kind = "guard";
    row.reference_source = "the same histories in uniform water (the step is density-scaled: equal up to rounding)";
    row.reference = 0.0;
    row.value = scaling_worst;
    row.difference = scaling_worst;
    row.tolerance = scaling_tol;
    row.tolerance_text = "4 sigma of the paired difference + 1e-6";
    row.unit = "relative";
    row.histories = n;
    row.pass = scaling_pass;
    sabre::test::record(row);
  }
}

long scaled(long n) {
  const char* s = std::getenv("SABRE_FANO_SCALE");
  const double f = s ? std::atof(s) : 1.0;
  return static_cast<long>(n * (f > 0 ? f : 1.0));
}

}  // namespace

TEST_CASE("Fano cavity test, 1 MeV electrons, water slabs at 1/4, 1/10, 1/100",
          "[electron][fano]") {
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables"); return; }
  run_fano(*tab, 1.0, {0.25, 0.1, 0.01}, scaled(40000), 1954, false, ElectronOptions(), "fano");
}

TEST_CASE("Fano cavity test with range rejection (roulette 1/8), 1 MeV, water slabs at 1/4, 1/10, 1/100",
          "[electron][efficiency]") {  // not [fano]: validation/run.py reads [fano]'s lines as the theorem rows
  // The efficiency default of the phantom and run files (issue 20): the roulette must keep
  // the theorem. The rejection test compares mass thicknesses (residual range against
  // density x distance to the voxel faces), so it is density-scaled like everything else.
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables"); return; }
  ElectronOptions opt;
  opt.range_rejection = true;
  opt.range_rejection_survival = 0.125;
  run_fano(*tab, 1.0, {0.25, 0.1, 0.01}, scaled(40000), 1956, false, opt);
}

TEST_CASE("Fano cavity test, 1 and 10 MeV, long (validation/fano)", "[.fano-long]") {
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables"); return; }
  const char* seed_env = std::getenv("SABRE_FANO_SEED");
  const std::uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 1955;
  run_fano(*tab, 1.0, {0.25, 0.1, 0.01}, scaled(4000000), seed, true, ElectronOptions(), "fano");
  run_fano(*tab, 10.0, {0.25, 0.1, 0.01}, scaled(2000000), seed + 1, true, ElectronOptions(), "fano");
}
