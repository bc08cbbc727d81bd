// kernels/params_relocation.hh: the deep copy of the transport data that the CUDA back end
// makes into device memory, checked on the CPU with a copier that allocates new host
// storage. Two checks per source type:
//   1. no pointer in the relocated structs still points at memory that the copier did not
//      allocate (a forgotten array would alias the original: on a GPU that is a host
//      pointer read by the kernel). The check scans every 8-byte word of the relocated
//      structs (and of the relocated beam-view array) for values that are addresses
//      mapped in this process (/proc/self/maps) - so it needs no list of the pointer
//      members and catches one that relocate() does not know about;
//   2. transport through the relocated copy gives the same fixed-point energy per voxel,
//      bit for bit, as through the original (the same arrays, same values, same sizes).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "beams/delivery_build.hh"
#include "beams/phsp_source.hh"
#include "beams/plan_builder.hh"
#include "beams/plan_source.hh"
#include "beams/source_kinds.hh"
#include "core/build_info.hh"
#include "kernels/charged_policy.hh"
#include "kernels/params_relocation.hh"
#include "kernels/transport.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/phantom_derived.hh"
#include "tests/support/skip.hh"
#include "tests/support/transport_fixtures.hh"

using namespace sabre;

// Under AddressSanitizer the scan cannot tell: its heap sits at 0x6xxxxxxxxxxx, where an
// int32 next to 4 bytes of uninitialised padding (its high half) reads as a heap address.
// There the no-stray checks are skipped; the same-dose-bits checks and the scan's own test
// (it must find a pointer left in place) still run. The normal build runs all of them.
#if defined(__SANITIZE_ADDRESS__)
#define CHECK_NO_STRAYS(scan) (void)(scan)
#else
#define CHECK_NO_STRAYS(scan) CHECK((scan).strays.empty())
#endif

namespace {

using sabre::test::shipped_tables;

// Copies into fresh heap blocks and remembers where they are.
struct HostArenaCopier {
  std::vector<std::unique_ptr<unsigned char[]>> blocks;
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;  // [begin, end)
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> sources;
  template <class T>
  const T* copy(const T* src, std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    blocks.push_back(std::make_unique<unsigned char[]>(bytes));
    unsigned char* dst = blocks.back().get();
    std::memcpy(dst, src, bytes);
    ranges.push_back({std::uintptr_t(dst), std::uintptr_t(dst) + bytes});
    sources.push_back({std::uintptr_t(src), std::uintptr_t(src) + bytes});
    return reinterpret_cast<const T*>(dst);
  }
  bool owns(std::uintptr_t p) const {
    for (const auto& [a, b] : ranges)
      if (p >= a && p < b) return true;
    return false;
  }
};

// Address ranges mapped and accessible in this process (empty when /proc/self/maps is
// unreadable). Inaccessible mappings (---p) and huge reservations (> 64 GiB: a sanitizer's
// shadow memory spans terabytes, and would make any large integer look like an address) are
// left out: no array the transport reads lives there.
std::vector<std::pair<std::uintptr_t, std::uintptr_t>> mapped_ranges() {
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> out;
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string range, perms;
    ss >> range >> perms;
    const auto dash = range.find('-');
    if (dash == std::string::npos || perms.rfind("---", 0) == 0) continue;
    const std::uintptr_t a = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uintptr_t b = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (b - a > (std::uintptr_t(64) << 30)) continue;
    out.push_back({a, b});
  }
  return out;
}

struct PointerScan {
  int moved = 0;                     // words pointing into the copier's blocks
  std::vector<std::size_t> strays;   // byte offsets of words pointing elsewhere
};

// Every aligned 8-byte word of `obj` that is an address mapped in this process must point
// into the copier's blocks.
PointerScan scan_pointers(const void* obj, std::size_t bytes, const HostArenaCopier& c) {
  const auto maps = mapped_ranges();  // now: a sanitizer maps heap regions as they are needed
  PointerScan s;
  for (std::size_t off = 0; off + sizeof(std::uintptr_t) <= bytes; off += sizeof(std::uintptr_t)) {
    std::uintptr_t w;
    std::memcpy(&w, static_cast<const unsigned char*>(obj) + off, sizeof w);
    if (w == 0) continue;
    if (c.owns(w)) {
      ++s.moved;
      continue;
    }
    // An array pointer is at least 4-byte aligned (allocations and element boundaries of the
    // arrays the transport reads): an unaligned word is data (under ASan, whose heap sits at
    // 0x6xxxxxxxxxxx, a pair of int32 such as {11, 24704} reads as 0x60800000000b).
    if (w % 4 != 0) continue;
    for (const auto& [a, b] : maps)
      if (w >= a && w < b) {
        s.strays.push_back(off);
        break;
      }
  }
  return s;
}

// A 20 cm cube centred on the origin: water with a bone slab and a lung slab along y (the
// direction of a gantry-0 beam), 2 cm voxels.
struct CubePhantom {
  std::vector<std::int32_t> mat;
  std::vector<float> rho;
  phys::PhantomDerivedStorage derived;
  std::vector<double> pair_z;
  phys::TransportParams tp;
  explicit CubePhantom(const phys::MaterialTables& t) {
    phys::GridGeometry g;
    g.origin_cm = {-10, -10, -10};
    g.spacing_cm = {2, 2, 2};
    g.nx = g.ny = g.nz = 10;
    mat.resize(g.size());
    rho.resize(g.size());
    for (int k = 0; k < g.nz; ++k)
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          int m = t.index("water");
          float r = 1.0f;
          if (j == 3) m = t.index("bone_cortical"), r = 1.85f;
          if (j == 5 || j == 6) m = t.index("lung"), r = 0.26f;
          mat[g.index(i, j, k)] = m;
          rho[g.index(i, j, k)] = r;
        }
    tp.phantom.grid = g;
    tp.phantom.material = mat.data();
    tp.phantom.density_g_cm3 = rho.data();
    tp.phantom.max_density_g_cm3 = 1.85f;
    tp.materials = t.data();
    phys::use_phantom_derived_data(tp, derived);  // majorant, far-step arrays, blocks
    pair_z.assign(std::size_t(t.n_materials()), 7.42);  // exercises the optional array
    tp.pair_z_eff = pair_z.data();
  }
  CubePhantom(const CubePhantom&) = delete;
};

// Fixed-point energy per voxel of histories [0, n) through (tp, source).
template <class Source>
std::vector<std::int64_t> dose_fp(const phys::TransportParams& tp, const Source& source, int n,
                                  kernels::EnergyBalance* balance = nullptr) {
  std::vector<std::int64_t> e(std::size_t(tp.phantom.grid.size()), 0);
  kernels::HostScorer sc;
  sc.energy_fp = e.data();
  auto stack = std::make_unique<kernels::HostStack>();
  kernels::transport_range_host<kernels::ProductionCharged>(tp, source, 2024, 0, std::uint64_t(n),
                                                            sc, *stack);
  if (balance) *balance = sc.balance;
  return e;
}

std::int64_t total(const std::vector<std::int64_t>& v) {
  std::int64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

#define REQUIRE_PHYSICS()                                                          \
  do {                                                                             \
    SABRE_REQUIRE_TRANSPORT_PHYSICS();                                             \
    if (mapped_ranges().empty()) {                                                 \
      sabre::test::skip("/proc/self/maps unreadable: cannot scan for stray pointers"); \
      return;                                                                      \
    }                                                                              \
  } while (0)

// A 6 x 6 cm field along +y onto the cube's face y = -10 (the caller sets energy and position).
beams::SimpleSource field_along_y(beams::SourceShape shape) {
  beams::SimpleSource src;
  src.shape = shape;
  src.axis = {0, 1, 0};
  src.field_centre_cm = {0, -10, 0};
  src.u_dir = {1, 0, 0};
  src.v_dir = {0, 0, 1};
  src.u_min_cm = src.v_min_cm = -3;
  src.u_max_cm = src.v_max_cm = 3;
  return src;
}

beams::Machine hd120() {
  return beams::load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml");
}

// Two beams: a static 4 x 6 cm field at gantry 0 and a 90-degree arc with a modulated MLC
// (several control points), so every delivery array has content.
beams::Plan two_beam_plan(const beams::Machine& m) {
  beams::FieldSpec f = beams::field_for(m, m.beams.at(0));
  f.x1_mm = -20;
  f.x2_mm = 20;
  f.y1_mm = -30;
  f.y2_mm = 30;
  f.jaw_margin_mm = 5;
  beams::Plan plan;
  plan.beams.push_back(beams::make_static_beam(f, 1, "static"));
  plan.beams.push_back(beams::make_arc_beam(f, 300, 30, "CW", 7, 0.4, 2, "arc"));
  return plan;
}

}  // namespace

TEST_CASE("relocation: TransportParams and SimpleSource move every array, same dose bits",
          "[kernels][relocation]") {
  REQUIRE_PHYSICS();
  const CubePhantom ph(*shipped_tables());
  const std::vector<double> edges{0.1, 0.5, 1.0, 2.0, 6.0}, cdf{0, 0.2, 0.5, 0.8, 1.0};
  beams::SimpleSource src = field_along_y(beams::SourceShape::point);
  src.position_cm = {0, -100, 0};
  src.spectrum.n_bins = 4;
  src.spectrum.edges_mev = edges.data();
  src.spectrum.cdf = cdf.data();

  HostArenaCopier c;
  const phys::TransportParams tp = kernels::relocate(ph.tp, c);
  const beams::SimpleSource rs = std::get<beams::SimpleSource>(kernels::relocate(beams::SourceView(src), c));

  const PointerScan s_tp = scan_pointers(&tp, sizeof tp, c);
  const PointerScan s_src = scan_pointers(&rs, sizeof rs, c);
  for (auto off : s_tp.strays) UNSCOPED_INFO("TransportParams: stray pointer at byte " << off);
  for (auto off : s_src.strays) UNSCOPED_INFO("SimpleSource: stray pointer at byte " << off);
  CHECK_NO_STRAYS(s_tp);
  CHECK_NO_STRAYS(s_src);
  // phantom 2 + pair_z 1 + majorant 1 + photon 5 + total 1 + charged 2 x 13 + alias >= 2 x 2
  // + blocks 2 (densities, M)
  CHECK(s_tp.moved >= 2 + 1 + 1 + 5 + 1 + 26 + 4 + 2);
  CHECK(s_src.moved == 2);
  // The original still points at its own arrays (relocation copies, never patches in place).
  CHECK(ph.tp.phantom.material == ph.mat.data());
  // The copies hold the values.
  CHECK(std::memcmp(tp.phantom.density_g_cm3, ph.rho.data(), ph.rho.size() * sizeof(float)) == 0);
  // The photons' per-block bound (the cube's lung and water blocks are below its bone): moved.
  REQUIRE(ph.tp.phantom.block_max_density_g_cm3 != nullptr);
  CHECK(tp.phantom.block_max_density_g_cm3 != ph.tp.phantom.block_max_density_g_cm3);
  CHECK(std::memcmp(tp.phantom.block_max_density_g_cm3, ph.derived.blocks.max_density.data(),
                    ph.derived.blocks.max_density.size() * sizeof(float)) == 0);
  CHECK(tp.materials.photon.block_majorant_mu_rho.values != ph.tp.materials.photon.block_majorant_mu_rho.values);

  kernels::EnergyBalance b0, b1;
  const auto e0 = dose_fp(ph.tp, src, 3000, &b0);
  const auto e1 = dose_fp(tp, rs, 3000, &b1);
  CHECK(total(e0) > 0);
  CHECK(e0 == e1);
  CHECK(b0.deposited_mev == b1.deposited_mev);
  CHECK(b0.escaped_mev == b1.escaped_mev);
}

TEST_CASE("relocation: LinacSourceView (delivery, VSM, collimator) moves every array",
          "[kernels][relocation][linac]") {
  REQUIRE_PHYSICS();
  const CubePhantom ph(*shipped_tables());
  const beams::Machine m = hd120();
  const beams::BeamModel& bm = *m.find_beam(6, true);
  const beams::Plan plan = two_beam_plan(m);
  const beams::PlanSource lin(m, bm, plan);
  const beams::LinacSourceView& v = std::get<beams::LinacSourceView>(lin.view());
  REQUIRE(v.delivery.n_beams == 2);
  REQUIRE(v.delivery.beams[1].n_cp == 7);
  REQUIRE(v.delivery.beams[0].n_values > 120);
  REQUIRE(v.collimator.devices[v.collimator.mlc_on_axis[0]].mlc.n_pairs > 0);
  REQUIRE(v.vsm.n_bins > 0);
  REQUIRE(v.vsm.n_fluence > 0);

  HostArenaCopier c;
  const phys::TransportParams tp = kernels::relocate(ph.tp, c);
  const beams::LinacSourceView rv = v.relocated(c);

  const PointerScan s = scan_pointers(&rv, sizeof rv, c);
  for (auto off : s.strays) UNSCOPED_INFO("LinacSourceView: stray pointer at byte " << off);
  CHECK_NO_STRAYS(s);
  // beams, beam_cdf, VSM edges/cdf/fluence r/rel, MLC boundaries
  CHECK(s.moved == 2 + 4 + 1);
  // The beam views themselves (in the copy) point only into the copy: 7 arrays each (6
  // angle / meterset arrays and the device positions).
  for (int b = 0; b < rv.delivery.n_beams; ++b) {
    const PointerScan sb = scan_pointers(&rv.delivery.beams[b], sizeof(beams::BeamDeliveryView), c);
    for (auto off : sb.strays) UNSCOPED_INFO("beam " << b << ": stray pointer at byte " << off);
    CHECK_NO_STRAYS(sb);
    CHECK(sb.moved == 7);
    CHECK(rv.delivery.beams[b].n_cp == v.delivery.beams[b].n_cp);
  }

  kernels::EnergyBalance b0, b1;
  const auto e0 = dose_fp(ph.tp, v, 3000, &b0);
  const auto e1 = dose_fp(tp, rv, 3000, &b1);
  CHECK(total(e0) > 0);
  CHECK(e0 == e1);
  CHECK(b0.emitted_mev == b1.emitted_mev);
}

TEST_CASE("relocation: PhspSourceView (particles, delivery, collimator) moves every array",
          "[kernels][relocation][phsp]") {
  REQUIRE_PHYSICS();
  const CubePhantom ph(*shipped_tables());
  const beams::Machine m = hd120();
  const beams::Plan plan = two_beam_plan(m);
  const beams::Delivery d(m, plan);
  // A small synthetic phase space in the plane 26.7 cm below the target: photons and a few
  // electrons aimed at points of a 6 x 6 cm square at the isocentre.
  std::vector<beams::PhspParticle> parts;
  phys::Rng rng(7, 0, phys::kStreamTest);
  for (int i = 0; i < 500; ++i) {
    const double xi = -3 + 6 * rng.uniform(), yi = -3 + 6 * rng.uniform();
    const double n = std::sqrt(xi * xi + yi * yi + 1e4);
    beams::PhspParticle p{};
    p.x_cm = float(xi * 0.267);
    p.y_cm = float(yi * 0.267);
    p.z_cm = 26.7f;
    p.u = float(xi / n);
    p.v = float(yi / n);
    p.w = float(100 / n);
    p.energy_mev = float(0.2 + 5.8 * rng.uniform());
    p.weight = 1;
    p.type = std::int32_t(i % 50 == 0 ? phys::ParticleType::electron : phys::ParticleType::photon);
    parts.push_back(p);
  }
  beams::PhspSourceView v;
  v.n = std::int64_t(parts.size());
  v.particles = parts.data();
  v.delivery = d.view();
  v.collimator = beams::make_collimator_stack(m, d.boundaries_cm());
  REQUIRE(v.collimator.devices[v.collimator.mlc_on_axis[0]].mlc.n_pairs > 0);

  HostArenaCopier c;
  const phys::TransportParams tp = kernels::relocate(ph.tp, c);
  const beams::PhspSourceView rv = std::get<beams::PhspSourceView>(kernels::relocate(beams::SourceView(v), c));
  const PointerScan s = scan_pointers(&rv, sizeof rv, c);
  for (auto off : s.strays) UNSCOPED_INFO("PhspSourceView: stray pointer at byte " << off);
  CHECK_NO_STRAYS(s);
  CHECK(s.moved == 1 + 2 + 1);  // particles, beams + beam_cdf, MLC boundaries
  for (int b = 0; b < rv.delivery.n_beams; ++b) {
    const PointerScan sb = scan_pointers(&rv.delivery.beams[b], sizeof(beams::BeamDeliveryView), c);
    CHECK_NO_STRAYS(sb);
    CHECK(sb.moved == 7);
  }

  const auto e0 = dose_fp(ph.tp, v, 3000);
  const auto e1 = dose_fp(tp, rv, 3000);
  CHECK(total(e0) > 0);
  CHECK(e0 == e1);
}

TEST_CASE("relocation: a non-uniform grid's planes move, same dose bits", "[kernels][relocation]") {
  REQUIRE_PHYSICS();
  const CubePhantom ph(*shipped_tables());
  phys::TransportParams host = ph.tp;
  const double xe[11] = {-10, -9, -7, -4, -2, 0, 1, 2, 5, 8, 10};
  const double ze[11] = {-10, -8.5, -7, -5, -3, -1, 0, 2, 4, 7, 10};
  host.phantom.grid.edges_cm[0] = xe;
  host.phantom.grid.edges_cm[2] = ze;
  beams::SimpleSource src = field_along_y(beams::SourceShape::parallel);
  src.mono_energy_mev = 2.0;

  HostArenaCopier c;
  const phys::TransportParams tp = kernels::relocate(host, c);
  const PointerScan s_tp = scan_pointers(&tp, sizeof tp, c);
  for (auto off : s_tp.strays) UNSCOPED_INFO("TransportParams: stray pointer at byte " << off);
  CHECK_NO_STRAYS(s_tp);
  CHECK(tp.phantom.grid.edges_cm[0] != xe);
  CHECK(tp.phantom.grid.edges_cm[1] == nullptr);
  CHECK(std::memcmp(tp.phantom.grid.edges_cm[2], ze, sizeof ze) == 0);
  const auto e0 = dose_fp(host, src, 2000);
  const auto e1 = dose_fp(tp, src, 2000);
  CHECK(total(e0) > 0);
  CHECK(e0 == e1);
}

TEST_CASE("relocation: the pointer scan itself finds a pointer that was not moved",
          "[kernels][relocation]") {
  // The check above is only as good as the scan: a view whose array was left in place
  // must be reported.
  REQUIRE_PHYSICS();
  const std::vector<double> edges{0.1, 1.0, 2.0}, cdf{0, 0.5, 1.0};
  beams::SimpleSource src;
  src.spectrum.n_bins = 2;
  src.spectrum.edges_mev = edges.data();
  src.spectrum.cdf = cdf.data();
  HostArenaCopier c;
  beams::SimpleSource rs = src.relocated(c);
  rs.spectrum.cdf = cdf.data();  // as if relocated() had forgotten this array
  const PointerScan s = scan_pointers(&rs, sizeof rs, c);
  CHECK(s.moved == 1);
  REQUIRE(s.strays.size() == 1);
  CHECK(s.strays[0] == offsetof(beams::SimpleSource, spectrum) + offsetof(beams::SpectrumView, cdf));
}
