#include "engine/dose_to_water.hh"

#include <algorithm>
#include <cmath>

#include "core/errors.hh"
#include "physics/photon/klein_nishina.hh"

namespace sabre {

namespace {

// Electrons started per unit kinetic energy at T by photons of energy e (Klein-Nishina, per
// electron of the medium: the medium's electron density is a common factor that cancels).
double compton_electrons_per_mev(double e, double t) {
  const double kappa = e / phys::kElectronMassMeV;
  const double t_max = e * 2 * kappa / (1 + 2 * kappa);  // Compton edge
  if (!(t > 0) || t >= t_max) return 0;
  const double eps = 1 - t / e;  // k'/k
  return phys::klein_nishina_dsigma_deps_cm2(e, eps) / e;
}

}  // namespace

double water_to_medium_stopping_power_ratio(const phys::MaterialTables& tables, int material,
                                            const std::vector<double>& energies,
                                            const std::vector<double>& weights) {
  const int water = tables.find("water");
  if (water < 0) throw InputError(tables.path(), "no material 'water': dose to water needs its stopping powers");
  if (material == water) return 1.0;
  if (energies.empty() || energies.size() != weights.size())
    throw InputError(tables.path(), "dose to water: the beam has no photon spectrum to average over");
  const phys::ChargedData& el = tables.data().charged[phys::kElectron];
  double e_max = 0;
  for (std::size_t k = 0; k < energies.size(); ++k)
    if (weights[k] > 0) e_max = std::max(e_max, energies[k]);
  const double kappa = e_max / phys::kElectronMassMeV;
  const double t_top = e_max * 2 * kappa / (1 + 2 * kappa);
  const double t_low = std::max(0.01, el.dedx_collision.grid.energy(0));
  if (!(t_top > t_low)) return 1.0;
  // Log grid of kinetic energies, downward sums of the started electrons.
  constexpr int kN = 4000;
  const double dl = std::log(t_top / t_low) / (kN - 1);
  std::vector<double> t(kN), n_start(kN);
  for (int j = 0; j < kN; ++j) {
    t[j] = t_low * std::exp(j * dl);
    double s = 0;
    for (std::size_t k = 0; k < energies.size(); ++k)
      if (weights[k] > 0) s += weights[k] * compton_electrons_per_mev(energies[k], t[j]);
    n_start[j] = s;
  }
  // R(T) = int_T^top N dT' (trapezoids), then the two integrals of Phi = R / S_tot,m.
  double above = 0, num = 0, den = 0;
  for (int j = kN - 1; j >= 0; --j) {
    if (j < kN - 1) above += 0.5 * (n_start[j] + n_start[j + 1]) * (t[j + 1] - t[j]);
    const double width = (j == 0 ? t[1] - t[0] : j == kN - 1 ? t[j] - t[j - 1] : 0.5 * (t[j + 1] - t[j - 1]));
    const double phi = above / el.dedx_total(material, t[j]);
    num += phi * el.dedx_collision(water, t[j]) * width;
    den += phi * el.dedx_collision(material, t[j]) * width;
  }
  return den > 0 ? num / den : 1.0;
}

std::vector<double> water_to_medium_factors(const phys::MaterialTables& tables,
                                            const std::vector<std::string>& material_names,
                                            const std::vector<double>& energies,
                                            const std::vector<double>& weights) {
  std::vector<double> f;
  f.reserve(material_names.size());
  for (const auto& name : material_names)
    f.push_back(water_to_medium_stopping_power_ratio(tables, tables.index(name), energies, weights));
  return f;
}

}  // namespace sabre
