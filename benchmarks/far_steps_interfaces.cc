// far_steps_interfaces: how far electron steps (PhysicsSwitches::far_steps,
// physics/electron/condensed_history.hh step 1b) move energy between layers next to
// material interfaces, and what they save, without photons: electrons only, so that a
// 0.1 % effect shows in minutes. docs/efficiency.md, "The far steps at interfaces".
//
// Phantom: slabs along z, 0.1 cm layers (16 x 16 voxels of 0.25 cm across):
//   water 0-2 cm | lung (0.26 g/cm^3) 2-4 cm | cortical bone 4-5.5 cm | water 5.5-8 cm.
// Electrons start uniformly in mass (as photon interactions would put them), 0.5 cm around
// the axis, 0.1-3 MeV uniform, forward (cos theta uniform in [0.3, 1]); their own track only
// (delta rays and photons are dropped, the same in every variant).
//
// Every track is run in every variant from the same start and the same transport random
// numbers, so a variant's difference from the near steps (which share the random numbers
// until the first far step) is far less noisy than either dose; the difference from
// converged steps (G1 0.02, estepe unchanged) decorrelates at the first step and is noisier.
//
//   far_steps_interfaces [--tracks N] [--threads T] [--far-g1 1.0,0.3,...] [--converged]
//                        [--tables physics/data/default.h5]
// Prints per 0.2 cm group the energy of each variant minus the near steps' (and minus the
// converged steps' with --converged), in % of the near dose, with the paired 1 sigma; then
// steps per track and CPU seconds per variant.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "physics/core/rng.hh"
#include "physics/electron/condensed_history.hh"
#include "physics/tables/material_tables.hh"
#include "physics/transport/history.hh"
#include "physics/transport/step_safety.hh"
#include "physics/transport/transport_params.hh"

using namespace sabre::phys;

namespace {

constexpr int kLateral = 16, kLayers = 80;
constexpr int kGroup = 2, kGroups = kLayers / kGroup;  // results per 0.2 cm
constexpr double kLateralCm = 0.25, kLayerCm = 0.1;
constexpr double kLungFrom = 2.0, kBoneFrom = 4.0, kBoneTo = 5.5;  // [cm]; water elsewhere

struct Slabs {
  std::vector<std::int32_t> mat;
  std::vector<float> rho;
  std::vector<double> layer_rho, cum_mass;  // per layer; cumulative mass per unit area
  StepSafetyStorage safety;
  TransportParams tp;

  explicit Slabs(const MaterialTables& tab) {
    GridGeometry g;
    g.nx = g.ny = kLateral;
    g.nz = kLayers;
    g.spacing_cm = {kLateralCm, kLateralCm, kLayerCm};
    g.origin_cm = {-0.5 * kLateral * kLateralCm, -0.5 * kLateral * kLateralCm, 0};
    mat.resize(std::size_t(g.size()));
    rho.resize(std::size_t(g.size()));
    layer_rho.resize(kLayers);
    cum_mass.assign(kLayers + 1, 0.0);
    const int bone = tab.index("bone_cortical");
    for (int k = 0; k < kLayers; ++k) {
      const double z = (k + 0.5) * kLayerCm;
      int m = tab.index("water");
      double r = 1.0;
      if (z > kLungFrom && z < kBoneFrom) {
        m = tab.index("lung");
        r = 0.26;
      } else if (z > kBoneFrom && z < kBoneTo) {
        m = bone;
        r = tab.density_g_cm3(bone);
      }
      layer_rho[k] = r;
      cum_mass[k + 1] = cum_mass[k] + r * kLayerCm;
      for (int j = 0; j < kLateral; ++j)
        for (int i = 0; i < kLateral; ++i) {
          mat[std::size_t(g.index(i, j, k))] = m;
          rho[std::size_t(g.index(i, j, k))] = float(r);
        }
    }
    tp.phantom.grid = g;
    tp.phantom.material = mat.data();
    tp.phantom.density_g_cm3 = rho.data();
    tp.phantom.max_density_g_cm3 = *std::max_element(rho.begin(), rho.end());
    tp.materials = tab.data();
    use_step_safety(tp, material_density_range(tp), safety);
  }

  // One start, from its own stream (the same in every variant).
  Particle start(std::uint64_t track) const {
    Rng src(1000, track, kStreamSource);
    const double u = src.uniform() * cum_mass[kLayers];
    int k = 0;
    while (k < kLayers - 1 && cum_mass[k + 1] < u) ++k;
    Particle p;
    p.type = ParticleType::electron;
    p.pos_cm.z = (k + (u - cum_mass[k]) / (layer_rho[k] * kLayerCm)) * kLayerCm;
    p.energy_mev = 0.1 + 2.9 * src.uniform();
    p.pos_cm.x = src.uniform() - 0.5;
    p.pos_cm.y = src.uniform() - 0.5;
    const double mu = 0.3 + 0.7 * src.uniform();
    const double phi = 2 * M_PI * src.uniform();
    const double s = std::sqrt(1 - mu * mu);
    p.dir = {s * std::cos(phi), s * std::sin(phi), mu};
    return p;
  }
};

struct LayerScorer {
  const GridGeometry* g;
  double* e;  // per layer [MeV]
  void add(std::int64_t v, double x) {
    int i, j, k;
    g->indices(v, i, j, k);
    e[k] += x;
  }
  void deposit(std::int64_t v, double x) { add(v, x); }
  void below_cut(std::int64_t v, double x) { add(v, x); }
  void escape(double) {}
  void rest_mass(double) {}
};

// Per variant and 0.2 cm group: sum of E, of (E - E_near), its square, of (E - E_conv), its
// square (per track: the variance of a group's sum includes its layers' covariance).
struct Sums {
  int nv;
  std::vector<double> a;
  std::vector<double> cpu, steps;
  explicit Sums(int n) : nv(n), a(std::size_t(n) * kGroups * 5, 0.0), cpu(n, 0.0), steps(n, 0.0) {}
  double& at(int v, int k, int q) { return a[(std::size_t(v) * kGroups + k) * 5 + q]; }
  void merge(const Sums& o) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += o.a[i];
    for (int v = 0; v < nv; ++v) {
      cpu[v] += o.cpu[v];
      steps[v] += o.steps[v];
    }
  }
};

void run_tracks(const Slabs& s, const std::vector<ElectronOptions>& opts, int conv, long first, long n,
                Sums& out) {
  const int nv = int(opts.size());
  std::vector<double> e(std::size_t(nv) * kLayers);
  FixedStack<256> st;
  for (long t = first; t < first + n; ++t) {
    const Particle p0 = s.start(std::uint64_t(t));
    std::fill(e.begin(), e.end(), 0.0);
    for (int v = 0; v < nv; ++v) {
      Rng rng(7, std::uint64_t(t), kStreamTransport);
      LayerScorer sc{&s.tp.phantom.grid, &e[std::size_t(v) * kLayers]};
      st.clear();
      Particle p = p0;
      const auto t0 = std::chrono::steady_clock::now();
      out.steps[v] += transport_charged(s.tp, opts[std::size_t(v)], p, rng, sc, st).steps;
      out.cpu[v] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    auto group = [&](int v, int k) {
      double x = 0;
      for (int l = k * kGroup; l < (k + 1) * kGroup; ++l) x += e[std::size_t(v) * kLayers + l];
      return x;
    };
    for (int v = 0; v < nv; ++v)
      for (int k = 0; k < kGroups; ++k) {
        const double x = group(v, k);
        const double dn = x - group(0, k);
        out.at(v, k, 0) += x;
        out.at(v, k, 1) += dn;
        out.at(v, k, 2) += dn * dn;
        if (conv >= 0) {
          const double dc = x - group(conv, k);
          out.at(v, k, 3) += dc;
          out.at(v, k, 4) += dc * dc;
        }
      }
  }
}

}  // namespace

int main(int argc, char** argv) {
  long tracks = 2000000;
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<double> far_g1 = {1.0, 0.3, 0.25};
  bool converged = false;
  std::string tables = std::string(SABRE_SOURCE_DIR) + "/physics/data/default.h5";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--tracks" && has) {
      tracks = std::atol(argv[++i]);
    } else if (a == "--threads" && has) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--far-g1" && has) {
      far_g1.clear();
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ",")) far_g1.push_back(std::atof(t));
    } else if (a == "--converged") {
      converged = true;
    } else if (a == "--tables" && has) {
      tables = argv[++i];
    } else {
      std::fprintf(stderr, "far_steps_interfaces: unknown or incomplete argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (tracks < 1 || threads < 1 || far_g1.empty()) {
    std::fprintf(stderr, "far_steps_interfaces: --tracks, --threads and --far-g1 must be positive\n");
    return 2;
  }
  for (double g : far_g1)
    if (!(g > 0 && g <= 1)) {
      std::fprintf(stderr, "far_steps_interfaces: --far-g1 values must be in (0, 1]\n");
      return 2;
    }
  const MaterialTables tab(tables);
  const Slabs slabs(tab);

  std::vector<ElectronOptions> opts(1);  // [0]: the near steps (every default as in sabre)
  std::vector<std::string> names = {"near"};
  for (double g : far_g1) {
    ElectronOptions o;
    o.far_steps = true;
    o.far_msc_g1_max = g;
    opts.push_back(o);
    char b[48];
    std::snprintf(b, sizeof b, "far G1 %.3g", g);
    names.push_back(b);
  }
  int conv = -1;
  if (converged) {
    ElectronOptions o;
    o.msc_g1_max = 0.02;  // 10 times shorter G1-limited steps, estepe as in the others
    conv = int(opts.size());
    opts.push_back(o);
    names.push_back("converged");
  }
  const int nv = int(opts.size());

  std::vector<Sums> part(std::size_t(threads), Sums{nv});
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const long first = tracks * t / threads, last = tracks * (t + 1) / threads;
    pool.emplace_back(run_tracks, std::cref(slabs), std::cref(opts), conv, first, last - first,
                      std::ref(part[std::size_t(t)]));
  }
  for (auto& th : pool) th.join();
  Sums s(nv);
  for (const auto& p : part) s.merge(p);

  const double n = double(tracks);
  // Mean and 1 sigma [% of the near steps' energy] of a difference in group k.
  auto diff = [&](int v, int k, int q, double& m, double& sd) {
    const double mk = s.at(v, k, q) / n, ref = s.at(0, k, 0) / n;
    m = 100 * mk / ref;
    sd = 100 * std::sqrt((s.at(v, k, q + 1) / n - mk * mk) / n) / ref;
  };
  std::printf("far_steps_interfaces: %ld tracks, %d threads; water 0-%g | lung %g-%g | bone %g-%g | water %g-%g cm\n",
              tracks, threads, kLungFrom, kLungFrom, kBoneFrom, kBoneFrom, kBoneTo, kBoneTo, kLayers * kLayerCm);
  std::printf("energy per 0.2 cm minus the near steps' [%% of near, paired 1 sigma]%s\n",
              converged ? "; then each minus the converged steps'" : "");
  std::printf("%-9s %5s |", "z [cm]", "rho");
  for (int v = 1; v < nv; ++v)
    if (v != conv) std::printf(" %17s", names[std::size_t(v)].c_str());
  if (converged)
    for (int v = 0; v < nv; ++v)
      if (v != conv) std::printf(" | %11s-conv", names[std::size_t(v)].c_str());
  std::printf("\n");
  std::vector<double> worst_bone(std::size_t(nv), 0.0), chi2(std::size_t(nv), 0.0);
  for (int k = 0; k < kGroups; ++k) {
    const double z0 = k * kGroup * kLayerCm;
    std::printf("%4.1f-%4.1f %5.2f |", z0, z0 + kGroup * kLayerCm, slabs.layer_rho[std::size_t(k * kGroup)]);
    for (int v = 1; v < nv; ++v) {
      if (v == conv) continue;
      double m, sd;
      diff(v, k, 1, m, sd);
      std::printf(" %+8.3f (%5.3f)", m, sd);
      // the groups that start in the bone (the last one reaches half a layer into the water)
      if (z0 > kBoneFrom - 0.5 * kLayerCm && z0 < kBoneTo - 0.5 * kLayerCm) worst_bone[std::size_t(v)] = std::max(worst_bone[std::size_t(v)], std::fabs(m));
    }
    if (converged)
      for (int v = 0; v < nv; ++v) {
        if (v == conv) continue;
        double m, sd;
        diff(v, k, 3, m, sd);
        std::printf(" | %+7.2f (%4.2f)", m, sd);
        chi2[std::size_t(v)] += (m / sd) * (m / sd);
      }
    std::printf("\n");
  }
  std::printf("\n%-14s %12s %10s %22s%s\n", "variant", "steps/track", "CPU [s]", "worst bone group [%]",
              converged ? "   chi2 vs converged (40 groups)" : "");
  for (int v = 0; v < nv; ++v) {
    std::printf("%-14s %12.3f %10.2f", names[std::size_t(v)].c_str(), s.steps[std::size_t(v)] / n, s.cpu[std::size_t(v)]);
    if (v == 0 || v == conv)
      std::printf(" %22s", "-");
    else
      std::printf(" %22.3f", worst_bone[std::size_t(v)]);
    if (converged && v != conv) std::printf("   %.1f", chi2[std::size_t(v)]);
    std::printf("\n");
  }
  return 0;
}
