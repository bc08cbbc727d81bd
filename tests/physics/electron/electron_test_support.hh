// Shared by the electron tests: material tables, a uniform or layered phantom, and a
// scorer/stack that keep an exact energy ledger. Test-only.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "physics/tables/material_tables.hh"
#include "physics/tables/table_builder.hh"
#include "physics/electron/condensed_history.hh"
#include "physics/transport/history.hh"
#include "physics/transport/transport_params.hh"
#include "tests/support/skip.hh"

namespace sabre::test::electron {

// The physics tables the electron tests run on: the shipped physics/data/default.h5 when
// it exists (what production uses), else water, lung and cortical bone built in memory by
// the project's generator from ../shared/data/physics with the default cuts. Built once
// per process. Returns nullptr when neither is available (the caller skips).
inline const phys::MaterialTables* tables() {
  static std::unique_ptr<phys::MaterialTables> t = [] {
    std::unique_ptr<phys::MaterialTables> out;
    const std::string shipped = std::string(SABRE_SOURCE_DIR) + "/physics/data/default.h5";
    if (std::filesystem::exists(shipped)) {
      out = std::make_unique<phys::MaterialTables>(shipped);
      if (out->find("water") >= 0 && out->find("lung") >= 0 && out->find("bone_cortical") >= 0)
        return out;
    }
    if (shared_dir().empty()) return std::unique_ptr<phys::MaterialTables>();
    phys::tables::BuildOptions opt;
    opt.source_dir = shared_dir() + "/data/physics";
    opt.materials = {"water", "lung", "bone_cortical"};
    return std::make_unique<phys::MaterialTables>(phys::tables::build_tables(opt));
  }();
  return t.get();
}

// Mean and standard error of a per-history quantity.
struct Tally {
  double s = 0, s2 = 0;
  long n = 0;
  void add(double x) { s += x; s2 += x * x; ++n; }
  double mean() const { return s / n; }
  double se() const { return std::sqrt((s2 / n - mean() * mean()) / n); }
};

// A phantom of voxel layers along z; x and y one voxel each, `lateral_cm` wide (centred on
// 0), z from 0. Owns its arrays.
struct LayeredPhantom {
  std::vector<std::int32_t> material;
  std::vector<float> density;
  phys::PhantomView view;

  LayeredPhantom(const std::vector<double>& dz_cm, const std::vector<int>& mat,
                 const std::vector<double>& rho, double lateral_cm) {
    // Equal z spacing is what GridGeometry supports: dz_cm must all be equal.
    material.assign(mat.begin(), mat.end());
    density.assign(rho.begin(), rho.end());
    view.grid.origin_cm = {-0.5 * lateral_cm, -0.5 * lateral_cm, 0};
    view.grid.spacing_cm = {lateral_cm, lateral_cm, dz_cm.at(0)};
    view.grid.nx = 1;
    view.grid.ny = 1;
    view.grid.nz = static_cast<int>(mat.size());
    view.material = material.data();
    view.density_g_cm3 = density.data();
    float mx = 0;
    for (float d : density) mx = d > mx ? d : mx;
    view.max_density_g_cm3 = mx;
  }
};

// Scorer with an energy ledger (MeV) and per-voxel energy.
struct LedgerScorer {
  std::vector<double> voxel_mev;
  double deposited = 0, below = 0, escaped = 0, rest = 0;
  explicit LedgerScorer(std::size_t n = 0) : voxel_mev(n, 0.0) {}
  void deposit(std::int64_t v, double e) {
    deposited += e;
    if (!voxel_mev.empty()) voxel_mev[static_cast<std::size_t>(v)] += e;
  }
  void below_cut(std::int64_t v, double e) {
    below += e;
    if (!voxel_mev.empty()) voxel_mev[static_cast<std::size_t>(v)] += e;
  }
  void escape(double e) { escaped += e; }
  void rest_mass(double e) { rest += e; }
  void reset_ledger() { deposited = below = escaped = rest = 0; }
};

// The slab geometry of the Fano tests (fano_test.cc has the reasoning): layers of 0.1 R
// along z (R the restricted range, r_g_cm2): a buffer of R, 0.3 R scored (region 1), a slab
// of 0.5 R of mass at density `ratio` (region 2), 0.3 R scored, a buffer of R (region 0).
// `material(layer, region)` gives each layer's material.
struct FanoGeometry {
  std::vector<int> region;
  std::unique_ptr<LayeredPhantom> ph;
  std::vector<double> cum;  // cumulative mass per layer [g/cm^2]
  double dz = 0, mass_w = 0, mass_s = 0;
  template <class MaterialOf>
  FanoGeometry(double r_g_cm2, double ratio, MaterialOf material) {
    dz = r_g_cm2 / 10;
    const int n_buf = 10, n_w = 3;
    const int n_s = static_cast<int>(std::lround(5 / ratio));  // 0.5 R of slab mass
    std::vector<int> mat;
    std::vector<double> rho;
    auto add = [&](int count, double d, int reg) {
      for (int i = 0; i < count; ++i) {
        mat.push_back(material(static_cast<int>(mat.size()), reg));
        rho.push_back(d);
        region.push_back(reg);
      }
    };
    add(n_buf, 1.0, 0);
    add(n_w, 1.0, 1);
    add(n_s, ratio, 2);
    add(n_w, 1.0, 1);
    add(n_buf, 1.0, 0);
    const int nz = static_cast<int>(mat.size());
    ph = std::make_unique<LayeredPhantom>(std::vector<double>(nz, dz), mat, rho, 1e6);
    // Masses with the float densities the transport sees.
    cum.assign(nz + 1, 0.0);
    for (int k = 0; k < nz; ++k) {
      const double m = double(ph->density[k]) * dz;
      cum[k + 1] = cum[k] + m;
      if (region[k] == 1) mass_w += m;
      if (region[k] == 2) mass_s += m;
    }
  }
};

// One history of the Fano tests (fano_test.cc, fano_interface_test.cc): an electron of
// e0 born uniformly per unit mass in a layered phantom (`cum`: cumulative mass per layer
// [g/cm2], layers `dz` thick), isotropic; bremsstrahlung photons deposited where they are
// created (regeneration), delta rays transported. Random streams: source and transport of
// history h under `seed`.
template <class Scorer, class Stack>
void fano_history(const phys::TransportParams& tp, const phys::ElectronOptions& opt, const std::vector<double>& cum,
                  double dz, double e0, std::uint64_t seed, std::uint64_t h, Scorer& sc, Stack& st) {
  using namespace phys;
  Rng src(seed, h, kStreamSource);
  Rng rng(seed, h, kStreamTransport);
  // Layer by mass (binary search on cum), uniform position in it, isotropic direction.
  const int nz = static_cast<int>(cum.size()) - 1;
  const double u = src.uniform() * cum[nz];
  int lo = 0, hi = nz;
  while (hi - lo > 1) { const int mid = (lo + hi) / 2; if (cum[mid] <= u) lo = mid; else hi = mid; }
  Particle p;
  p.type = ParticleType::electron;
  p.energy_mev = e0;
  p.pos_cm = {0, 0, (lo + (u - cum[lo]) / (cum[lo + 1] - cum[lo])) * dz};
  p.dir = isotropic_direction(src);
  transport_charged(tp, opt, p, rng, sc, st);
  Particle q;
  while (st.pop(q)) {
    if (q.type == ParticleType::photon) {  // regeneration: deposit where created
      sc.deposit(voxel_clamped(tp.phantom.grid, q.pos_cm), q.energy_mev * q.weight);
      continue;
    }
    transport_charged(tp, opt, q, rng, sc, st);
  }
}

}  // namespace sabre::test::electron
