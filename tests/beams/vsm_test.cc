// Virtual source model and the linac source: field restriction, weights, spectrum, IEC.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "beams/delivery_build.hh"
#include "beams/plan_source.hh"
#include "beams/plan_builder.hh"
#include "physics/core/rng.hh"
#include "tests/support/sample_mean.hh"

using namespace sabre::beams;
using sabre::phys::Vec3;

namespace {
Machine hd120() { return load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/truebeam-hd120.toml"); }

// The in-air fluence of n source histories of a gantry-0 HFS beam (isocentre at the origin,
// the beam along +y from y = -100) in bins of x at the isocentre plane: per bin the sum of
// the photons' weights and of their squares; `open`: the photons within +-open_half of the
// axis in both x and z.
struct IsoBins {
  std::vector<double> s1, s2;
  int open = 0;
};
IsoBins iso_fluence(const LinacSourceView& v, int n, std::uint64_t seed, const std::vector<double>& edges,
                    double open_half = 0) {
  const std::size_t nb = edges.size() - 1;
  IsoBins b;
  b.s1.assign(nb, 0);
  b.s2.assign(nb, 0);
  for (int i = 0; i < n; ++i) {
    sabre::phys::Rng rng(seed, std::uint64_t(i), sabre::phys::kStreamSource);
    const auto p = v.sample(rng);
    if (p.weight == 0 || p.type != sabre::phys::ParticleType::photon) continue;
    const double x_iso = p.pos_cm.x + p.dir.x / p.dir.y * (0 - p.pos_cm.y);
    const double z_iso = p.pos_cm.z + p.dir.z / p.dir.y * (0 - p.pos_cm.y);
    b.open += std::abs(x_iso) < open_half && std::abs(z_iso) < open_half;
    for (std::size_t k = 0; k < nb; ++k)
      if (x_iso >= edges[k] && x_iso < edges[k + 1]) {
        b.s1[k] += p.weight;
        b.s2[k] += p.weight * p.weight;
      }
  }
  return b;
}

// Checks two estimates of the same binned fluence (n_a and n_b histories) bin by bin within
// 4 sigma (the per-particle weights' spread of both); every bin must have fluence.
void check_same_fluence(const IsoBins& a, int n_a, const IsoBins& b, int n_b, const std::vector<double>& edges) {
  for (std::size_t k = 0; k + 1 < edges.size(); ++k) {
    const double ma = a.s1[k] / n_a, mb = b.s1[k] / n_b;
    const double va = (a.s2[k] / n_a - ma * ma) / n_a, vb = (b.s2[k] / n_b - mb * mb) / n_b;
    INFO("bin " << edges[k] << " .. " << edges[k + 1] << " cm: " << ma << " against " << mb);
    CHECK(mb > 0);
    CHECK(std::abs(ma - mb) < 4 * std::sqrt(va + vb));
  }
}
}  // namespace

TEST_CASE("field restriction projects the jaw opening from the source point", "[vsm]") {
  // Hand-worked: from the focal point (0, 0) the divergent opening at +-5 cm projects to
  // exactly +-5 cm. From the extra-focal plane z = 10 cm, jaw X1 at -5 cm: top (36.7 cm)
  // -5*0.367*90/26.7 = -6.1854; bottom (44.5 cm) -5*0.445*90/34.5 = -5.8043: the top edge
  // sets the bound.
  double lo, hi;
  project_opening(0, 0, -5, 5, 36.7, 44.5, 100, lo, hi);  // beams/collimator.hh
  CHECK(lo == Approx(-5));
  CHECK(hi == Approx(5));
  project_opening(0, 10, -5, 5, 36.7, 44.5, 100, lo, hi);
  CHECK(lo == Approx(-5 * 0.367 * 90 / 26.7));
  CHECK(hi == Approx(5 * 0.367 * 90 / 26.7));
}

TEST_CASE("VSM samples: targets in the rectangle, weights, spectrum mean", "[vsm]") {
  const Machine m = hd120();
  const BeamModel& b = *m.find_beam(6, true);
  std::vector<double> edges, cdf;
  VsmView v = make_vsm_view(m, b, edges, cdf);
  v.e_weight = 0;
  v.ef_weight = 0;  // primary only
  v.margin_density = 1;  // uniform aims: the weight is the window's area (the margin density has its own test)
  // The machine's stack with its MLC out of the beam; jaws X -2 .. 3, Y -1 .. 1 cm.
  const CollimatorStack st = make_collimator_stack(m, m.mlc()->boundaries_cm);
  std::vector<double> pos(std::size_t(st.n_values), 0.0);
  const int jx = st.devices[st.jaws_on_axis[0]].first, jy = st.devices[st.jaws_on_axis[1]].first;
  pos[std::size_t(jx)] = -2; pos[std::size_t(jx) + 1] = 3; pos[std::size_t(jy)] = -1; pos[std::size_t(jy) + 1] = 1;
  ApertureState ap;
  ap.p0 = ap.p1 = pos.data();
  ap.active = (1u << st.jaws_on_axis[0]) | (1u << st.jaws_on_axis[1]);
  sabre::phys::Rng rng(11, 0, sabre::phys::kStreamTest);
  const int n = 100000;
  double sum_e = 0, sum_e2 = 0;
  for (int i = 0; i < n; ++i) {
    const VsmSample s = vsm_sample(v, st, ap, rng);
    REQUIRE(s.component == VsmComponent::primary);
    // rectangle = opening projected from the spot + 0.5 cm margin; a spot offset s shifts
    // the projection by s (100/36.7 - 1) = 1.72 s; |s| < 5 sigma = 0.18 cm -> 0.31 cm.
    CHECK(s.rect[0] == Approx(-2.5).margin(0.31));
    CHECK(s.rect[1] == Approx(3.5).margin(0.31));
    CHECK(s.target_cm.x >= s.rect[0]);
    CHECK(s.target_cm.x <= s.rect[1]);
    CHECK(s.dir.z > 0);
    // weight = area x FFF fluence at r: area of the sampled rectangle (6 x 3 cm^2 for a
    // point spot)
    CHECK(s.weight == Approx((s.rect[1] - s.rect[0]) * (s.rect[3] - s.rect[2]) * interp_clamped(v.fluence_r_cm, v.fluence_rel, v.n_fluence,
                                                 std::hypot(s.target_cm.x, s.target_cm.y)))
                          .epsilon(1e-12));
    // near the axis, softening <= 0.5 % / cm x 5 cm: sampled energy = bin sample x (1 - k r)
    sum_e += s.energy_mev;
    sum_e2 += s.energy_mev * s.energy_mev;
  }
  // Histogram mean of the file's spectrum (uniform within bins: mean of a bin = its
  // centre) times the average softening over the rectangle (r up to 5 cm: about 0.99).
  double mean = 0;
  for (std::size_t i = 0; i < b.spectrum_energies_mev.size(); ++i)
    mean += b.spectrum_weights[i] * 0.5 * (edges[i] + edges[i + 1]);
  const double m_s = sum_e / n, sd = std::sqrt(sum_e2 / n - m_s * m_s) / std::sqrt(double(n));
  CHECK(m_s < mean);                        // softened
  CHECK(m_s > mean * (1 - 0.005 * 5) - 5 * sd);
}

TEST_CASE("linac source: gantry 90 HFS enters from the patient's left, closed MLC attenuates", "[vsm]") {
  const Machine m = hd120();
  const BeamModel& b = *m.find_beam(6, true);
  FieldSpec f = field_for(m, b);
  f.gantry_deg = 90;
  f.iso_mm = {10, 20, 30};
  f.x1_mm = -20; f.x2_mm = 20; f.y1_mm = -20; f.y2_mm = 20;
  Plan plan;
  plan.beams.push_back(make_static_beam(f, 1, "g90"));
  PlanSource src(m, b, plan);
  const LinacSourceView& sv = std::get<LinacSourceView>(src.view());
  sabre::phys::Rng rng(5, 0, sabre::phys::kStreamSource);
  int photons = 0, alive = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto p = sv.sample(rng);
    if (p.weight == 0) continue;
    ++alive;
    // Sources lie between the target (x = 1 + 100 cm) and the extra-focal plane (90 cm).
    CHECK(p.pos_cm.x > 1 + 89);
    CHECK(p.pos_cm.x < 1 + 101);
    CHECK(p.dir.x < 0);  // toward the patient's right
    photons += p.type == sabre::phys::ParticleType::photon;
  }
  CHECK(alive > 0.55 * 20000);  // see the hand estimate below (full model: a little lower)
  CHECK(photons > 0.98 * alive);
  {
    // Hand estimate for a point spot, primary photons only: the 4 x 4 cm opening sampled
    // over 5 x 5 cm (0.5 cm margin). x: the rounded ends at +-2 cm never shadow rays from
    // the focus aimed inside (the arc recedes 0.37 cm at the leaf faces, more than the ray
    // moves), so 4/5 pass. y: the closed neighbours' tongue/groove halves reach tg/2 =
    // 0.0625 cm into each edge, so (4 - 0.125)/5 pass unshadowed. Open: 0.8 x 0.775 = 0.62.
    // The shadowed rest (T ~ 0.2-0.5 %) survives roulette with probability T/0.05 ~ 4-10 %:
    // expected alive fraction 0.62 + 0.38 x (0.04..0.10) = 0.635..0.66.
    PlanSource pt(m, b, plan);
    LinacSourceView v = std::get<LinacSourceView>(pt.view());
    v.vsm.sigma_x_cm = v.vsm.sigma_y_cm = 0;
    v.vsm.ef_weight = v.vsm.e_weight = 0;
    v.vsm.margin_density = 1;  // the estimate's uniform aims over 5 x 5 cm
    // A near-zero interleaf gap (0.05 mm) so that the estimate below holds: with the file's
    // 0.27 mm gap, the half-height gap bands of the closed pairs (T ~ 6 %) add survivors.
    v.collimator.devices[v.collimator.mlc_on_axis[0]].mlc.interleaf_gap_cm = 0.005;
    sabre::phys::Rng r0(6, 0, 0);
    int a = 0;
    for (int i = 0; i < 20000; ++i) a += v.sample(r0).weight > 0;
    INFO("alive fraction " << a / 20000.0);
    CHECK(a > 0.625 * 20000);  // 0.635 less 3 binomial sigma (0.0034 x 3)
    CHECK(a < 0.67 * 20000);
  }
  // The same field with all leaves closed under the jaws' centre: transmission only.
  for (auto& cp : plan.beams[0].control_points)
    for (auto& x : cp.positions_mm.at("MLCX")) x = 0;
  // Closed pairs meet at x = 0; rays through the meeting line see the rounded ends' gap.
  PlanSource closed(m, b, plan);
  const LinacSourceView& cv = std::get<LinacSourceView>(closed.view());
  double w_open = 0, w_closed = 0;
  sabre::phys::Rng r1(9, 0, 0), r2(9, 0, 0);
  for (int i = 0; i < 20000; ++i) {
    w_open += sv.sample(r1).weight;
    w_closed += cv.sample(r2).weight;
  }
  const double ratio = w_closed / w_open;
  INFO("closed/open in-air weight ratio " << ratio);
  // Plausibility band for the in-air photon-fluence ratio: a full leaf alone gives
  // ~0.2-0.4 % (exp(-mu rho h)); the 0.27 mm interleaf-gap bands (half height, ~6 %) add
  // ~1 % for 2.5 mm leaves, and the abutting rounded tips at x = 0 leak along a ~1 mm
  // band at ~50 %: a few percent in all.
  CHECK(ratio > 0.002);
  CHECK(ratio < 0.05);
}

TEST_CASE("a fixed-leaf arc without gantry motion delivers what the static field does", "[vsm]") {
  // Acceptance 3's equivalence at the source: the same MU as a static field (2 control
  // points) or as a 'VMAT' arc with direction NONE, fixed leaves, 19 control points. Every
  // machine value is the same at every meterset, so the same random numbers give the same
  // particles, exactly (the transported doses are then identical for the same seed).
  const Machine m = hd120();
  const BeamModel& b = *m.find_beam(6, true);
  FieldSpec f = field_for(m, b);
  f.x1_mm = -25; f.x2_mm = 25; f.y1_mm = -25; f.y2_mm = 25;
  f.gantry_deg = 40;
  f.iso_mm = {5, -10, 20};
  Plan ps, pa;
  ps.beams.push_back(make_static_beam(f, 1, "static"));
  pa.beams.push_back(make_arc_beam(f, 40, 40, "NONE", 19, 0, 1, "arc"));
  PlanSource s(m, b, ps), a(m, b, pa);
  const auto& sv = std::get<LinacSourceView>(s.view());
  const auto& av = std::get<LinacSourceView>(a.view());
  int differ = 0;
  for (int i = 0; i < 5000; ++i) {
    sabre::phys::Rng r1(17, i, sabre::phys::kStreamSource), r2(17, i, sabre::phys::kStreamSource);
    const auto p = sv.sample(r1);
    const auto q = av.sample(r2);
    differ += p.energy_mev != q.energy_mev || p.weight != q.weight || p.pos_cm.x != q.pos_cm.x ||
              p.pos_cm.y != q.pos_cm.y || p.pos_cm.z != q.pos_cm.z || p.dir.x != q.dir.x;
  }
  CHECK(differ == 0);
}

TEST_CASE("a head without X jaws: aims concentrated on the open leaves give the fluence of uniform aims",
          "[vsm][agility]") {
  // Agility: along x only the MLC. The source aims 90 % of its photons at the leaves'
  // opening (weight 1/pdf) and 10 % over the largest field; the same source with uniform
  // aims over the largest field is an independent estimator of the same in-air fluence.
  // Per bin of x at the isocentre plane (inside the field, the leaf-end penumbra, under
  // the leaves), the weight sums must agree within 4 sigma (sigma from the per-particle
  // weights of both samples; fixed seeds).
  const Machine m = load_machine(std::string(SABRE_SOURCE_DIR) + "/beams/machines/versa-hd-agility.toml");
  const BeamModel& b = *m.find_beam(6, true);
  FieldSpec f = field_for(m, b);
  f.x1_mm = -30; f.x2_mm = 30; f.y1_mm = -30; f.y2_mm = 30;
  Plan plan;
  plan.beams.push_back(make_static_beam(f, 1, "6x6"));
  PlanSource src(m, b, plan);
  const LinacSourceView& mix = std::get<LinacSourceView>(src.view());
  REQUIRE(mix.collimator.jaws_on_axis[0] == -1);
  REQUIRE(mix.collimator.mlc_on_axis[0] >= 0);
  LinacSourceView uni = mix;
  uni.collimator.mlc_on_axis[0] = -1;  // aims uniform over the largest field along x
  const std::vector<double> edges{-20, -6, -3.6, -2.4, 0, 2.4, 3.6, 6, 20};  // x at isocentre [cm]
  const int n_mix = 200000, n_uni = 600000;
  const IsoBins a = iso_fluence(mix, n_mix, 31, edges), u = iso_fluence(uni, n_uni, 31, edges);
  check_same_fluence(a, n_mix, u, n_uni, edges);
  // Under the closed side of the bank (|x| > 6 cm) the fluence is leakage: below 1 % of the
  // open field's per cm (the leaves transmit ~0.1-1 %).
  CHECK(u.s1[0] / 14 < 0.01 * u.s1[3] / 2.4);
}

namespace {
// Mean and 1 sigma of the primary photons' weight over n samples.
std::pair<double, double> mean_weight(const VsmView& v, const CollimatorStack& st, const ApertureState& ap,
                                      std::uint64_t seed, int n) {
  sabre::phys::Rng rng(seed, 0, sabre::phys::kStreamTest);
  return sabre::testing::sample_mean([&] { return vsm_sample(v, st, ap, rng).weight; }, n);
}
}  // namespace

TEST_CASE("VSM ring restriction: a hat function's planar integral, with and without the ring", "[vsm]") {
  // E[weight] = the integral of the primary fluence over the sampling window (beams/vsm.hh).
  // Fluence = one hat of the file's table; point focal spot. Reference: the integral of the
  // hat over the window by a 4000 x 4000 midpoint rule (error << 1e-4 relative).
  // (a) knot 3 (r 4, 6, 8 cm), jaws +-5 cm: the window +-5.5 cm clips the ring and is the
  //     smaller domain (121 vs 151 cm^2): aims over the window;
  // (b) knot 5 (r 8, 10, 12 cm), jaws +-15 cm: the ring (251 cm^2) is smaller than the
  //     window clipped to its square (576 cm^2): aims on the ring, a tighter estimate.
  const Machine m = hd120();
  const BeamModel& b = *m.find_beam(6, true);
  std::vector<double> edges, cdf;
  VsmView v = make_vsm_view(m, b, edges, cdf);
  v.e_weight = v.ef_weight = 0;
  v.sigma_x_cm = v.sigma_y_cm = 0;
  v.tail_weight = 0;
  v.margin_density = 1;  // uniform aims, so that the extra-focal weights below are the window's area
  const CollimatorStack st = make_collimator_stack(m, m.mlc()->boundaries_cm);
  const int jx = st.devices[st.jaws_on_axis[0]].first, jy = st.devices[st.jaws_on_axis[1]].first;
  struct Case {
    int knot;
    double jaw;
  };
  for (const Case c : {Case{3, 5}, Case{5, 15}}) {
    INFO("knot " << c.knot << ", jaws +-" << c.jaw << " cm");
    std::vector<double> hat(std::size_t(v.n_fluence), 0.0);
    hat[std::size_t(c.knot)] = 1;
    v.fluence_rel = hat.data();
    const double lo = v.fluence_r_cm[c.knot - 1], hi = v.fluence_r_cm[c.knot + 1];
    std::vector<double> pos(std::size_t(st.n_values), 0.0);
    pos[std::size_t(jx)] = pos[std::size_t(jy)] = -c.jaw;
    pos[std::size_t(jx) + 1] = pos[std::size_t(jy) + 1] = c.jaw;
    ApertureState ap;
    ap.p0 = ap.p1 = pos.data();
    ap.active = (1u << st.jaws_on_axis[0]) | (1u << st.jaws_on_axis[1]);
    const double half = c.jaw + v.margin_cm;  // the window at isocentre for a point spot
    const int nq = 4000;
    const double h = 2 * half / nq;
    double ref = 0;
    for (int i = 0; i < nq; ++i)
      for (int j = 0; j < nq; ++j)
        ref += interp_clamped(v.fluence_r_cm, v.fluence_rel, v.n_fluence,
                              std::hypot(-half + (i + 0.5) * h, -half + (j + 0.5) * h));
    ref *= h * h;
    v.ring_lo_cm = v.ring_hi_cm = 0;
    const auto [m_win, s_win] = mean_weight(v, st, ap, 21, 400000);
    v.ring_lo_cm = lo;
    v.ring_hi_cm = hi;
    const auto [m_ring, s_ring] = mean_weight(v, st, ap, 22, 400000);
    // 4 sigma (fixed seeds): both estimate the same integral.
    CHECK(std::abs(m_win - ref) < 4 * s_win);
    CHECK(std::abs(m_ring - ref) < 4 * s_ring);
    if (c.jaw == 15) CHECK(s_ring < 0.8 * s_win);
    // Nothing counted off the ring or outside the window.
    sabre::phys::Rng rng(23, 0, sabre::phys::kStreamTest);
    for (int i = 0; i < 10000; ++i) {
      const VsmSample s = vsm_sample(v, st, ap, rng);
      if (!(s.weight > 0)) continue;
      const double r = std::hypot(s.target_cm.x, s.target_cm.y);
      REQUIRE(r >= lo - 1e-9);
      REQUIRE(r <= hi + 1e-9);
      REQUIRE(std::max(std::abs(s.target_cm.x), std::abs(s.target_cm.y)) <= half + 1e-9);
    }
  }
  // Extra-focal aims ignore the ring (their fluence is not a hat).
  v.ef_weight = 1;
  sabre::phys::Rng rng(24, 0, sabre::phys::kStreamTest);
  std::vector<double> pos(std::size_t(st.n_values), 0.0);
  pos[std::size_t(jx)] = pos[std::size_t(jy)] = -5;
  pos[std::size_t(jx) + 1] = pos[std::size_t(jy) + 1] = 5;
  ApertureState ap;
  ap.p0 = ap.p1 = pos.data();
  ap.active = (1u << st.jaws_on_axis[0]) | (1u << st.jaws_on_axis[1]);
  for (int i = 0; i < 1000; ++i) {
    const VsmSample s = vsm_sample(v, st, ap, rng);
    REQUIRE(s.component == VsmComponent::extrafocal);
    const Vec3 d = s.target_cm - s.origin_cm;
    REQUIRE(s.weight == Approx((s.rect[1] - s.rect[0]) * (s.rect[3] - s.rect[2]) *
                               std::pow(v.sad_cm - s.origin_cm.z, 3) / std::pow(dot(d, d), 1.5))
                            .epsilon(1e-9));
  }
}

TEST_CASE("margin density: fewer aims in the field-restriction margin give the fluence of uniform aims",
          "[vsm][efficiency]") {
  // TrueBeam HD120, a 1 x 1 cm2 jaw field. The default source
  // draws its aims in the 0.5 cm margin around the projected jaw opening at 1/4 of the
  // opening's density (weight 1/pdf; beams/collimator.hh sampling_window); the same plan
  // with uniform aims over the widened window (margin_density 1: the sampling before the
  // technique) is an independent estimator of the same in-air fluence. Per bin of x at the
  // isocentre plane (under the jaw, the penumbra, the open field), the weight sums must
  // agree within 4 sigma (sigma from the per-particle weights of both samples; fixed seeds).
  // A missing or doubled 1/pdf would move the margin's bins by a factor of ~4 and the open
  // field's by ~1.6.
  const Machine m = hd120();
  const BeamModel& b = *m.find_beam(6, true);
  // The calibration's field builder: jaws at 1 x 1 cm2, the MLC retracted behind them.
  const Plan plan = reference_field_plan(m, b, 1, 1, {0, 0, 0}, 100);
  PlanSource dflt(m, b, plan);
  SourceOptions uniform;
  uniform.margin_density = 1;
  PlanSource unif(m, b, plan, {}, uniform);
  const LinacSourceView& vd = std::get<LinacSourceView>(dflt.view());
  const LinacSourceView& vu = std::get<LinacSourceView>(unif.view());
  CHECK(vd.vsm.margin_density == sabre::phys::kDefaultSourceMarginDensity);
  CHECK(vd.vsm.margin_density < 1);
  CHECK(vu.vsm.margin_density == 1);
  const std::vector<double> edges{-1.3, -0.8, -0.6, -0.45, 0, 0.45, 0.6, 0.8, 1.3};  // x at isocentre [cm]
  const int n = 400000;
  const IsoBins d = iso_fluence(vd, n, 41, edges, 0.45), u = iso_fluence(vu, n, 43, edges, 0.45);
  check_same_fluence(d, n, u, n, edges);
  // What the technique is for: more of the histories leave the source into the open field
  // (uniform: ~1/4 of the aims in the opening's square, here ~0.8^2).
  CHECK(d.open > 2 * u.open);
}
