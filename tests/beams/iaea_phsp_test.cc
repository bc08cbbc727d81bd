// IAEA phase space: writer -> reader particle for particle; malformed headers and records
// fail clearly (acceptance 6).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "beams/iaea_phsp.hh"
#include "core/errors.hh"
#include "physics/core/rng.hh"

using namespace sabre;
using namespace sabre::beams;

namespace {

std::string tmp_base(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sabre_iaea_" + name)).string();
}

void remove_pair(const std::string& base) {
  std::remove((base + ".IAEAheader").c_str());
  std::remove((base + ".IAEAphsp").c_str());
}

// A deterministic set of records: mixed particles, new-history marks, w of both signs.
std::vector<PhspRecord> make_records(int n, bool with_extras) {
  phys::Rng rng(42, 0, phys::kStreamTest);
  std::vector<PhspRecord> v;
  for (int i = 0; i < n; ++i) {
    PhspRecord r;
    r.type = i % 7 == 3 ? IaeaParticle::electron : i % 11 == 5 ? IaeaParticle::positron : IaeaParticle::photon;
    r.new_history = i % 3 == 0;
    r.energy_mev = 0.01 + 6 * rng.uniform();
    r.x_cm = 10 * (rng.uniform() - 0.5);
    r.y_cm = 10 * (rng.uniform() - 0.5);
    r.z_cm = 26.7;
    const double ct = 2 * rng.uniform() - 1, phi = 6.283185307 * rng.uniform(), st = std::sqrt(1 - ct * ct);
    r.u = st * std::cos(phi);
    r.v = st * std::sin(phi);
    r.w = ct;
    r.weight = 0.5 + rng.uniform();
    if (with_extras) {
      r.extra_floats = {float(i) * 0.5f};
      r.extra_longs = {r.new_history ? 1 : 0};
    }
    v.push_back(r);
  }
  return v;
}

IaeaHeader layout(bool little, bool extras) {
  IaeaHeader h;
  h.title = "sabre test";
  h.stored = {true, true, false, true, true, false, true};  // z constant
  h.constant[kVarZ] = 26.7;
  h.little_endian = little;
  if (extras) {
    h.extra_float_types = {0};
    h.extra_long_types = {1};
  }
  return h;
}

void write_all(const std::string& base, const std::vector<PhspRecord>& recs, const IaeaHeader& h) {
  IaeaWriter w(base, h);
  for (const auto& r : recs) w.write(r);
  w.finish(1000);
}

std::string read_text(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_text(const std::string& p, const std::string& s) { std::ofstream(p) << s; }

std::string error_of(const std::string& base) {
  try {
    IaeaReader rd(base);
    PhspRecord r;
    while (rd.next(r)) {
    }
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("IAEA phase space round trip, particle for particle", "[iaea]") {
  for (bool little : {true, false})
    for (bool extras : {false, true}) {
      const std::string base = tmp_base(std::string("rt_") + (little ? "le" : "be") + (extras ? "_x" : ""));
      const auto recs = make_records(500, extras);
      write_all(base, recs, layout(little, extras));
      IaeaReader rd(base + ".IAEAheader");
      const auto& h = rd.header();
      CHECK(h.particles == 500);
      CHECK(h.orig_histories == 1000);
      CHECK(h.record_length == 1 + 4 + 4 * 5 + (extras ? 8 : 0));  // type, E, x y u v wt
      CHECK(h.photons + h.electrons + h.positrons == 500);
      PhspRecord r;
      std::size_t i = 0;
      while (rd.next(r)) {
        REQUIRE(i < recs.size());
        const auto& e = recs[i];
        INFO("record " << i);
        CHECK(r.type == e.type);
        CHECK(r.new_history == e.new_history);
        // float32 storage: relative 2^-24 ~ 6e-8
        CHECK(r.energy_mev == Approx(e.energy_mev).epsilon(1e-7));
        CHECK(r.x_cm == Approx(e.x_cm).epsilon(1e-7).margin(1e-6));
        CHECK(r.y_cm == Approx(e.y_cm).epsilon(1e-7).margin(1e-6));
        CHECK(r.z_cm == Approx(26.7));  // constant from the header
        CHECK(r.u == Approx(e.u).margin(1e-7));
        CHECK(r.v == Approx(e.v).margin(1e-7));
        CHECK(r.w == Approx(e.w).margin(1e-3));  // recomputed from u, v: sign exact, value to float rounding
        CHECK((r.w < 0) == (e.w < 0));
        CHECK(r.weight == Approx(e.weight).epsilon(1e-7));
        if (extras) {
          CHECK(r.extra_floats == e.extra_floats);
          CHECK(r.extra_longs == e.extra_longs);
        }
        ++i;
      }
      CHECK(i == recs.size());
      remove_pair(base);
    }
}

TEST_CASE("a writer that does not finish leaves no files", "[iaea]") {
  const std::string base = tmp_base("unfinished");
  {
    IaeaWriter w(base, layout(true, false));
    for (const auto& r : make_records(10, false)) w.write(r);
  }
  CHECK_FALSE(std::filesystem::exists(base + ".IAEAphsp"));
  CHECK_FALSE(std::filesystem::exists(base + ".IAEAheader"));
}

TEST_CASE("malformed IAEA headers and records fail clearly", "[iaea]") {
  const std::string base = tmp_base("bad");
  const auto recs = make_records(20, false);
  auto fresh = [&] { write_all(base, recs, layout(true, false)); };
  const std::string hp = base + ".IAEAheader", pp = base + ".IAEAphsp";
  auto edit_header = [&](const std::string& from, const std::string& to) {
    fresh();
    std::string s = read_text(hp);
    const auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    write_text(hp, s.replace(pos, from.size(), to));
  };

  edit_header("$RECORD_LENGTH:\n25", "$RECORD_LENGTH:\n29");
  CHECK_THAT(error_of(base), Catch::StartsWith(hp) && Catch::Contains("$RECORD_LENGTH 29 does not match"));

  edit_header("$CHECKSUM:\n500", "$CHECKSUM:\n499");
  CHECK_THAT(error_of(base), Catch::StartsWith(hp) && Catch::Contains("$CHECKSUM"));

  edit_header("$BYTE_ORDER:\n1234", "$BYTE_ORDER:\n2143");
  CHECK_THAT(error_of(base), Catch::Contains("$BYTE_ORDER '2143' is not supported"));

  edit_header("$PARTICLES:\n20\n", "");
  CHECK_THAT(error_of(base), Catch::Contains("missing $PARTICLES: block"));

  edit_header("$RECORD_CONSTANT:\n26.7", "$RECORD_CONSTANT:\nabc");
  CHECK_THAT(error_of(base), Catch::Contains("$RECORD_CONSTANT: 'abc' is not a finite number"));
  edit_header("$RECORD_CONSTANT:\n26.7", "$RECORD_CONSTANT:\nnan");  // before: NaN taken as read
  CHECK_THAT(error_of(base), Catch::Contains("$RECORD_CONSTANT: 'nan' is not a finite number"));

  edit_header("$RECORD_CONTENTS:\n1", "$RECORD_CONTENTS:\n7");
  CHECK_THAT(error_of(base), Catch::Contains("the X flag must be 0 or 1"));

  // Truncated data file: one record and a half missing.
  fresh();
  std::filesystem::resize_file(pp, 20 * 25 - 37);
  CHECK_THAT(error_of(base), Catch::StartsWith(pp) && Catch::Contains("truncated") &&
                                 Catch::Contains("the last record is incomplete"));

  // A corrupt record: particle type 9 in record 4.
  fresh();
  {
    std::fstream f(pp, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4 * 25);
    const char bad = 9;
    f.write(&bad, 1);
  }
  CHECK_THAT(error_of(base), Catch::StartsWith(pp) && Catch::Contains("record 4: particle type 9"));

  // Direction cosines out of range in record 2 (u = 0.9, v = 0.9).
  fresh();
  {
    std::fstream f(pp, std::ios::in | std::ios::out | std::ios::binary);
    const float big = 0.9f;
    f.seekp(2 * 25 + 1 + 4 + 8);  // type, E, x, y -> u
    f.write(reinterpret_cast<const char*>(&big), 4);
    f.write(reinterpret_cast<const char*>(&big), 4);
  }
  CHECK_THAT(error_of(base), Catch::Contains("record 2: direction cosines"));

  remove_pair(base);
  CHECK_THAT(error_of(base), Catch::Contains("no such file"));
}
