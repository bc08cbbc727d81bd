// The physics table generator. Formulas and references: docs/tables.md; each function
// names its source below.
#include "physics/tables/table_builder.hh"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/errors.hh"
#include "physics/core/constants.hh"
#include "physics/electron/delta_ray.hh"

namespace sabre::phys::tables {
namespace {

constexpr double kMc2 = kElectronMassMeV;
// 2 pi r_e^2 m c^2 [MeV cm^2]
constexpr double kTwoPiRe2Mc2 = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm * kMc2;
constexpr double kMillibarnCm2 = 1e-27;

// 8-point Gauss-Legendre nodes and weights on [-1, 1] (Abramowitz & Stegun, Table 25.4).
constexpr double kGlX[8] = {-0.9602898564975363, -0.7966664774136267, -0.5255324099163290,
                            -0.1834346424956498, 0.1834346424956498,  0.5255324099163290,
                            0.7966664774136267,  0.9602898564975363};
constexpr double kGlW[8] = {0.1012285362903763, 0.2223810344533745, 0.3137066458778873,
                            0.3626837833783620, 0.3626837833783620, 0.3137066458778873,
                            0.2223810344533745, 0.1012285362903763};

double beta2_of(double t_mev) {
  const double g = 1 + t_mev / kMc2;
  return 1 - 1 / (g * g);
}

// Integral of the piecewise-linear chi(kappa) from 0 to kmax.
double integral_chi(const std::vector<double>& kappa, const std::vector<double>& chi, double kmax) {
  double s = 0;
  for (std::size_t k = 0; k + 1 < kappa.size(); ++k) {
    const double a = kappa[k], b = kappa[k + 1];
    if (a >= kmax) break;
    const double hi = std::min(b, kmax);
    const double chi_hi = chi[k] + (chi[k + 1] - chi[k]) * (hi - a) / (b - a);
    s += 0.5 * (chi[k] + chi_hi) * (hi - a);
  }
  return s;
}

// Integral of chi(kappa)/kappa from kmin > 0 to 1 (chi linear on each segment).
double integral_chi_over_kappa(const std::vector<double>& kappa, const std::vector<double>& chi,
                               double kmin) {
  double s = 0;
  for (std::size_t k = 0; k + 1 < kappa.size(); ++k) {
    const double a = kappa[k], b = kappa[k + 1];
    if (b <= kmin) continue;
    const double lo = std::max(a, kmin);
    const double chi_lo = chi[k] + (chi[k + 1] - chi[k]) * (lo - a) / (b - a);
    const double slope = (chi[k + 1] - chi_lo) / (b - lo);
    s += (chi_lo - slope * lo) * std::log(b / lo) + slope * (b - lo);
  }
  return s;
}

double interp_chi(const std::vector<double>& kappa, const std::vector<double>& chi, double x) {
  if (x <= kappa.front()) return chi.front();
  if (x >= kappa.back()) return chi.back();
  const auto j = static_cast<std::size_t>(std::upper_bound(kappa.begin(), kappa.end(), x) - kappa.begin());
  const std::size_t i = j - 1;
  return chi[i] + (chi[j] - chi[i]) * (x - kappa[i]) / (kappa[j] - kappa[i]);
}

LogGrid make_grid(double e_min_mev, double e_max_mev, int n) {
  LogGrid g;
  g.ln_e0 = std::log(e_min_mev);
  g.inv_dln = (n - 1) / std::log(e_max_mev / e_min_mev);
  g.n = n;
  return g;
}

}  // namespace

Cuts default_cuts() {
  Cuts c;
  c.electron_production_mev = 0.700 - 0.511;  // EGSnrc AE = 0.700 MeV total, m c^2 = 0.511
  c.electron_absorption_mev = 0.700 - 0.511;  // EGSnrc ECUT = 0.700 MeV total
  c.photon_production_mev = 0.010;            // AP
  c.photon_absorption_mev = 0.010;            // PCUT
  return c;
}

// Grids: 1 keV - 25 MeV, 360 intervals (35.7 per e-fold, ln-step 0.028); the alias grid
// has 90 intervals. Chosen so that the linear-in-ln(E) interpolation error stays below
// 0.2 % (measured in tests/physics/tables/table_interpolation_test.cc).
LogGrid photon_grid() { return make_grid(1e-3, 25.0, 361); }
LogGrid charged_grid() { return make_grid(1e-3, 25.0, 361); }
LogGrid alias_grid() { return make_grid(1e-3, 25.0, 91); }

// ------------------------------------------------------------------ MaterialPhysics

MaterialPhysics::MaterialPhysics(const MaterialSpec& spec, const RawData& raw, const Cuts& cuts)
    : spec_(spec), raw_(&raw), cuts_(cuts) {
  for (const auto& [z, w] : spec_.mass_fractions) {
    const double atoms = w * kAvogadro / element_by_z(z)->atomic_weight_g_mol;
    atoms_.push_back(atoms);
    n_el_ += atoms * z;
  }
  if (spec_.delta.empty()) {
    // Sternheimer & Peierls, Phys. Rev. B 3 (1971) 3681: general formula for delta from I
    // and the plasma energy h-bar omega_p = 28.816 sqrt(rho <Z/A>) eV; m = 3.
    const double zovera = n_el_ / kAvogadro;
    const double plasma_ev = 28.816 * std::sqrt(spec_.density_g_cm3 * zovera);
    sp_c_ = 2 * std::log(spec_.i_ev / plasma_ev) + 1;
    const double c = sp_c_;
    if (spec_.density_g_cm3 < 0.01) {  // gases
      sp_x1_ = 4;
      if (c < 10) sp_x0_ = 1.6;
      else if (c < 10.5) sp_x0_ = 1.7;
      else if (c < 11) sp_x0_ = 1.8;
      else if (c < 11.5) sp_x0_ = 1.9;
      else if (c < 12.25) sp_x0_ = 2.0;
      else if (c < 13.804) { sp_x0_ = 2.0; sp_x1_ = 5; }
      else { sp_x0_ = 0.326 * c - 2.5; sp_x1_ = 5; }
    } else if (spec_.i_ev < 100) {  // solids and liquids
      sp_x1_ = 2;
      sp_x0_ = c < 3.681 ? 0.2 : 0.326 * c - 1.0;
    } else {
      sp_x1_ = 3;
      sp_x0_ = c < 5.215 ? 0.2 : 0.326 * c - 1.5;
    }
    sp_a_ = (c - 4.6052 * sp_x0_) / std::pow(sp_x1_ - sp_x0_, 3);
  }
}

double MaterialPhysics::mu_rho(int process, double e) const {
  double s = 0;
  for (std::size_t i = 0; i < atoms_.size(); ++i)
    s += atoms_[i] * raw_->xcom(process, spec_.mass_fractions[i].first).sigma_barn(e);
  return s * kBarnCm2;
}

double MaterialPhysics::mu_rho_total(double e) const {
  double s = 0;
  for (int p = 0; p < kNumPhotonProcesses; ++p) s += mu_rho(p, e);
  return s;
}

double MaterialPhysics::density_effect(double t) const {
  if (!spec_.delta.empty()) {
    // Linear in ln(T) between the file's points, clamped to its ends.
    const auto& x = spec_.delta_t_mev;
    const auto& d = spec_.delta;
    if (t <= x.front()) return d.front();
    if (t >= x.back()) return d.back();
    const auto j = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), t) - x.begin());
    const std::size_t i = j - 1;
    return d[i] + (d[j] - d[i]) * std::log(t / x[i]) / std::log(x[j] / x[i]);
  }
  const double tau = t / kMc2;
  const double x = std::log10(std::sqrt(tau * (tau + 2)));  // log10(beta gamma)
  if (x < sp_x0_) return 0;
  if (x < sp_x1_) return 4.6052 * x - sp_c_ + sp_a_ * std::pow(sp_x1_ - x, 3);
  return 4.6052 * x - sp_c_;
}

double MaterialPhysics::dedx_collision(int species, double t, double cut_mev) const {
  // ICRU Report 37 (1984) eqs. 2.1-2.4 in the restricted form of Seltzer & Berger,
  // Int. J. Appl. Radiat. Isot. 33 (1982) 1189 (also Nelson, Hirayama & Rogers, SLAC-265,
  // sec. 2.13): S = 2 pi r_e^2 mc^2 n_el / beta^2 [ln(2(tau+2)/(I/mc^2)^2) + F(tau, D) - delta],
  // D the largest energy transfer counted, in units of mc^2.
  const double tau = t / kMc2;
  const double gamma = tau + 1;
  const double beta2 = tau * (tau + 2) / (gamma * gamma);
  const double tmax = species == kPositron ? tau : 0.5 * tau;
  const double d = cut_mev > 0 ? std::min(cut_mev / kMc2, tmax) : tmax;
  const double i_mc2 = spec_.i_ev * 1e-6 / kMc2;
  double f;
  if (species == kPositron) {
    const double y = 1 / (tau + 2);
    f = std::log(tau * d) -
        beta2 / tau *
            (tau + 2 * d - 1.5 * d * d * y - (d - d * d * d / 3) * y * y -
             (0.5 * d * d - tau * d * d * d / 3 + 0.25 * d * d * d * d) * y * y * y);
  } else {
    f = -1 - beta2 + std::log((tau - d) * d) + tau / (tau - d) +
        (0.5 * d * d + (2 * tau + 1) * std::log(1 - d / tau)) / (gamma * gamma);
  }
  double l = std::log(2 * (tau + 2) / (i_mc2 * i_mc2)) + f - density_effect(t);
  // Bethe's formula fails for high-Z media at a few keV; keep the value positive there
  // (far below any transport cut).
  l = std::max(l, 1e-2);
  return kTwoPiRe2Mc2 * n_el_ / beta2 * l;
}

double MaterialPhysics::dedx_radiative(double t, double k_cut_mev) const {
  // Seltzer & Berger, At. Data Nucl. Data Tables 35 (1986) 345: per atom
  // S_rad/N = T (Z^2/beta^2) int_0^1 chi(T, kappa) dkappa, chi in mb; restricted: kappa < k_cut/T.
  const auto& sb = raw_->brems();
  const double kmax = k_cut_mev > 0 ? std::min(1.0, k_cut_mev / t) : 1.0;
  std::vector<double> chi;
  double s = 0;
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    const int z = spec_.mass_fractions[i].first;
    sb.chi_at(z, t, chi);
    s += atoms_[i] * double(z) * z * integral_chi(sb.kappa, chi, kmax);
  }
  return s * t / beta2_of(t) * kMillibarnCm2;
}

double MaterialPhysics::dedx_total(int species, double t) const {
  return dedx_collision(species, t, 0) + dedx_radiative(t, 0);
}

double MaterialPhysics::dedx_restricted(int species, double t) const {
  return dedx_collision(species, t, cuts_.electron_production_mev) +
         dedx_radiative(t, cuts_.photon_production_mev);
}

double MaterialPhysics::range_integral(int species, double a, double b, bool restricted) const {
  // int_a^b dT / S(T) = int T / S(T) d(ln T), 8-point Gauss-Legendre in ln T.
  const double la = std::log(a), lb = std::log(b);
  const double h = 0.5 * (lb - la), m = 0.5 * (lb + la);
  double s = 0;
  for (int k = 0; k < 8; ++k) {
    const double t = std::exp(m + h * kGlX[k]);
    const double dedx = restricted ? dedx_restricted(species, t) : dedx_total(species, t);
    s += kGlW[k] * t / dedx;
  }
  return s * h;
}

double MaterialPhysics::range(int species, double t, double e0, bool restricted) const {
  // Below e0: S ~ T^-p with p from the logarithmic slope at e0, so R(e0) = e0 / (S0 (1 + p))
  // (the ESTAR method also starts from such an estimate; it matters only near e0).
  auto s_at = [&](double e) { return restricted ? dedx_restricted(species, e) : dedx_total(species, e); };
  const double s0 = s_at(e0);
  double p = -std::log(s_at(e0 * 1.01) / s0) / std::log(1.01);
  p = std::clamp(p, 0.0, 0.95);
  double r = e0 / (s0 * (1 + p));
  if (t <= e0) return r * std::pow(t / e0, 1 + p);
  // Whole grid intervals, then the partial one (the same rule as the builder's cumulation).
  const LogGrid g = charged_grid();
  double lo = e0;
  for (int i = 1; i < g.n; ++i) {
    const double hi = g.energy(i);
    if (hi >= t) break;
    r += range_integral(species, lo, hi, restricted);
    lo = hi;
  }
  if (t > lo) r += range_integral(species, lo, t, restricted);
  return r;
}

double MaterialPhysics::sigma_hard_collision(int species, double t) const {
  const double w = cuts_.electron_production_mev;
  const double per_electron = species == kPositron ? bhabha_hard_xs(t, w) : moller_hard_xs(t, w);
  return per_electron * n_el_;
}

double MaterialPhysics::sigma_hard_brems(double t) const {
  // sigma(k > W_cr) per atom = (Z^2/beta^2) int_{W_cr/T}^1 chi(kappa)/kappa dkappa [mb]
  const double w = cuts_.photon_production_mev;
  if (t <= w) return 0;
  const auto& sb = raw_->brems();
  std::vector<double> chi;
  double s = 0;
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    const int z = spec_.mass_fractions[i].first;
    sb.chi_at(z, t, chi);
    s += atoms_[i] * double(z) * z * integral_chi_over_kappa(sb.kappa, chi, w / t);
  }
  return s / beta2_of(t) * kMillibarnCm2;
}

double MaterialPhysics::sigma_annihilation(int species, double t) const {
  if (species != kPositron) return 0;
  // Two-photon annihilation in flight on a free electron at rest, W. Heitler, The Quantum
  // Theory of Radiation (3rd ed., 1954), sec. 29:
  // sigma = pi r_e^2/(g+1) [ (g^2+4g+1)/(g^2-1) ln(g + sqrt(g^2-1)) - (g+3)/sqrt(g^2-1) ].
  const double g = 1 + t / kMc2;
  const double s = std::sqrt(g * g - 1);
  const double per_electron = kPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm / (g + 1) *
                              ((g * g + 4 * g + 1) / (g * g - 1) * std::log(g + s) - (g + 3) / s);
  return per_electron * n_el_;
}

namespace {
// Moliere's screening parameter (G. Moliere, Z. Naturforsch. 2a (1947) 133; in the form of
// H. A. Bethe, Phys. Rev. 89 (1953) 1256, eq. 2.6 with the Thomas-Fermi radius
// a = 0.885 a0 Z^-1/3): eta = (1/4) (alpha mc^2 / (0.885 pc))^2 Z^(2/3) [1.13 + 3.76 (alpha Z/beta)^2].
double moliere_eta(int z, double t) {
  const double pc2 = t * (t + 2 * kMc2);
  const double b2 = beta2_of(t);
  const double x = kFineStructure * kMc2 / 0.885;
  const double az = kFineStructure * z;
  return 0.25 * x * x / pc2 * std::cbrt(double(z) * z) * (1.13 + 3.76 * az * az / b2);
}
}  // namespace

double MaterialPhysics::msc_inv_lambda1(double t) const {
  // Screened Rutherford (Wentzel) cross section with Z(Z+1) for scattering on atomic
  // electrons: dsigma/dOmega = Z(Z+1) r_e^2 (mc^2/(p c beta))^2 / (1 - cos + 2 eta)^2, whose
  // first transport cross section is 2 pi Z(Z+1) r_e^2 (mc^2/(pc beta))^2 [ln(1+1/eta) - 1/(1+eta)].
  const double pc2 = t * (t + 2 * kMc2);
  const double k = kTwoPi * kClassicalElectronRadiusCm * kClassicalElectronRadiusCm * kMc2 * kMc2 /
                   (pc2 * beta2_of(t));
  double s = 0;
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    const int z = spec_.mass_fractions[i].first;
    const double eta = moliere_eta(z, t);
    s += atoms_[i] * double(z) * (z + 1) * (std::log1p(1 / eta) - 1 / (1 + eta));
  }
  return s * k;
}

double MaterialPhysics::msc_screening(double t) const {
  // Mixture: geometric mean of the elements' eta weighted by n_i Z_i (Z_i + 1).
  double num = 0, den = 0;
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    const int z = spec_.mass_fractions[i].first;
    const double wgt = atoms_[i] * double(z) * (z + 1);
    num += wgt * std::log(moliere_eta(z, t));
    den += wgt;
  }
  return std::exp(num / den);
}

std::vector<double> MaterialPhysics::brems_u_spectrum(double t, int bins) const {
  // Density in u = ln(k/W)/ln(T/W) is proportional to sum_i n_i Z_i^2 chi_i(T, kappa(u)),
  // kappa(u) = (W/T)^(1-u). 8-point Gauss-Legendre per bin.
  const double w = cuts_.photon_production_mev;
  std::vector<double> out(static_cast<std::size_t>(bins), 0.0);
  if (t <= w) return out;
  const auto& sb = raw_->brems();
  std::vector<double> mix(sb.kappa.size(), 0.0), chi;
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    const int z = spec_.mass_fractions[i].first;
    sb.chi_at(z, t, chi);
    for (std::size_t k = 0; k < mix.size(); ++k) mix[k] += atoms_[i] * double(z) * z * chi[k];
  }
  const double lnr = std::log(t / w);
  double total = 0;
  for (int b = 0; b < bins; ++b) {
    const double h = 0.5 / bins, m = (b + 0.5) / bins;
    double s = 0;
    for (int k = 0; k < 8; ++k) {
      const double u = m + h * kGlX[k];
      const double kappa = (w / t) * std::exp(u * lnr);
      s += kGlW[k] * interp_chi(sb.kappa, mix, kappa);
    }
    out[static_cast<std::size_t>(b)] = s * h;
    total += s * h;
  }
  for (auto& v : out) v /= total;
  return out;
}

// -------------------------------------------------------------------------- builder

void build_alias(const std::vector<double>& p, double* prob, std::int32_t* alias) {
  // Vose's stable construction of Walker's alias table (deterministic order).
  const int n = static_cast<int>(p.size());
  double sum = 0;
  for (double v : p) sum += v;
  std::vector<double> q(p.size());
  std::vector<int> small, large;
  for (int i = 0; i < n; ++i) {
    q[i] = p[i] * n / sum;
    (q[i] < 1 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const int l = small.back();
    small.pop_back();
    const int g = large.back();
    large.pop_back();
    prob[l] = q[l];
    alias[l] = g;
    q[g] = (q[g] + q[l]) - 1;
    (q[g] < 1 ? small : large).push_back(g);
  }
  for (int i : large) { prob[i] = 1; alias[i] = i; }
  for (int i : small) { prob[i] = 1; alias[i] = i; }  // rounding leftovers
}

TableSet build_tables(const BuildOptions& opt) {
  const Cuts& c = opt.cuts;
  auto check_cut = [](double v, const char* what) {
    if (!(v >= 1e-3 && v <= 1.0))
      throw InputError(std::string("cut ") + what + " = " + std::to_string(v) +
                       " MeV is outside the supported range 0.001-1 MeV");
  };
  check_cut(c.electron_production_mev, "electron production");
  check_cut(c.photon_production_mev, "photon production");
  check_cut(c.electron_absorption_mev, "electron absorption");
  check_cut(c.photon_absorption_mev, "photon absorption");

  RawData raw(opt.source_dir);
  std::vector<MaterialSpec> specs;
  const auto& names = opt.materials.empty() && opt.user_materials.empty() ? default_material_set()
                                                                          : opt.materials;
  for (const auto& n : names) specs.push_back(resolve_material(raw, n));
  for (const auto& u : opt.user_materials) specs.push_back(parse_user_material(u));
  std::set<std::string> seen;
  for (const auto& s : specs)
    if (!seen.insert(s.name).second)
      throw InputError("material '" + s.name + "' requested twice");

  TableSet t;
  t.set_name = opt.set_name;
  t.cuts = c;
  t.photon_grid = photon_grid();
  t.charged_grid = charged_grid();
  t.alias_grid = alias_grid();
  t.alias_bins = kAliasBins;
  const int nm = static_cast<int>(specs.size());
  const int np = t.photon_grid.n, nc = t.charged_grid.n, na = t.alias_grid.n;
  for (auto& v : t.photon) v.assign(static_cast<std::size_t>(nm) * np, 0.0);
  t.photon_total.assign(static_cast<std::size_t>(nm) * np, 0.0);
  t.photon_majorant.assign(static_cast<std::size_t>(np), 0.0);
  for (auto& s : t.charged)
    for (auto& v : s) v.assign(static_cast<std::size_t>(nm) * nc, 0.0);
  t.alias_prob.assign(static_cast<std::size_t>(nm) * na * kAliasBins, 0.0);
  t.alias_index.assign(static_cast<std::size_t>(nm) * na * kAliasBins, 0);
  t.composition_offset.push_back(0);

  for (int m = 0; m < nm; ++m) {
    const MaterialSpec& spec = specs[static_cast<std::size_t>(m)];
    t.names.push_back(spec.name);
    t.definitions.push_back(spec.definition);
    t.density_g_cm3.push_back(spec.density_g_cm3);
    t.i_value_ev.push_back(spec.i_ev);
    for (const auto& [z, w] : spec.mass_fractions) {
      t.composition_z.push_back(z);
      t.composition_w.push_back(w);
    }
    t.composition_offset.push_back(static_cast<std::int32_t>(t.composition_z.size()));
    const MaterialPhysics mp(spec, raw, c);

    for (int i = 0; i < np; ++i) {
      const double e = t.photon_grid.energy(i);
      const std::size_t k = static_cast<std::size_t>(m) * np + i;
      double total = 0;
      for (int p = 0; p < kNumPhotonProcesses; ++p) {
        t.photon[p][k] = mp.mu_rho(p, e);
        total += t.photon[p][k];
      }
      t.photon_total[k] = total;
      t.photon_majorant[i] = std::max(t.photon_majorant[i], total);
    }

    for (int s = 0; s < kNumChargedSpecies; ++s) {
      auto& q = t.charged[s];
      const double e0 = t.charged_grid.energy(0);
      double r_res = mp.range(s, e0, e0, true);
      double r_csda = mp.range(s, e0, e0, false);
      for (int i = 0; i < nc; ++i) {
        const double e = t.charged_grid.energy(i);
        const std::size_t k = static_cast<std::size_t>(m) * nc + i;
        if (i > 0) {
          const double lo = t.charged_grid.energy(i - 1);
          r_res += mp.range_integral(s, lo, e, true);
          r_csda += mp.range_integral(s, lo, e, false);
        }
        const double col_r = mp.dedx_collision(s, e, c.electron_production_mev);
        const double rad_r = mp.dedx_radiative(e, c.photon_production_mev);
        const double col = mp.dedx_collision(s, e, 0);
        const double rad = mp.dedx_radiative(e, 0);
        q[0][k] = col_r + rad_r;
        q[1][k] = col_r;
        q[2][k] = rad_r;
        q[3][k] = r_res;
        q[4][k] = mp.sigma_hard_collision(s, e);
        q[5][k] = mp.sigma_hard_brems(e);
        q[6][k] = mp.sigma_annihilation(s, e);
        q[7][k] = mp.msc_inv_lambda1(e);
        q[8][k] = mp.msc_screening(e);
        q[9][k] = col;
        q[10][k] = rad;
        q[11][k] = col + rad;
        q[12][k] = r_csda;
      }
    }

    for (int i = 0; i < na; ++i) {
      const double e = t.alias_grid.energy(i);
      const std::size_t row = (static_cast<std::size_t>(m) * na + i) * kAliasBins;
      std::vector<double> p = mp.brems_u_spectrum(e, kAliasBins);
      if (e <= c.photon_production_mev) p.assign(kAliasBins, 1.0);  // unused rows: uniform
      build_alias(p, &t.alias_prob[row], &t.alias_index[row]);
    }
  }
  t.sources = raw.sources();
  return t;
}

}  // namespace sabre::phys::tables
