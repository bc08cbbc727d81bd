// Dose to water (engine/dose_to_water.hh): the water-to-medium stopping-power ratios of the
// conversion against published values.
//
// Reference: Siebers, Keall, Nahum and Mohan, Phys. Med. Biol. 45 (2000) 983-995, the
// Bragg-Gray s_w,m for 6 MV photons of ICRP cortical bone (1.85 g/cm3) and ICRU lung
// (0.26 g/cm3), the two materials of sabre's table set with the same compositions and
// densities. Their values as transcribed in the DICOMRT toolbox (E. Spezi, 2002,
// dicomrt_doseconversion.m, "based on ... Siebers et al 2000"): a table (bone 1.114, lung
// 0.995, ICRU soft tissue 1.010) and a fit against nominal energy (at 6 MV: bone 1.1159,
// lung 0.9991; at 18 MV: bone 1.1102, lung 0.9884). The table of the paper itself could not
// be read in this session; the test takes the fit at 6 MV and holds sabre within 1 %
// (the acceptance of issue 19), and also within 1 % of the table values.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>

#include "beams/machine.hh"
#include "core/errors.hh"
#include "beams/spectrum.hh"
#include "engine/dose_to_water.hh"
#include "tests/support/evidence.hh"
#include "tests/support/skip.hh"
#include "tests/support/transport_fixtures.hh"

using namespace sabre;

namespace {

void centres_and_weights(const beams::Spectrum& s, std::vector<double>& e, std::vector<double>& w) {
  e.clear();
  w.clear();
  for (std::size_t i = 0; i < s.probability.size(); ++i) {
    e.push_back(0.5 * (s.edges_lo_mev[i] + s.edges_hi_mev[i]));
    w.push_back(s.probability[i]);
  }
}

}  // namespace

TEST_CASE("water-to-medium stopping-power ratios against Siebers et al. 2000 (6 MV)", "[dose_to_water][acceptance]") {
  const phys::MaterialTables* t = test::shipped_tables();
  if (!t) {
    test::skip("no shipped table set");
    return;
  }
  SABRE_REQUIRE_SHARED();
  const beams::Spectrum mohan = beams::load_spectrum(
      test::shared_dir() + "/data/reference/egsnrc/R1-water-6MV-10x10/mohan6_spectrum_as_sampled.csv");
  std::vector<double> e, w;
  centres_and_weights(mohan, e, w);
  const double water = water_to_medium_stopping_power_ratio(*t, t->index("water"), e, w);
  CHECK(water == 1.0);
  struct Row {
    const char* material;
    double fit_6mv, table;
  };
  for (const Row& r : {Row{"bone_cortical", 1.1159, 1.114}, Row{"lung", 0.9991, 0.995}}) {
    const double s = water_to_medium_stopping_power_ratio(*t, t->index(r.material), e, w);
    const double d = s / r.fit_6mv - 1;
    std::printf("  s_w,m %-13s (Mohan 6 MV): %.4f, Siebers et al. 6 MV %.4f (fit) %+.2f %%, %.3f (table) %+.2f %%\n",
                r.material, s, r.fit_6mv, 100 * d, r.table, 100 * (s / r.table - 1));
    CHECK(std::fabs(d) <= 0.01);
    CHECK(std::fabs(s / r.table - 1) <= 0.01);
    test::Evidence ev;
    ev.id = std::string("dose-to-water/") + r.material + "-6MV";
    ev.quantity = std::string("water-to-medium stopping-power ratio s_w,m, ") + r.material + ", 6 MV (Mohan)";
    ev.kind = "independent";
    ev.reference_source = "Siebers et al., Phys. Med. Biol. 45 (2000) 983, 6 MV (fit as transcribed by the DICOMRT toolbox)";
    ev.reference = r.fit_6mv;
    ev.value = s;
    ev.difference = d;
    ev.tolerance = 0.01;
    ev.unit = "relative";
    ev.pass = std::fabs(d) <= 0.01;
    test::record(ev);
  }
  // Soft tissue: sabre's is ICRP soft tissue, Siebers' ICRU four-component tissue; printed.
  std::printf("  s_w,m soft_tissue (ICRP) %.4f, muscle (ICRU) %.4f, adipose %.4f, air %.4f\n",
              water_to_medium_stopping_power_ratio(*t, t->index("soft_tissue"), e, w),
              water_to_medium_stopping_power_ratio(*t, t->index("muscle"), e, w),
              water_to_medium_stopping_power_ratio(*t, t->index("adipose"), e, w),
              water_to_medium_stopping_power_ratio(*t, t->index("air"), e, w));
}

TEST_CASE("water-to-medium ratios move little with the beam (6X-FFF, 10X-FFF against Mohan 6 MV)", "[dose_to_water]") {
  const phys::MaterialTables* t = test::shipped_tables();
  if (!t) {
    test::skip("no shipped table set");
    return;
  }
  const beams::Machine m = beams::load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml");
  for (const auto& b : m.beams) {
    const double bone = water_to_medium_stopping_power_ratio(*t, t->index("bone_cortical"), b.spectrum_energies_mev,
                                                             b.spectrum_weights);
    const double lung = water_to_medium_stopping_power_ratio(*t, t->index("lung"), b.spectrum_energies_mev,
                                                             b.spectrum_weights);
    std::printf("  %s: s_w,m bone %.4f, lung %.4f\n", b.name.c_str(), bone, lung);
    // Siebers et al.: 1.116 -> 1.110 (bone) and 0.999 -> 0.988 (lung) from 6 to 18 MV.
    CHECK(bone == Approx(1.116).epsilon(0.015));
    CHECK(lung == Approx(0.995).epsilon(0.015));
  }
}

TEST_CASE("dose to water: a table set without water and a beam without a spectrum are refused", "[dose_to_water]") {
  const phys::MaterialTables* t = test::shipped_tables();
  if (!t) {
    test::skip("no shipped table set");
    return;
  }
  CHECK_THROWS_AS(water_to_medium_stopping_power_ratio(*t, t->index("lung"), {}, {}), InputError);
  const auto f = water_to_medium_factors(*t, {"water", "lung", "bone_cortical"}, {1.0, 2.0}, {0.5, 0.5});
  REQUIRE(f.size() == 3);
  CHECK(f[0] == 1.0);
  CHECK(f[1] < f[2]);
}
