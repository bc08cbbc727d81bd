// Class II condensed history (physics/electron/condensed_history.hh): energy balance, the
// CSDA path length against ESTAR, the first moment of the direction after many steps.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "physics/electron/condensed_history.hh"
#include "physics/transport/history.hh"
#include "tests/physics/electron/electron_test_support.hh"
#include "tests/support/evidence.hh"

using namespace sabre::phys;
namespace et = sabre::test::electron;

namespace {

// A mono-energetic point source along +z (the history loop's Source concept).
struct PointSource {
  ParticleType type;
  double energy_mev;
  Vec3 pos_cm;
  Vec3 dir{0, 0, 1};
  Particle sample(Rng&) const {
    Particle p;
    p.type = type;
    p.energy_mev = energy_mev;
    p.pos_cm = pos_cm;
    p.dir = dir;
    return p;
  }
};

}  // namespace

TEST_CASE("energy balance per history, e- and e+ 0.5-20 MeV, water and water/bone/lung",
          "[electron][ch][balance]") {
  // Acceptance 1 (electron part): for every history, deposited + below-cut + escaped =
  // emitted + rest mass converted, within 1e-6 relative (exact up to rounding). Full
  // physics: photons (bremsstrahlung, annihilation) transported by the photon code.
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables (physics/data/default.h5 or ../shared)"); return; }
  const int water = tab->index("water"), bone = tab->index("bone_cortical"),
            lung = tab->index("lung");
  // 60 layers of 0.25 cm (15 cm): uniform water, or water | bone | lung | water slabs.
  const int nz = 60;
  std::vector<int> mat_w(nz, water), mat_s(nz, water);
  std::vector<double> rho_w(nz, 1.0), rho_s(nz, 1.0);
  for (int k = 12; k < 20; ++k) { mat_s[k] = bone; rho_s[k] = tab->density_g_cm3(bone); }
  for (int k = 20; k < 44; ++k) { mat_s[k] = lung; rho_s[k] = tab->density_g_cm3(lung); }
  const et::LayeredPhantom uniform(std::vector<double>(nz, 0.25), mat_w, rho_w, 20.0);
  const et::LayeredPhantom slabs(std::vector<double>(nz, 0.25), mat_s, rho_s, 20.0);
  int histories = 0;
  double worst = 0;
  for (const et::LayeredPhantom* ph : {&uniform, &slabs}) {
    TransportParams tp;
    tp.phantom = ph->view;
    tp.materials = tab->data();
    for (ParticleType type : {ParticleType::electron, ParticleType::positron}) {
      for (double e : {0.5, 1.0, 2.0, 5.0, 10.0, 20.0}) {
        const PointSource src{type, e, {0.3, -0.2, 2.0}};
        FixedStack<256> stack;
        for (std::uint64_t h = 0; h < 100; ++h) {
          et::LedgerScorer sc;
          const double emitted =
              run_history<CondensedHistoryCharged>(tp, src, 99, h, sc, stack);
          const double in = emitted + sc.rest;
          const double out = sc.deposited + sc.below + sc.escaped;
          const double rel = std::fabs(out - in) / in;
          worst = rel > worst ? rel : worst;
          ++histories;
          INFO("E " << e << " type " << int(type) << " history " << h);
          REQUIRE(rel < 1e-6);
          REQUIRE(stack.overflows == 0);
        }
      }
    }
  }
  std::printf("energy balance: %d histories, worst relative imbalance %.2e\n", histories, worst);
}

namespace {

// ESTAR csda range [g/cm^2] of ../shared/data/reference/nist-water-electron.csv, log-log
// interpolated between its rows.
struct Estar {
  std::vector<double> e, r, y;
  bool ok = false;
  Estar() {
    if (sabre::test::shared_dir().empty()) return;
    std::FILE* f = std::fopen((sabre::test::shared_dir() + "/data/reference/nist-water-electron.csv").c_str(), "r");
    if (!f) return;
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      double a, b, c, d, rr, yy;
      if (std::sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &a, &b, &c, &d, &rr, &yy) == 6) {
        e.push_back(a);
        r.push_back(rr);
        y.push_back(yy);
      }
    }
    std::fclose(f);
    ok = e.size() > 3;
  }
  static double loglog(const std::vector<double>& x, const std::vector<double>& v, double at) {
    std::size_t i = 1;
    while (i + 1 < x.size() && x[i] < at) ++i;
    const double f = std::log(at / x[i - 1]) / std::log(x[i] / x[i - 1]);
    return std::exp(std::log(v[i - 1]) + f * std::log(v[i] / v[i - 1]));
  }
  double range(double e_mev) const { return loglog(e, r, e_mev); }
  double yield(double e_mev) const { return loglog(e, y, e_mev); }
};

}  // namespace

TEST_CASE("CSDA mode: mean path to the cut matches ESTAR range(E0) - range(Ecut)",
          "[electron][ch][csda]") {
  // Acceptance 4, first part. CSDA mode: unrestricted total stopping power, no delta rays,
  // no bremsstrahlung, no straggling; multiple scattering ON (the path is summed voxel by
  // voxel along the deflected track). Reference: ESTAR csda range (log-log interpolated);
  // tolerance 0.5 %. Run at density 1 and 0.25 g/cm^3 (path x density must not change).
  const MaterialTables* tab = et::tables();
  const Estar estar;
  if (!tab || !estar.ok) { sabre::test::skip("needs tables and ../shared reference data"); return; }
  const int water = tab->index("water");
  const double e_cut = tab->cuts().electron_absorption_mev;
  std::map<double, double> path_rho1;  // [E0] -> mean mass path at density 1
  for (double rho : {1.0, 0.25}) {
    const int nz = 100;
    const double dz = 1.0 / rho;  // 100 g/cm^2 of water in 1 g/cm^2 layers
    const et::LayeredPhantom ph(std::vector<double>(nz, dz), std::vector<int>(nz, water),
                                std::vector<double>(nz, rho), 1e4);
    TransportParams tp;
    tp.phantom = ph.view;
    tp.materials = tab->data();
    ElectronOptions o;
    o.csda_unrestricted = true;
    for (double e0 : {1.0, 5.0, 10.0, 20.0}) {
      Rng rng(4, std::uint64_t(e0 * 10), kStreamTest);
      et::LedgerScorer sc;
      FixedStack<16> st;
      const int n = 200;
      double path_g = 0;
      for (int i = 0; i < n; ++i) {
        Particle p;
        p.type = ParticleType::electron;
        p.energy_mev = e0;
        p.pos_cm = {0, 0, 50 * dz};
        p.dir = {0, 0, 1};
        const ChargedTrackResult r = transport_charged(tp, o, p, rng, sc, st);
        REQUIRE(r.fate == ChargedFate::absorbed);
        REQUIRE(st.size == 0);
        path_g += r.path_cm * rho;
      }
      const double mean = path_g / n;
      const double ref = estar.range(e0) - estar.range(e_cut);
      std::printf("CSDA path rho %.2f E0 %5.1f MeV: mean path %.5f g/cm^2, ESTAR %.5f, %+.3f %%\n",
                  rho, e0, mean, ref, 100 * (mean / ref - 1));
      CHECK(mean == Approx(ref).epsilon(0.005));
      // Evidence rows: at density 1 against ESTAR (independent); at 0.25 against the density-1
      // path of the same random numbers (a guard: the step is density-scaled, so the mass path
      // must not change beyond rounding; it is not a second comparison with ESTAR).
      char buf[128];
      sabre::test::Evidence row;
      std::snprintf(buf, sizeof buf, "electron-csda/path/rho%g/%gMeV", rho, e0);
      row.id = buf;
      row.unit = "g/cm2; difference relative";
      row.histories = n;
      if (rho == 1.0) {
        path_rho1[e0] = mean;
        std::snprintf(buf, sizeof buf, "CSDA mass path to the %.3f MeV cut, %g MeV electrons, water", e_cut, e0);
        row.quantity = buf;
        row.kind = "independent";
        row.reference_source = "ESTAR CSDA range(E0) - range(E_cut), log-log interpolated "
                               "(../shared/data/reference/nist-water-electron.csv)";
        row.reference = ref;
        row.value = mean;
        row.difference = mean / ref - 1;
        row.tolerance = 0.005;
      } else {
        std::snprintf(buf, sizeof buf, "CSDA mass path, %g MeV, density %g vs density 1 (same random numbers)", e0,
                      rho);
        row.quantity = buf;
        row.kind = "guard";
        row.reference_source = "the same run at density 1 (density scaling of the step)";
        row.reference = path_rho1.at(e0);
        row.value = mean;
        row.difference = mean / path_rho1.at(e0) - 1;
        row.tolerance = 1e-6;
        CHECK(std::fabs(row.difference) < row.tolerance);
      }
      row.pass = std::fabs(row.difference) < row.tolerance;
      sabre::test::record(row);
      // Energy: all of E0 deposited (continuous) or below the cut, nothing else.
      CHECK(sc.deposited + sc.below == Approx(n * e0).epsilon(1e-12));
    }
  }
}

TEST_CASE("MSC over many steps keeps Lewis's moments: <cos>, <P2> and the mean depth",
          "[electron][ch][msc]") {
  // Theorem (Lewis 1950, eqs. 22 and 26): for a path s, whatever the step pattern,
  //   <P_l(cos theta(s))> = exp(-int_0^s ds'/lambda_l)   (l = 1, 2), and
  //   <z(s)> = int_0^s exp(-int_0^s' ds''/lambda_1) ds'  (the mean penetration).
  // Here s runs from 10 MeV down to 5 MeV (absorption cut raised to 5 MeV) in water with
  // continuous restricted loss only; the reference integrals over E are done independently
  // by a 4000-point trapezoid rule on the tables (1/lambda_2 = 1/lambda_1 x
  // lambda_1/lambda_2 of the Wentzel cross section with the table's screening). Over this
  // path 1/lambda_1 grows ~3-fold, so the mean depth depends on where the hinge goes along
  // a step with energy loss: measured (seed 5) +0.13 % with the G1-fraction hinge of
  // msc_hinge_fraction, -0.22 % with a hinge uniform in path length (too shallow, as
  // expected), so this test bounds both but does not choose between them; the choice is
  // made by the step-size convergence study (validation/step-convergence).
  // Tolerances: 4 standard errors of the mean (fixed seed) plus 0.2 % for the per-step
  // quadrature (Simpson for G1, midpoint lambda_1/lambda_2 for G2, linear 1/lambda_1 for
  // the hinge).
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables"); return; }
  const int water = tab->index("water");
  MaterialData md = tab->data();
  md.cuts.electron_absorption_mev = 5.0;
  const int nz = 10;
  const et::LayeredPhantom ph(std::vector<double>(nz, 10.0), std::vector<int>(nz, water),
                              std::vector<double>(nz, 1.0), 1e4);
  TransportParams tp;
  tp.phantom = ph.view;
  tp.materials = md;
  ElectronOptions o;
  o.delta_rays = o.bremsstrahlung = false;
  const ChargedData& cd = md.charged[kElectron];
  // From 10 MeV downwards: G1(E) = int_E^10 dE'/(lambda_1 S), likewise G2, and
  // z = int_E^10 exp(-G1(E')) dE'/S, trapezoid in ln E.
  double g1 = 0, g2 = 0, z = 0;
  const int k = 4000;
  const double h = std::log(2.0) / k;
  double e_prev = 10.0;
  auto per_len = [&](double e) { return e / cd.dedx_restricted(water, e); };  // ds/dlnE
  for (int i = 1; i <= k; ++i) {
    const double e = 10.0 * std::pow(0.5, double(i) / k);
    const double l1a = cd.msc_inv_lambda1(water, e_prev), l1b = cd.msc_inv_lambda1(water, e);
    const double l2a = l1a * wentzel_lambda1_over_lambda2(cd.msc_screening(water, e_prev));
    const double l2b = l1b * wentzel_lambda1_over_lambda2(cd.msc_screening(water, e));
    const double g1_new = g1 + 0.5 * h * (l1a * per_len(e_prev) + l1b * per_len(e));
    z += 0.5 * h * (std::exp(-g1) * per_len(e_prev) + std::exp(-g1_new) * per_len(e));
    g2 += 0.5 * h * (l2a * per_len(e_prev) + l2b * per_len(e));
    g1 = g1_new;
    e_prev = e;
  }
  Rng rng(5, 0, kStreamTest);
  et::LedgerScorer sc;
  FixedStack<16> st;
  const int n = 40000;
  double s = 0, s2 = 0, q = 0, q2 = 0, d = 0, d2 = 0;
  for (int i = 0; i < n; ++i) {
    Particle p;
    p.type = ParticleType::electron;
    p.energy_mev = 10.0;
    p.pos_cm = {0, 0, 50};
    p.dir = {0, 0, 1};
    transport_charged(tp, o, p, rng, sc, st);
    const double p2 = 0.5 * (3 * p.dir.z * p.dir.z - 1), dz = p.pos_cm.z - 50;
    s += p.dir.z;
    s2 += p.dir.z * p.dir.z;
    q += p2;
    q2 += p2 * p2;
    d += dz;
    d2 += dz * dz;
  }
  const double mean = s / n, se = std::sqrt((s2 / n - mean * mean) / n);
  const double mq = q / n, seq = std::sqrt((q2 / n - mq * mq) / n);
  const double md_ = d / n, sed = std::sqrt((d2 / n - md_ * md_) / n);
  std::printf("Lewis moments 10->5 MeV water: G1 %.4f, <cos> %.5f +- %.5f vs %.5f; G2 %.4f, "
              "<P2> %.5f +- %.5f vs %.5f; <z> %.5f +- %.5f cm vs %.5f cm\n",
              g1, mean, se, std::exp(-g1), g2, mq, seq, std::exp(-g2), md_, sed, z);
  CHECK(std::fabs(mean - std::exp(-g1)) < 4 * se + 0.002 * std::exp(-g1));
  CHECK(std::fabs(mq - std::exp(-g2)) < 4 * seq + 0.002 * std::exp(-g2));
  CHECK(std::fabs(md_ - z) < 4 * sed + 0.002 * z);
}

TEST_CASE("a step stops at a material change and continues with the new tables",
          "[electron][ch][interface]") {
  // CSDA mode, no multiple scattering: an electron along +z through 1 cm of water into
  // bone. Reference (from the range tables, independent of the step pattern): it enters the
  // bone with E1 = R_w^-1(R_w(E0) - 1 g/cm^2) and travels R_b(E1) - R_b(Ecut) in it; the
  // energy deposited in the water layers is E0 - E1. Tolerance 1e-9 relative (rounding).
  const MaterialTables* tab = et::tables();
  if (!tab) { sabre::test::skip("needs physics tables"); return; }
  const int water = tab->index("water"), bone = tab->index("bone_cortical");
  const double rho_b = tab->density_g_cm3(bone);
  // 4 layers of 0.25 cm water (1 g/cm^2), then 40 layers of bone.
  std::vector<int> mat(44, bone);
  std::vector<double> rho(44, rho_b);
  for (int k = 0; k < 4; ++k) { mat[k] = water; rho[k] = 1.0; }
  const et::LayeredPhantom ph(std::vector<double>(44, 0.25), mat, rho, 1e4);
  TransportParams tp;
  tp.phantom = ph.view;
  tp.materials = tab->data();
  ElectronOptions o;
  o.csda_unrestricted = true;
  o.multiple_scattering = false;
  const GridTable& rw = tp.materials.charged[kElectron].range_csda;
  const double e_cut = tp.materials.cuts.electron_absorption_mev;
  for (double e0 : {3.0, 10.0}) {
    et::LedgerScorer sc(44);
    FixedStack<16> st;
    Rng rng(1, 0, kStreamTest);
    Particle p;
    p.type = ParticleType::electron;
    p.energy_mev = e0;
    p.pos_cm = {0, 0, 0};
    p.dir = {0, 0, 1};
    const ChargedTrackResult r = transport_charged(tp, o, p, rng, sc, st);
    const double e1 = energy_from_range(rw, water, rw(water, e0) - 1.0);
    const double bone_path_g = rw(bone, e1) - rw(bone, e_cut);
    double in_water = 0;
    for (int k = 0; k < 4; ++k) in_water += sc.voxel_mev[k];
    std::printf("interface E0 %.0f MeV: enters bone at %.6f MeV (tables %.6f), path %.6f g/cm^2 "
                "(tables %.6f)\n", e0, e0 - in_water, e1, r.path_g_cm2, 1.0 + bone_path_g);
    CHECK(r.fate == ChargedFate::absorbed);
    CHECK(e0 - in_water == Approx(e1).epsilon(1e-9));
    CHECK(r.path_g_cm2 == Approx(1.0 + bone_path_g).epsilon(1e-9));
    CHECK(r.path_cm == Approx(1.0 + bone_path_g / double(float(rho_b))).epsilon(1e-6));
  }
}
