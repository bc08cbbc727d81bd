#include "engine/dose_to_water.hh"

#include <algorithm>
#include <cmath>

#include "core/errors.hh"
#include "physics/photon/klein_nishina.hh"

namespace sabre {

namespace {

double compton_edge(double e) {
  const double kappa = e / phys::kElectronMassMeV;
  return e * 2 * kappa / (1 + 2 * kappa);
}

// Electrons started per unit kinetic energy at T by photons of energy e (Klein-Nishina, per
// electron of the medium: the medium's electron density is a common factor that cancels).
double compton_electrons_per_mev(double e, double t) {
  if (!(t > 0) || t >= compton_edge(e)) return 0;
  const double eps = 1 - t / e;  // k'/k
  return phys::klein_nishina_dsigma_deps_cm2(e, eps) / e;
}

// The part of the average that depends on the beam only: a log grid of kinetic energies, the
// electrons started above each (R(T) = int_T^top N dT', trapezoids) and each point's width.
struct StartedElectrons {
  std::vector<double> t, above, width;
};

StartedElectrons started_electrons(const phys::MaterialTables& tables, const std::vector<double>& energies,
                                   const std::vector<double>& weights) {
  if (energies.empty() || energies.size() != weights.size())
    throw InputError(tables.path(), "dose to water: the beam has no photon spectrum to average over");
  double e_max = 0;
  for (std::size_t k = 0; k < energies.size(); ++k)
    if (weights[k] > 0) e_max = std::max(e_max, energies[k]);
  const double t_top = compton_edge(e_max);
  const double t_low = std::max(0.01, tables.data().charged[phys::kElectron].dedx_collision.grid.energy(0));
  StartedElectrons s;
  if (!(t_top > t_low)) return s;
  constexpr int kN = 4000;
  const double dl = std::log(t_top / t_low) / (kN - 1);
  std::vector<double> n_start(kN);
  s.t.resize(kN);
  for (int j = 0; j < kN; ++j) {
    s.t[j] = t_low * std::exp(j * dl);
    double sum = 0;
    for (std::size_t k = 0; k < energies.size(); ++k)
      if (weights[k] > 0) sum += weights[k] * compton_electrons_per_mev(energies[k], s.t[j]);
    n_start[j] = sum;
  }
  s.above.assign(kN, 0.0);
  s.width.resize(kN);
  for (int j = kN - 1; j >= 0; --j) {
    if (j < kN - 1) s.above[j] = s.above[j + 1] + 0.5 * (n_start[j] + n_start[j + 1]) * (s.t[j + 1] - s.t[j]);
    s.width[j] = j == 0 ? s.t[1] - s.t[0] : j == kN - 1 ? s.t[j] - s.t[j - 1] : 0.5 * (s.t[j + 1] - s.t[j - 1]);
  }
  return s;
}

int water_index(const phys::MaterialTables& tables) {
  const int water = tables.find("water");
  if (water < 0) throw InputError(tables.path(), "no material 'water': dose to water needs its stopping powers");
  return water;
}

// The two integrals of Phi = R / S_tot,m for one material.
double ratio(const phys::MaterialTables& tables, int water, int material, const StartedElectrons& s) {
  if (material == water || s.t.empty()) return 1.0;
  const phys::ChargedData& el = tables.data().charged[phys::kElectron];
  double num = 0, den = 0;
  for (std::size_t j = s.t.size(); j-- > 0;) {
    const double phi = s.above[j] / el.dedx_total(material, s.t[j]);
    num += phi * el.dedx_collision(water, s.t[j]) * s.width[j];
    den += phi * el.dedx_collision(material, s.t[j]) * s.width[j];
  }
  return den > 0 ? num / den : 1.0;
}

}  // namespace

double water_to_medium_stopping_power_ratio(const phys::MaterialTables& tables, int material,
                                            const std::vector<double>& energies,
                                            const std::vector<double>& weights) {
  const int water = water_index(tables);
  if (material == water) return 1.0;
  return ratio(tables, water, material, started_electrons(tables, energies, weights));
}

std::vector<double> water_to_medium_factors(const phys::MaterialTables& tables,
                                            const std::vector<std::string>& material_names,
                                            const std::vector<double>& energies,
                                            const std::vector<double>& weights) {
  const int water = water_index(tables);
  const StartedElectrons s = started_electrons(tables, energies, weights);
  std::vector<double> f;
  f.reserve(material_names.size());
  for (const auto& name : material_names) f.push_back(ratio(tables, water, tables.index(name), s));
  return f;
}

}  // namespace sabre
