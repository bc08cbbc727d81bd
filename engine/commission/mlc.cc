#include "engine/commission/mlc.hh"

#include <cmath>

#include "beams/plan_builder.hh"
#include "beams/plan_source.hh"
#include "core/errors.hh"
#include "engine/commission/fit.hh"

namespace sabre::commission {
using nlohmann::json;

namespace {

constexpr double kField = 10;     // cm
constexpr double kDepth = 10;     // cm
constexpr double kHalf = 1.0;     // cm, the axis region
const double kGapsCm[] = {0.2, 0.4, 0.6, 1.0, 1.4, 2.0};

const beams::CollimatorSpec& mlc_of(const beams::Machine& m) {
  const beams::CollimatorSpec* c = m.mlc();
  if (!c) throw UsageError("machine " + m.name + " has no MLC to commission");
  return *c;
}

bool jaws_along(const beams::Machine& m, int axis) {
  for (const auto& c : m.collimators)
    if (c.kind == beams::CollimatorKind::jaws && c.axis == axis) return true;
  return false;
}

// Dose per history on the axis at 10 cm depth for one plan beam.
double axis_dose(const beams::Machine& m, const beams::BeamModel& b, const beams::Beam& beam, WaterRunner& runner,
                 std::int64_t histories, std::uint64_t seed, double& sigma) {
  beams::Plan plan;
  plan.path = "(MLC commissioning: " + beam.name + ")";
  plan.beams.push_back(beam);
  const beams::PlanSource src(m, b, plan);
  const GridSpec g{8, 0.5, 15, 0.5};
  // Not folded: a sliding window or a closed bank is not symmetric about both axes.
  const WaterDose d = runner.run(Setup{kField, kField, 100}, g, src.view(), histories, seed, false);
  return d.axis(kDepth, kHalf, &sigma);
}

}  // namespace

MlcFigures measure_mlc(const beams::Machine& m, const std::string& beam_name, WaterRunner& runner,
                       std::int64_t histories, std::uint64_t seed, bool with_dlg) {
  const beams::BeamModel* b = m.beam_named(beam_name);
  if (!b) throw UsageError("--beam " + beam_name + ": not a beam of " + m.path);
  const auto& mlc = mlc_of(m);
  if (mlc.axis != 0) throw UsageError("MLC commissioning is written for an MLCX (leaves along x)");
  beams::FieldSpec f = beams::field_for(m, *b);
  f.x1_mm = f.y1_mm = -5 * kField;
  f.x2_mm = f.y2_mm = 5 * kField;
  const bool jaws = jaws_along(m, 0);
  // Open field: the leaves retracted beyond the field (jaws define it) or, without jaws
  // along x, open on it.
  beams::Beam open = beams::make_static_beam(f, 1, "open");
  const int n = mlc.pairs();
  for (auto& cp : open.control_points) {
    auto& v = cp.positions_mm.at(mlc.name());
    for (int i = 0; i < n; ++i) {
      const double yc = 0.5 * (open.mlc()->boundaries_mm[std::size_t(i)] + open.mlc()->boundaries_mm[std::size_t(i) + 1]);
      const bool in = std::abs(yc) < 5 * kField;
      v[std::size_t(i)] = in ? (jaws ? -70.0 : -50.0) : 0.0;
      v[std::size_t(i + n)] = in ? (jaws ? 70.0 : 50.0) : 0.0;
    }
  }
  beams::Beam closed = open;
  for (auto& cp : closed.control_points)
    for (auto& x : cp.positions_mm.at(mlc.name())) x = jaws ? -70.0 : -150.0;
  MlcFigures out;
  double so = 0, sc = 0;
  const double d_open = axis_dose(m, *b, open, runner, histories, seed, so);
  const double d_closed = axis_dose(m, *b, closed, runner, histories, seed + 1, sc);
  out.transmission = d_closed / d_open;
  out.transmission_sigma = out.transmission * std::hypot(so / d_open, sc / d_closed);
  if (!with_dlg) return out;
  // Sweeping gaps: y(g) = R'(g) (W + g) = g + DLG, W = the field width.
  const double W = kField;
  Matrix A(int(std::size(kGapsCm)), 2);
  std::vector<double> y(std::size(kGapsCm)), wts(std::size(kGapsCm));
  int k = 0;
  for (double g : kGapsCm) {
    const beams::Beam sw = beams::make_sliding_window_beam(f, 10 * g, 41, 1, "sweep");
    double s = 0;
    const double d = axis_dose(m, *b, sw, runner, histories, seed + 2 + std::uint64_t(k), s);
    const double frac = g / (W + g);
    const double r = d / d_open - out.transmission * (1 - frac);
    const double sr = std::hypot(s / d_open, d * so / (d_open * d_open));
    wts[std::size_t(k)] = 1 / std::max(sr * (W + g), 1e-12);
    A(k, 0) = wts[std::size_t(k)] * g;
    A(k, 1) = wts[std::size_t(k)];
    y[std::size_t(k)] = wts[std::size_t(k)] * r * (W + g);
    ++k;
  }
  const auto ab = least_squares(A, y);
  out.dlg_mm = 10 * ab[1] / ab[0];
  // 1 sigma of the intercept ratio from the fit's covariance (weighted, unit variance).
  double s00 = 0, s01 = 0, s11 = 0;
  for (int i = 0; i < A.rows; ++i) {
    s00 += A(i, 0) * A(i, 0);
    s01 += A(i, 0) * A(i, 1);
    s11 += A(i, 1) * A(i, 1);
  }
  const double det = s00 * s11 - s01 * s01;
  const double var_a = s11 / det, var_b = s00 / det, cov = -s01 / det;
  const double ratio = ab[1] / ab[0];
  out.dlg_sigma_mm = 10 * std::abs(ratio) *
                     std::sqrt(var_b / (ab[1] * ab[1]) + var_a / (ab[0] * ab[0]) - 2 * cov / (ab[0] * ab[1]));
  return out;
}

MlcResult commission_mlc(const beams::Machine& machine, const std::string& beam, const Options& opt,
                         WaterRunner& runner, const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  beams::Machine m = machine;
  beams::CollimatorSpec* mlc = nullptr;
  for (auto& c : m.collimators)
    if (c.kind == beams::CollimatorKind::mlc) mlc = &c;
  if (!mlc) throw UsageError("machine " + m.name + " has no MLC to commission");
  MlcResult r;
  r.device = mlc->name();
  r.offset_before_cm = r.offset_cm = mlc->leaf_offset_cm;
  r.gap_before_cm = r.gap_cm = mlc->interleaf_gap_cm;
  r.report = {{"conditions", "water, SSD 100 cm, 10 x 10 cm2 field, axis dose at 10 cm depth (|x|,|z| <= 1 cm)"},
              {"steps", json::array()}};
  std::uint64_t seed = opt.seed + 500009;
  const std::int64_t n = opt.mlc_histories;
  // 1. The interleaf gap for the transmission (secant on T(gap)).
  if (opt.transmission >= 0) {
    double g0 = mlc->interleaf_gap_cm;
    MlcFigures f0 = measure_mlc(m, beam, runner, n, seed += 101, false);
    r.report["steps"].push_back({{"interleaf_gap_cm", g0}, {"transmission", f0.transmission},
                                 {"sigma", f0.transmission_sigma}});
    say("mlc: gap " + std::to_string(g0) + " cm -> transmission " + std::to_string(100 * f0.transmission) + " %");
    double g1 = std::max(0.0, g0 * (opt.transmission / std::max(f0.transmission, 1e-6)));
    if (g1 == g0) g1 = g0 + 0.005;
    for (int it = 0; it < 4; ++it) {
      mlc->interleaf_gap_cm = g1;
      const MlcFigures f1 = measure_mlc(m, beam, runner, n, seed += 101, false);
      r.report["steps"].push_back({{"interleaf_gap_cm", g1}, {"transmission", f1.transmission},
                                   {"sigma", f1.transmission_sigma}});
      say("mlc: gap " + std::to_string(g1) + " cm -> transmission " + std::to_string(100 * f1.transmission) + " %");
      if (std::abs(f1.transmission - opt.transmission) <= std::max(0.0005, 1.5 * f1.transmission_sigma)) break;
      const double slope = (f1.transmission - f0.transmission) / (g1 - g0);
      const double g2 = slope > 0 ? g1 + (opt.transmission - f1.transmission) / slope : g1 * 1.3;
      g0 = g1;
      f0 = f1;
      g1 = std::clamp(g2, 0.0, 0.3);
    }
    r.gap_cm = mlc->interleaf_gap_cm;
  }
  // 2. The leaf offset for the DLG (DLG grows by twice the offset, in mm: 20 x offset cm).
  if (opt.dlg_mm >= 0) {
    double o0 = mlc->leaf_offset_cm;
    MlcFigures f0 = measure_mlc(m, beam, runner, n, seed += 101, true);
    r.report["steps"].push_back({{"leaf_offset_cm", o0}, {"dlg_mm", f0.dlg_mm}, {"sigma_mm", f0.dlg_sigma_mm}});
    say("mlc: leaf offset " + std::to_string(o0) + " cm -> DLG " + std::to_string(f0.dlg_mm) + " mm");
    double o1 = o0 + (opt.dlg_mm - f0.dlg_mm) / 20;
    for (int it = 0; it < 3; ++it) {
      mlc->leaf_offset_cm = o1;
      const MlcFigures f1 = measure_mlc(m, beam, runner, n, seed += 101, true);
      r.report["steps"].push_back({{"leaf_offset_cm", o1}, {"dlg_mm", f1.dlg_mm}, {"sigma_mm", f1.dlg_sigma_mm}});
      say("mlc: leaf offset " + std::to_string(o1) + " cm -> DLG " + std::to_string(f1.dlg_mm) + " mm");
      if (std::abs(f1.dlg_mm - opt.dlg_mm) <= std::max(0.05, 1.5 * f1.dlg_sigma_mm)) break;
      const double slope = std::abs(o1 - o0) > 1e-9 ? (f1.dlg_mm - f0.dlg_mm) / (o1 - o0) : 20;
      const double o2 = o1 + (opt.dlg_mm - f1.dlg_mm) / (slope > 5 ? slope : 20);
      o0 = o1;
      f0 = f1;
      o1 = o2;
    }
    r.offset_cm = mlc->leaf_offset_cm;
  }
  // The fitted MLC measured again with a fresh seed (what the fit reached, not the last
  // secant step's own noise).
  const MlcFigures fin = measure_mlc(m, beam, runner, n, seed + 7777777, opt.dlg_mm >= 0);
  r.report["final"] = {{"interleaf_gap_cm", r.gap_cm},       {"leaf_offset_cm", r.offset_cm},
                       {"transmission", fin.transmission},   {"transmission_sigma", fin.transmission_sigma},
                       {"dlg_mm", fin.dlg_mm},               {"dlg_sigma_mm", fin.dlg_sigma_mm},
                       {"dlg_measured", opt.dlg_mm >= 0}};
  say("mlc: final (fresh seed): transmission " + std::to_string(100 * fin.transmission) + " % +- " +
      std::to_string(100 * fin.transmission_sigma) +
      (opt.dlg_mm >= 0 ? ", DLG " + std::to_string(fin.dlg_mm) + " +- " + std::to_string(fin.dlg_sigma_mm) + " mm"
                       : std::string()));
  return r;
}

}  // namespace sabre::commission
