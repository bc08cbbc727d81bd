#include "engine/commission/report.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "beams/machine.hh"
#include "core/errors.hh"
#include "core/output_file.hh"
#include "engine/commission/fit.hh"
#include "engine/viz/dose_pictures.hh"
#include "engine/viz/png.hh"

namespace sabre::commission {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double interp(const std::vector<double>& x, const std::vector<double>& y, double u) {
  if (u <= x.front()) return y.front();
  if (u >= x.back()) return y.back();
  const auto it = std::upper_bound(x.begin(), x.end(), u);
  const std::size_t k = std::size_t(it - x.begin());
  return y[k - 1] + (u - x[k - 1]) / (x[k] - x[k - 1]) * (y[k] - y[k - 1]);
}

// Least-squares cubic through the points within +-half of centre (in u = x - centre).
std::vector<double> local_cubic(const std::vector<double>& x, const std::vector<double>& y, double centre,
                                double half) {
  std::vector<int> idx;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::abs(x[i] - centre) <= half + 1e-9) idx.push_back(int(i));
  if (idx.size() < 5) return {};
  Matrix A(int(idx.size()), 4);
  std::vector<double> b(idx.size());
  for (std::size_t r = 0; r < idx.size(); ++r) {
    const double u = x[std::size_t(idx[r])] - centre;
    A(int(r), 0) = 1; A(int(r), 1) = u; A(int(r), 2) = u * u; A(int(r), 3) = u * u * u;
    b[r] = y[std::size_t(idx[r])];
  }
  try {
    return least_squares(A, b);
  } catch (const std::exception&) {
    return {};
  }
}

// Inflection of an edge near `guess`: zero of the cubic's second derivative, re-centred.
bool inflection(const std::vector<double>& x, const std::vector<double>& y, double guess, double& at) {
  double x0 = guess;
  for (int it = 0; it < 8; ++it) {
    const auto c = local_cubic(x, y, x0, 0.3);
    if (c.empty() || c[3] == 0) return false;
    const double du = std::clamp(-c[2] / (3 * c[3]), -0.3, 0.3);
    x0 += du;
    if (std::abs(du) < 1e-5) break;
  }
  at = x0;
  return true;
}

// Where y (normalised) crosses `level` going outward from the axis on one side (sign).
bool crossing(const std::vector<double>& x, const std::vector<double>& y, double level, int sign, double& at) {
  // walk outward from the point nearest the axis
  std::size_t c = 0;
  for (std::size_t i = 1; i < x.size(); ++i)
    if (std::abs(x[i]) < std::abs(x[c])) c = i;
  if (sign > 0) {
    for (std::size_t i = c; i + 1 < x.size(); ++i)
      if (y[i] >= level && y[i + 1] < level) {
        at = x[i] + (level - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]);
        return true;
      }
  } else {
    for (std::size_t i = c; i > 0; --i)
      if (y[i] >= level && y[i - 1] < level) {
        at = x[i] + (level - y[i]) * (x[i - 1] - x[i]) / (y[i - 1] - y[i]);
        return true;
      }
  }
  return false;
}

std::string fmt(double v, int prec = 3) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}

}  // namespace

double depth_of_maximum_cm(const std::vector<double>& d, const std::vector<double>& v) {
  const std::size_t k = std::size_t(std::max_element(v.begin(), v.end()) - v.begin());
  if (k == 0 || k + 1 >= v.size()) return d[k];
  // A parabola through the points within 0.6 cm of the highest (at least its neighbours).
  std::vector<int> idx;
  for (std::size_t i = 0; i < d.size(); ++i)
    if (std::abs(d[i] - d[k]) <= std::max(0.6, 1.01 * std::max(d[k] - d[k - 1], d[k + 1] - d[k]))) idx.push_back(int(i));
  Matrix A(int(idx.size()), 3);
  std::vector<double> b(idx.size());
  for (std::size_t r = 0; r < idx.size(); ++r) {
    const double u = d[std::size_t(idx[r])] - d[k];
    A(int(r), 0) = 1; A(int(r), 1) = u; A(int(r), 2) = u * u;
    b[r] = v[std::size_t(idx[r])];
  }
  try {
    const auto c = least_squares(A, b);
    if (c[2] < 0) {
      const double u = -c[1] / (2 * c[2]);
      if (std::abs(u) <= 0.6) return d[k] + u;
    }
  } catch (const std::exception&) {
  }
  return d[k];
}

namespace {

// Where z crosses `level` walking from x = `from` in direction `dir` (+1 outward to larger
// x, -1 to smaller), linearly between the samples.
bool crossing_from(const std::vector<double>& x, const std::vector<double>& z, double from, int dir, double level,
                   double& at) {
  std::size_t i = std::size_t(std::lower_bound(x.begin(), x.end(), from) - x.begin());
  i = std::min(i, x.size() - 1);
  for (; dir > 0 ? i + 1 < x.size() : i > 0; i = dir > 0 ? i + 1 : i - 1) {
    const std::size_t j = dir > 0 ? i + 1 : i - 1;
    if ((z[i] - level) * (z[j] - level) <= 0 && z[i] != z[j]) {
      at = x[i] + (level - z[i]) * (x[j] - x[i]) / (z[j] - z[i]);
      return true;
    }
  }
  return false;
}

// The steepest point of an edge within +-1 cm of `guess` (slope of a local straight line over
// +-0.2 cm), for the inflection search to start from.
double steepest_near(const std::vector<double>& x, const std::vector<double>& y, double guess) {
  double best = guess, g = -1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::abs(x[i] - guess) > 1.0) continue;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (std::size_t k = 0; k < x.size(); ++k)
      if (std::abs(x[k] - x[i]) <= 0.2 + 1e-9) {
        sx += x[k]; sy += y[k]; sxx += x[k] * x[k]; sxy += x[k] * y[k]; ++n;
      }
    if (n < 3) continue;
    const double den = n * sxx - sx * sx;
    if (!(den > 0)) continue;
    const double slope = std::abs((n * sxy - sx * sy) / den);
    if (slope > g) { g = slope; best = x[i]; }
  }
  return best;
}

}  // namespace

ProfileFigures profile_figures(const std::vector<double>& x, const std::vector<double>& v, double nominal_half_cm) {
  ProfileFigures f;
  if (x.size() < 10 || x.front() >= 0 || x.back() <= 0) return f;
  const double axis = interp(x, v, 0.0);
  if (!(axis > 0)) return f;
  std::vector<double> y(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) y[i] = v[i] / axis;
  double g_left = 0, g_right = 0;
  if (nominal_half_cm > 0) {
    // Start from the steepest point near the nominal edges (an FFF field's edge can lie
    // below half of its axis value).
    g_left = steepest_near(x, y, -nominal_half_cm);
    g_right = steepest_near(x, y, nominal_half_cm);
  } else if (!crossing(x, y, 0.5, -1, g_left) || !crossing(x, y, 0.5, 1, g_right)) {
    return f;
  }
  if (!inflection(x, y, g_left, f.left_cm) || !inflection(x, y, g_right, f.right_cm)) return f;
  if (!(f.left_cm < 0 && f.right_cm > 0)) return f;
  f.size_cm = f.right_cm - f.left_cm;
  // Renormalise so that the inflection points sit at 50 %, then the 80 % and 20 % crossings
  // nearest each inflection point (inward and outward).
  const double level = 0.5 * (interp(x, y, f.left_cm) + interp(x, y, f.right_cm));
  if (!(level > 0)) return f;
  std::vector<double> z(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) z[i] = 0.5 * y[i] / level;
  double l80, l20, r80, r20;
  if (!crossing_from(x, z, f.left_cm, +1, 0.8, l80) || !crossing_from(x, z, f.left_cm, -1, 0.2, l20) ||
      !crossing_from(x, z, f.right_cm, -1, 0.8, r80) || !crossing_from(x, z, f.right_cm, +1, 0.2, r20))
    return f;
  f.penumbra_cm = 0.5 * ((l80 - l20) + (r20 - r80));
  f.ok = true;
  return f;
}

double gamma_pass_rate(const std::vector<double>& x, const std::vector<double>& meas, const std::vector<double>& comp,
                       double dose_frac, double dist_cm) {
  const double mmax = *std::max_element(meas.begin(), meas.end());
  const double dd = dose_frac * mmax;
  int n = 0, pass = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (meas[i] < 0.1 * mmax) continue;
    ++n;
    double best = 1e300;
    for (double u = x[i] - 3 * dist_cm; u <= x[i] + 3 * dist_cm + 1e-12; u += 0.01) {
      if (u < x.front() || u > x.back()) continue;
      const double g2 = std::pow((u - x[i]) / dist_cm, 2) + std::pow((interp(x, comp, u) - meas[i]) / dd, 2);
      best = std::min(best, g2);
    }
    if (best <= 1) ++pass;
  }
  return n ? double(pass) / n : 1.0;
}

void compare_with_data(BasisBank& bank, Result& r, const Options& opt,
                       const std::function<void(const std::string&)>& log, std::uint64_t seed) {
  const auto& data = bank.data();
  json curves = json::array(), ofs = json::array();
  struct Of { double y, m, rel_sigma, fx, fy, ssd, depth; std::string src; };  // rel_sigma: data and model
  std::vector<Of> of;
  double pdd_max = 0, dmax_max = 0, size_max = 0, pen_max = 0, gamma_min = 1;
  double pdd_max_z = 0;  // the largest |difference| / its 1-sigma of a depth-dose point beyond d_max
  for (const auto& s : bank.setups()) {
    const std::int64_t h = area_scaled_histories(s.setup, opt.report_histories > 0 ? opt.report_histories : opt.histories);
    if (log) log("report: the fitted model on " + fmt(s.setup.field_x_cm) + " x " + fmt(s.setup.field_y_cm) +
                 " cm at SSD " + fmt(s.setup.ssd_cm) + " cm, " + std::to_string(h) + " histories");
    const Computed c = bank.compute_full(r.after, s, h, seed += 13);
    const auto y = bank.measured(s);
    const auto sr = bank.measured_sigma(s, opt.measurement_uncertainty);
    std::size_t j = 0;
    for (int ci : s.curves) {
      const auto& cv = data.curves[std::size_t(ci)];
      const std::size_t n = cv.position_cm.size();
      std::vector<double> ym(y.begin() + long(j), y.begin() + long(j + n));
      std::vector<double> mc(c.value.begin() + long(j), c.value.begin() + long(j + n));
      const std::vector<double> rs(sr.begin() + long(j), sr.begin() + long(j + n)),
          ms(c.sigma.begin() + long(j), c.sigma.begin() + long(j + n));
      j += n;
      json e{{"source", cv.source},
             {"kind", io::to_string(cv.kind)},
             {"field_cm", {cv.field_x_cm, cv.field_y_cm}},
             {"ssd_cm", cv.ssd_cm},
             {"detector", cv.detector}};
      if (cv.kind == io::CurveKind::depth_dose) {
        const double dm = depth_of_maximum_cm(cv.position_cm, ym), dc = depth_of_maximum_cm(cv.position_cm, mc);
        // Measured: relative to its maximum; computed: scaled to the measured curve by least
        // squares beyond d_max (the shape is compared, not one noisy point's value).
        const double nm = interp(cv.position_cm, ym, dm);
        for (double& v : ym) v /= nm;
        double sxy = 0, sxx = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (cv.position_cm[i] >= dm) {
            sxy += mc[i] * ym[i];
            sxx += mc[i] * mc[i];
          }
        const double k = sxx > 0 ? sxy / sxx : 1;
        // Each point's 1-sigma of the difference: the data's (sigma_rel or the stated
        // uncertainty) and the report run's own Monte Carlo sigma. How far the worst point and
        // the most significant one stand above the noise tells a misfit from noise.
        double worst = 0, worst_sigma = 0, z_max = 0;
        for (std::size_t i = 0; i < n; ++i) {
          mc[i] *= k;
          if (cv.position_cm[i] < dm) continue;
          const double d = std::abs(mc[i] - ym[i]), sd = std::hypot(rs[i] * ym[i], k * ms[i]);
          if (d > worst) {
            worst = d;
            worst_sigma = sd;
          }
          if (sd > 0) z_max = std::max(z_max, d / sd);
        }
        e["dmax_measured_cm"] = dm;
        e["dmax_computed_cm"] = dc;
        e["max_abs_diff_beyond_dmax"] = worst;
        e["sigma_at_max_abs_diff"] = worst_sigma;
        e["max_abs_diff_over_sigma_beyond_dmax"] = z_max;
        pdd_max = std::max(pdd_max, worst);
        pdd_max_z = std::max(pdd_max_z, z_max);
        dmax_max = std::max(dmax_max, std::abs(dc - dm));
      } else {
        e["axis"] = io::to_string(cv.axis);
        e["depth_cm"] = cv.depth_cm;
        // Measured: relative to its value on the axis; computed: scaled to it by least
        // squares over the points above half the measured maximum.
        const double am = interp(cv.position_cm, ym, 0.0);
        for (double& v : ym) v /= am;
        const double ymax = *std::max_element(ym.begin(), ym.end());
        double sxy = 0, sxx = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (ym[i] >= 0.5 * ymax) {
            sxy += mc[i] * ym[i];
            sxx += mc[i] * mc[i];
          }
        const double k = sxx > 0 ? sxy / sxx : 1;
        for (double& v : mc) v *= k;
        // The nominal edge at the profile's depth (divergence from the source), as the start of
        // the inflection search; the diagonal's edge is the corner.
        const double half = nominal_edge_cm(cv, bank.machine_sad_cm());
        const ProfileFigures fm = profile_figures(cv.position_cm, ym, half),
                             fc = profile_figures(cv.position_cm, mc, half);
        if (fm.ok && fc.ok) {
          e["field_size_measured_cm"] = fm.size_cm;
          e["field_size_computed_cm"] = fc.size_cm;
          e["penumbra_measured_cm"] = fm.penumbra_cm;
          e["penumbra_computed_cm"] = fc.penumbra_cm;
          size_max = std::max(size_max, std::abs(fc.size_cm - fm.size_cm));
          pen_max = std::max(pen_max, std::abs(fc.penumbra_cm - fm.penumbra_cm));
        }
      }
      const double g = gamma_pass_rate(cv.position_cm, ym, mc, 0.01, 0.1);
      e["gamma_1pct_1mm_pass"] = g;
      gamma_min = std::min(gamma_min, g);
      e["position_cm"] = cv.position_cm;
      e["measured"] = ym;
      e["computed"] = mc;
      curves.push_back(e);
    }
    for (int oi : s.output_factors) {
      const auto& o = data.output_factors[std::size_t(oi)];
      of.push_back({y[j], c.value[j], std::hypot(sr[j], c.value[j] > 0 ? c.sigma[j] / c.value[j] : 0.0), o.field_x_cm,
                    o.field_y_cm, o.ssd_cm, o.depth_cm, o.source});
      ++j;
    }
  }
  double of_max_small = 0, of_max = 0;
  if (!of.empty()) {
    // Normalised at the 10 x 10 cm2 field when the data have it, else the best common scale.
    double scale = 0;
    const Of* norm_of = nullptr;
    std::string norm = "least-squares scale (no 10 x 10 cm2 output factor)";
    for (const auto& o : of)
      if (std::abs(o.fx - 10) < 1e-6 && std::abs(o.fy - 10) < 1e-6) {
        scale = o.y / o.m;
        norm_of = &o;  // its own noise enters every other field's difference
        norm = "the 10 x 10 cm2 field";
      }
    if (scale == 0) {
      double a = 0, b = 0;
      for (const auto& o : of) { a += o.y * o.m; b += o.m * o.m; }
      scale = a / b;
    }
    for (const auto& o : of) {
      const double d = scale * o.m / o.y - 1;
      // The normalising field's difference is 0 by construction.
      const double sd = &o == norm_of ? 0.0 : std::hypot(o.rel_sigma, norm_of ? norm_of->rel_sigma : 0.0);
      ofs.push_back({{"field_cm", {o.fx, o.fy}}, {"ssd_cm", o.ssd}, {"depth_cm", o.depth}, {"measured", o.y},
                     {"computed", scale * o.m}, {"rel_diff", d}, {"rel_diff_sigma", sd}, {"source", o.src}});
      if (std::min(o.fx, o.fy) < 1.5) of_max_small = std::max(of_max_small, std::abs(d));
      else of_max = std::max(of_max, std::abs(d));
    }
    r.report["output_factor_normalisation"] = norm;
  }
  r.report["curves"] = curves;
  r.report["output_factors"] = ofs;
  r.report["summary"] = {{"pdd_max_abs_diff_beyond_dmax", pdd_max},
                         {"pdd_max_abs_diff_over_sigma_beyond_dmax", pdd_max_z},
                         {"dmax_max_abs_diff_cm", dmax_max},
                         {"field_size_max_abs_diff_cm", size_max},
                         {"penumbra_max_abs_diff_cm", pen_max},
                         {"output_factor_max_abs_rel_diff", of_max},
                         {"output_factor_max_abs_rel_diff_below_1_5cm", of_max_small},
                         {"gamma_1pct_1mm_min_pass_rate", gamma_min}};
}

void write_outputs(const Options& opt, const Result& r, const BasisBank&) {
  std::vector<std::unique_ptr<OutputFile>> files;
  if (!opt.output.empty()) {
    files.push_back(std::make_unique<OutputFile>(opt.output));
    {
      std::ofstream f(files.back()->temp_path());
      f << r.machine_text;
      f.close();
      if (!f) throw RuntimeError(opt.output + ": cannot write");
    }
    // The written file must read back as a machine file (never land a broken one).
    beams::load_machine(files.back()->temp_path());
  }
  if (!opt.report_dir.empty()) {
    fs::create_directories(fs::path(opt.report_dir) / "plots");
    auto add = [&](const std::string& name) {
      files.push_back(std::make_unique<OutputFile>((fs::path(opt.report_dir) / name).string()));
      return files.back()->temp_path();
    };
    {
      std::ofstream f(add("report.json"));
      f << r.report.dump(1) << "\n";
      f.close();
      if (!f) throw RuntimeError(opt.report_dir + "/report.json: cannot write (disk full or write error)");
    }
    std::ostringstream md, csv;
    csv << "curve,kind,position_cm,measured,computed\n";
    const json& rp = r.report;
    md << "# Commissioning report: " << rp.value("beam", "") << " of " << rp.value("machine_file", "") << "\n\n";
    md << "Measured data: ";
    for (const auto& m : rp["measured"]) md << "`" << m.get<std::string>() << "` ";
    md << "\n\n## Parameters\n\n| parameter | before | after |\n|---|---|---|\n";
    const auto& a = r.before;
    const auto& b = r.after;
    auto row = [&](const std::string& n, double x, double y) { md << "| " << n << " | " << fmt(x, 4) << " | " << fmt(y, 4) << " |\n"; };
    row("focal-spot sigma [cm]", a.primary.sigma_x_cm, b.primary.sigma_x_cm);
    row("extra-focal weight", a.extrafocal.weight, b.extrafocal.weight);
    row("electron weight", a.electron.weight, b.electron.weight);
    row("electron mean energy [MeV]", a.electron.mean_energy_mev, b.electron.mean_energy_mev);
    auto mean = [](const beams::BeamModel& m) {
      double s = 0;
      for (std::size_t i = 0; i < m.spectrum_weights.size(); ++i) s += m.spectrum_weights[i] * m.spectrum_energies_mev[i];
      return s;
    };
    row("spectrum mean energy [MeV] (bin centres)", mean(a), mean(b));
    row("backscatter k_x", a.calibration.backscatter_kx, b.calibration.backscatter_kx);
    row("backscatter k_y", a.calibration.backscatter_ky, b.calibration.backscatter_ky);
    if (!r.mlc_device.empty()) {
      row("leaf offset [cm]", r.leaf_offset_before_cm, r.leaf_offset_cm);
      row("interleaf gap [cm]", r.gap_before_cm, r.gap_cm);
    }
    md << "\nOff-axis fluence (r [cm]: before -> after): ";
    for (std::size_t i = 0; i < b.fluence_r_cm.size(); ++i)
      md << fmt(b.fluence_r_cm[i]) << ": " << fmt(a.fluence_rel[i]) << " -> " << fmt(b.fluence_rel[i]) << "; ";
    md << "\n\n## Stages (fit residuals)\n\n| stage | chi2 | points |\n|---|---|---|\n";
    for (const auto& s : rp["stages"])
      md << "| " << s.value("stage", "") << " | " << (s.contains("chi2") ? fmt(s["chi2"].get<double>(), 4) : "-")
         << " | " << (s.contains("points") ? std::to_string(s["points"].get<long>()) : "-") << " |\n";
    if (rp.contains("summary")) {
      const auto& s = rp["summary"];
      md << "\n## The fitted model against the data\n\n";
      md << "Fit quality: these are the data the model was fitted on, not an independent validation.\n\n";
      md << "| figure | worst |\n|---|---|\n";
      md << "| depth dose beyond d_max, max abs difference | " << fmt(100 * s["pdd_max_abs_diff_beyond_dmax"].get<double>()) << " % |\n";
      if (s.contains("pdd_max_abs_diff_over_sigma_beyond_dmax"))
        md << "| depth dose beyond d_max, max abs difference / its 1 sigma (data and report run) | "
           << fmt(s["pdd_max_abs_diff_over_sigma_beyond_dmax"].get<double>()) << " |\n";
      md << "| d_max, max abs difference | " << fmt(10 * s["dmax_max_abs_diff_cm"].get<double>()) << " mm |\n";
      md << "| inflection field size, max abs difference | " << fmt(10 * s["field_size_max_abs_diff_cm"].get<double>()) << " mm |\n";
      md << "| 80-20 % penumbra, max abs difference | " << fmt(10 * s["penumbra_max_abs_diff_cm"].get<double>()) << " mm |\n";
      md << "| output factors >= 1.5 cm, max abs difference | " << fmt(100 * s["output_factor_max_abs_rel_diff"].get<double>()) << " % |\n";
      md << "| output factors < 1.5 cm, max abs difference | " << fmt(100 * s["output_factor_max_abs_rel_diff_below_1_5cm"].get<double>()) << " % |\n";
      md << "| gamma 1 %/1 mm, lowest pass rate of a curve | " << fmt(100 * s["gamma_1pct_1mm_min_pass_rate"].get<double>()) << " % |\n";
      md << "\n## Curves\n\n| # | curve | field [cm] | SSD | depth | figures | gamma 1%/1mm | plot |\n|---|---|---|---|---|---|---|---|\n";
      int k = 0;
      for (const auto& c : rp["curves"]) {
        ++k;
        std::string figs;
        if (c.contains("dmax_measured_cm"))
          figs = "d_max " + fmt(c["dmax_measured_cm"].get<double>()) + " / " + fmt(c["dmax_computed_cm"].get<double>()) +
                 " cm; beyond: " + fmt(100 * c["max_abs_diff_beyond_dmax"].get<double>()) + " %" +
                 (c.contains("sigma_at_max_abs_diff")
                      ? " (1 sigma there " + fmt(100 * c["sigma_at_max_abs_diff"].get<double>()) + " %; largest |diff| / sigma " +
                            fmt(c["max_abs_diff_over_sigma_beyond_dmax"].get<double>()) + ")"
                      : std::string());
        if (c.contains("field_size_measured_cm"))
          figs = "size " + fmt(c["field_size_measured_cm"].get<double>(), 4) + " / " +
                 fmt(c["field_size_computed_cm"].get<double>(), 4) + " cm; penumbra " +
                 fmt(10 * c["penumbra_measured_cm"].get<double>()) + " / " + fmt(10 * c["penumbra_computed_cm"].get<double>()) + " mm";
        char name[32];
        std::snprintf(name, sizeof name, "plots/curve_%02d.png", k);
        md << "| " << k << " | " << c["kind"].get<std::string>() << (c.contains("axis") ? " " + c["axis"].get<std::string>() : "")
           << " | " << fmt(c["field_cm"][0].get<double>()) << " x " << fmt(c["field_cm"][1].get<double>()) << " | "
           << fmt(c["ssd_cm"].get<double>()) << " | " << (c.contains("depth_cm") ? fmt(c["depth_cm"].get<double>()) : "-")
           << " | " << figs << " | " << fmt(100 * c["gamma_1pct_1mm_pass"].get<double>()) << " % | ![](" << name << ") |\n";
        const auto x = c["position_cm"].get<std::vector<double>>();
        const auto ym = c["measured"].get<std::vector<double>>();
        const auto mc = c["computed"].get<std::vector<double>>();
        for (std::size_t i = 0; i < x.size(); ++i)
          csv << k << "," << c["kind"].get<std::string>() << "," << x[i] << "," << ym[i] << "," << mc[i] << "\n";
        viz::Series sm{x, ym, viz::Rgb{0, 0, 0}, true}, sc{x, mc, viz::Rgb{20, 40, 200}, false};
        const bool pdd = c["kind"].get<std::string>() == "depth_dose";
        viz::write_png(add(name), viz::line_plots({sm, sc}, pdd ? 1.0 : 1.0, pdd ? "depth (cm)" : "off-axis (cm)",
                                                  "relative dose: measured (black), sabre (blue)"));
      }
      if (!rp["output_factors"].empty()) {
        md << "\n## Output factors (normalised at " << rp.value("output_factor_normalisation", "") << ")\n\n"
           << "| field [cm] | measured | sabre | difference | its 1 sigma (data, report run, normalisation) |\n"
           << "|---|---|---|---|---|\n";
        for (const auto& o : rp["output_factors"])
          md << "| " << fmt(o["field_cm"][0].get<double>()) << " x " << fmt(o["field_cm"][1].get<double>()) << " | "
             << fmt(o["measured"].get<double>(), 4) << " | " << fmt(o["computed"].get<double>(), 4) << " | "
             << fmt(100 * o["rel_diff"].get<double>()) << " % | "
             << (o.contains("rel_diff_sigma") ? fmt(100 * o["rel_diff_sigma"].get<double>()) + " %" : std::string("-"))
             << " |\n";
      }
    }
    if (rp.contains("mlc")) md << "\n## MLC\n\n```\n" << rp["mlc"].dump(1) << "\n```\n";
    const auto& cost = rp["cost"];
    md << "\n## Cost\n\n" << cost.value("basis_runs", 0) << " Monte Carlo runs (" << cost.value("basis_cache_hits", 0)
       << " more read from the cache), " << fmt(cost.value("basis_seconds", 0.0), 4) << " s of them; "
       << fmt(cost.value("total_seconds", 0.0), 4) << " s in all.\n";
    {
      std::ofstream f(add("report.md"));
      f << md.str();
      f.close();
      if (!f) throw RuntimeError(opt.report_dir + "/report.md: cannot write (disk full or write error)");
    }
    {
      std::ofstream f(add("curves.csv"));
      f << csv.str();
      f.close();
      if (!f) throw RuntimeError(opt.report_dir + "/curves.csv: cannot write (disk full or write error)");
    }
  }
  for (auto& f : files) f->commit();
}

}  // namespace sabre::commission
