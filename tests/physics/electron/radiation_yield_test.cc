// Radiation yield of electrons in water with full class II physics, against ESTAR
// (acceptance 4, second part).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "physics/electron/condensed_history.hh"
#include "physics/transport/history.hh"
#include "tests/physics/electron/electron_test_support.hh"
#include "tests/support/evidence.hh"

using namespace sabre::phys;
namespace et = sabre::test::electron;

TEST_CASE("radiation yield in water within 5 % of ESTAR, 1-20 MeV", "[electron][yield]") {
  // Fraction of E0 radiated by the primary and all its delta rays, in a water block far
  // larger than the range: hard bremsstrahlung photons (k > W_cr = 10 keV; counted, not
  // transported) plus the radiative share of the continuous loss (soft photons k < W_cr,
  // ElectronOptions::tally_soft_radiative). The absorption cut is lowered to 20 keV so that
  // the radiation of electrons below the default 189 keV cut (5 % of the yield at 1 MeV) is
  // simulated; radiation below 20 keV of electron energy is missed (< 0.1 % of the yield).
  // Reference: ESTAR radiation yield, ../shared/data/reference/nist-water-electron.csv;
  // tolerance 5 % (acceptance 4).
  const MaterialTables* tab = et::tables();
  if (!tab || sabre::test::shared_dir().empty()) { sabre::test::skip("needs tables and ../shared"); return; }
  const int water = tab->index("water");
  MaterialData md = tab->data();
  md.cuts.electron_absorption_mev = 0.02;
  const int nz = 10;
  const et::LayeredPhantom ph(std::vector<double>(nz, 10.0), std::vector<int>(nz, water),
                              std::vector<double>(nz, 1.0), 1e4);
  TransportParams tp;
  tp.phantom = ph.view;
  tp.materials = md;
  ElectronOptions o;
  o.tally_radiative = true;
  // ESTAR yields (same file), rows 1, 5, 10, 20 MeV.
  const double e0s[4] = {1.0, 5.0, 10.0, 20.0};
  const double estar[4] = {3.579e-3, 1.911e-2, 4.072e-2, 8.355e-2};
  const int hist[4] = {40000, 10000, 5000, 3000};
  const ChargedData& cd = md.charged[kElectron];
  for (int c = 0; c < 4; ++c) {
    const double e0 = e0s[c];
    Rng rng(11, std::uint64_t(c), kStreamTest);
    et::LedgerScorer sc;
    FixedStack<256> st, secondaries;
    double sum_p = 0, sum_p2 = 0, sum = 0, sum2 = 0, tl_p = 0, tl_p2 = 0, tl = 0, tl2 = 0;
    for (int h = 0; h < hist[c]; ++h) {
      Particle p;
      p.type = ParticleType::electron;
      p.energy_mev = e0;
      p.pos_cm = {0, 0, 50};
      p.dir = {0, 0, 1};
      // The primary: its soft radiative loss and the photons it pushed.
      ChargedTrackResult r = transport_charged(tp, o, p, rng, sc, st);
      double prim = r.soft_radiative_mev;
      const double tl_prim = r.radiative_track_length_mev;
      double tl_rest = 0;
      Particle s;
      while (st.pop(s)) {
        if (s.type == ParticleType::photon) prim += s.energy_mev;
        else REQUIRE(secondaries.push(s));
      }
      // Its delta rays and theirs.
      double rest = 0;
      while (secondaries.pop(s)) {
        r = transport_charged(tp, o, s, rng, sc, st);
        rest += r.soft_radiative_mev;
        tl_rest += r.radiative_track_length_mev;
        Particle q;
        while (st.pop(q)) {
          if (q.type == ParticleType::photon) rest += q.energy_mev;
          else REQUIRE(secondaries.push(q));
        }
      }
      sum_p += prim;
      sum_p2 += prim * prim;
      tl_p += tl_prim;
      tl_p2 += tl_prim * tl_prim;
      tl += tl_prim + tl_rest;
      tl2 += (tl_prim + tl_rest) * (tl_prim + tl_rest);
      sum += prim + rest;
      sum2 += (prim + rest) * (prim + rest);
    }
    const int n = hist[c];
    const double y_p = sum_p / n / e0;
    const double se_p = std::sqrt((sum_p2 / n - (sum_p / n) * (sum_p / n)) / n) / e0;
    const double y = sum / n / e0;
    const double se = std::sqrt((sum2 / n - (sum / n) * (sum / n)) / n) / e0;
    const double yt_p = tl_p / n / e0;
    const double set_p = std::sqrt((tl_p2 / n - (tl_p / n) * (tl_p / n)) / n) / e0;
    const double yt = tl / n / e0;
    const double set = std::sqrt((tl2 / n - (tl / n) * (tl / n)) / n) / e0;
    // For the record: the CSDA yield from the tables' own stopping powers (from 20 keV)
    // and the soft (k < W_cr) share of it.
    double soft = 0, all = 0;
    for (int i = 0; i <= 2000; ++i) {
      const double e = 0.02 * std::pow(e0 / 0.02, i / 2000.0);
      const double wgt = (i == 0 || i == 2000 ? 0.5 : 1.0) * e / cd.dedx_total(water, e);
      soft += wgt * cd.dedx_radiative_restricted(water, e);
      all += wgt * cd.dedx_radiative(water, e);
    }
    const double y_tab = all * std::log(e0 / 0.02) / 2000 / e0;
    std::printf("radiation yield %4.1f MeV (ESTAR %.5f) track-length: primary %.5f +- %.5f "
                "(%+.2f %%), with delta rays %.5f +- %.5f (%+.2f %%); photon count: primary "
                "%.5f +- %.5f, with delta rays %.5f +- %.5f; soft k<Wcr share %.2f %%, tables' "
                "CSDA yield %.5f\n",
                e0, estar[c], yt_p, set_p, 100 * (yt_p / estar[c] - 1), yt, set,
                100 * (yt / estar[c] - 1), y_p, se_p, y, se, 100 * soft / all, y_tab);
    // Acceptance: ESTAR's yield is a CSDA quantity of the primary alone, so the
    // like-for-like number is the primary's; the total (delta rays radiate too, ~1 % more)
    // is held to the same 5 %. The track-length estimate carries the check (standard error
    // required < 0.5 %); the analog photon count must agree with it within 4 standard
    // errors (it is the same expectation: the photons sampled at the rate the step uses).
    {
      sabre::test::Evidence row;
      char buf[128];
      std::snprintf(buf, sizeof buf, "electron-csda/yield/%gMeV", e0);
      row.id = buf;
      std::snprintf(buf, sizeof buf, "radiation yield of the primary (track-length estimate), %g MeV electrons, water",
                    e0);
      row.quantity = buf;
      row.kind = "independent";
      row.reference_source = "ESTAR radiation yield (../shared/data/reference/nist-water-electron.csv)";
      row.reference = estar[c];
      row.value = yt_p;
      row.difference = yt_p / estar[c] - 1;
      row.sigma = set_p / estar[c];
      row.tolerance = 0.05;
      row.unit = "fraction of E0; difference relative";
      row.histories = n;
      row.pass = std::fabs(row.difference) <= 0.05 && set_p < 0.005 * estar[c];
      sabre::test::record(row);
    }
    CHECK(set_p < 0.005 * estar[c]);
    CHECK(yt_p == Approx(estar[c]).epsilon(0.05));
    CHECK(yt == Approx(estar[c]).epsilon(0.05));
    CHECK(std::fabs(y_p - yt_p) < 4 * std::sqrt(se_p * se_p + set_p * set_p));
    CHECK(std::fabs(y - yt) < 4 * std::sqrt(se * se + set * set));
  }
}
