// Acceptance 4 of issue 3: a bad material request fails with one clear InputError naming
// the problem; good requests resolve by alias, element and compound-file name.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/errors.hh"
#include "physics/tables/material_catalog.hh"
#include "physics/tables/table_builder.hh"
#include "tests/support/skip.hh"

using namespace sabre::phys::tables;

namespace {
// The message of the InputError thrown by f, or "" if none.
template <class F>
std::string input_error(F f) {
  try {
    f();
  } catch (const sabre::InputError& e) {
    return e.what();
  }
  return "";
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("user materials: parsed, or rejected with one clear message", "[tables][materials][acceptance]") {
  const MaterialSpec m = parse_user_material("mylung:0.30:75.3:H=0.103,C=0.105,N=0.031,O=0.761");
  CHECK(m.name == "mylung");
  CHECK(m.density_g_cm3 == 0.30);
  CHECK(m.i_ev == 75.3);
  REQUIRE(m.mass_fractions.size() == 4);
  CHECK(m.mass_fractions[0].first == 1);
  CHECK(m.delta.empty());  // Sternheimer-Peierls delta

  const std::string sum = input_error([] { parse_user_material("bad:1.0:75:H=0.1,O=0.8"); });
  CHECK(sum == "material 'bad': mass fractions sum to 0.9, not 1 (tolerance 1e-4)");
  const std::string el = input_error([] { parse_user_material("bad:1.0:75:H=0.1,Xx=0.9"); });
  CHECK(el == "material 'bad': unknown element 'Xx' (no element data)");
  CHECK(has(input_error([] { parse_user_material("bad:-1:75:H=1"); }), "density must be positive"));
  CHECK(has(input_error([] { parse_user_material("bad:1:0:H=1"); }), "mean excitation energy"));
  CHECK(has(input_error([] { parse_user_material("bad:1:75"); }), "expected NAME:DENSITY_G_CM3:I_EV"));
  CHECK(has(input_error([] { parse_user_material("bad:1:75:H=0.5,H=0.5"); }), "given twice"));
  CHECK(has(input_error([] { parse_user_material("bad:1:x:H=1"); }), "I-value 'x' is not a finite number"));
  // before: NaN and infinity were taken as read
  CHECK(has(input_error([] { parse_user_material("bad:nan:75:H=1"); }), "density 'nan' is not a finite number"));
  CHECK(has(input_error([] { parse_user_material("bad:1:inf:H=1"); }), "I-value 'inf' is not a finite number"));
  // within the 1e-4 tolerance is accepted
  CHECK_NOTHROW(parse_user_material("ok:1.0:75:H=0.11190,O=0.88815"));
}

TEST_CASE("element data outside Z = 1..100 is refused", "[tables][materials][acceptance]") {
  MaterialSpec m;
  m.name = "heavy";
  m.density_g_cm3 = 10;
  m.i_ev = 900;
  m.mass_fractions = {{101, 1.0}};
  CHECK(input_error([&] { validate_material(m); }) ==
        "material 'heavy': no element data for Z = 101 (the tables cover Z = 1..100)");
}

TEST_CASE("materials resolve by alias, element and compound file; unknown names fail", "[tables][materials][acceptance]") {
  SABRE_REQUIRE_SHARED();
  RawData raw(sabre::test::shared_dir() + "/data/physics");
  const MaterialSpec water = resolve_material(raw, "water");
  CHECK(water.definition == "compounds/water_liquid");
  CHECK(water.i_ev == 75.0);
  CHECK(water.density_g_cm3 == 1.0);
  CHECK(resolve_material(raw, "Water_Liquid").definition == "compounds/water_liquid");
  CHECK(resolve_material(raw, "W").name == "tungsten");
  CHECK(resolve_material(raw, "titanium").mass_fractions.at(0).first == 22);
  CHECK(resolve_material(raw, "adiposetissue_icrp").definition == "compounds/adiposetissue_icrp");

  const std::string unknown = input_error([&] { resolve_material(raw, "unobtainium"); });
  CHECK(has(unknown, "unknown material 'unobtainium'"));
  // a missing element data file: a source tree without element files
  const auto dir = std::filesystem::temp_directory_path() / "sabre_tables_missing_elements";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "photon");
  std::filesystem::create_directories(dir / "electron" / "density" / "elements");
  for (const char* f : {"xcom_photo.data", "xcom_compton.data", "xcom_pair.data", "xcom_triplet.data",
                        "xcom_rayleigh.data"})
    std::filesystem::copy_file(raw.source_dir() + "/photon/" + f, dir / "photon" / f);
  std::filesystem::copy_file(raw.source_dir() + "/electron/nist_brems.data", dir / "electron" / "nist_brems.data");
  RawData partial(dir.string());
  const std::string missing = input_error([&] { resolve_material(partial, "tungsten"); });
  CHECK(has(missing, "material 'tungsten': missing element data: no file"));
  CHECK(has(missing, "elements/tungsten.density"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("building a set with a bad material or cut fails before writing", "[tables][materials][acceptance]") {
  SABRE_REQUIRE_SHARED();
  BuildOptions o;
  o.source_dir = sabre::test::shared_dir() + "/data/physics";
  o.materials = {"water", "water"};
  CHECK(input_error([&] { build_tables(o); }) == "material 'water' requested twice");
  o.materials = {"water"};
  o.cuts.electron_production_mev = 0;
  CHECK(has(input_error([&] { build_tables(o); }), "outside the supported range"));
  o = BuildOptions{};
  o.source_dir = "/nonexistent/physics";
  CHECK(input_error([&] { build_tables(o); }) == "/nonexistent/physics: physics source directory not found");
}
