// Class II condensed-history transport of electrons and positrons through the voxel
// phantom [M. J. Berger, "Monte Carlo calculation of the penetration and diffusion of fast
// charged particles", Methods Comput. Phys. 1 (1963) 135; class II as in EGS4/EGSnrc and
// PENELOPE]. Host and device (no allocation, no exceptions, no virtuals).
// Method, step control, references and limits: docs/electron-transport.md.
//
// CONTRACT with the transport loop (physics/transport/history.hh):
//   CondensedHistoryCharged is the `Charged` policy: its static transport(tp, p, rng,
//   scorer, stack) follows one e- or e+ (inside the grid, or on its surface moving in) to
//   its end, with the switches of tp.switches (delta_rays, bremsstrahlung,
//   multiple_scattering, annihilation_in_flight; there is no soft-loss straggling). It
//     - deposits the continuous (restricted) energy loss in every voxel the step crosses
//       (Scorer::deposit), the exact loss of each segment from the range table;
//     - pushes delta rays (electrons above the absorption cut), bremsstrahlung photons and
//       annihilation photons on the stack (push_or_deposit: never lost when full);
//       delta rays at or below the absorption cut go to Scorer::below_cut at once;
//     - ends a particle at or below cuts.electron_absorption_mev with Scorer::below_cut of
//       its kinetic energy where it stops; a positron then annihilates at rest
//       (rest_mass(+2 m c^2), two 511 keV photons pushed);
//     - ends a particle leaving the grid with Scorer::escape of its kinetic energy there;
//     - with range_rejection (an efficiency switch, docs/efficiency.md), plays a Russian
//       roulette once per electron track that cannot leave its voxel: killed (its energy
//       deposited there) or weight / survival with a negative correction in the voxel,
//       exact in expectation (range_roulette).
//   transport_charged() is the same with explicit ElectronOptions (e.g. the CSDA mode of the
//   path-length check) and returns per-track tallies (path length, steps).
//
// One step, all in mass thickness t [g/cm^2] (so nothing depends on density except through
// mass thickness: Fano's theorem holds for any density pattern of one material):
//   1. limits: energy loss <= estepe * E (range table, to the cut if that comes first);
//      G1 = int dt/lambda_1 <= msc_g1_max (estimated at the start energy); distance to the
//      next hard event sampled against sigma_max = max of the enabled hard cross sections
//      over the step's energy range (fictitious-event technique: exact for cross sections
//      varying along the step); with far_steps, an electron whose whole residual path
//      cannot reach another material or the grid's surface (the phantom's safety map,
//      physics/transport/step_safety.hh) has the G1 limit far_msc_g1_max instead;
//   2. E_end from the range table: R(E_end) = R(E) - t (inverting the interpolated table);
//   3. random hinge [J. M. Fernandez-Varea et al., NIM B 73 (1993) 447; PENELOPE-2008
//      manual sec. 4.1]: move tau (where the fraction xi of the step's G1 has accumulated,
//      msc_hinge_fraction), deflect by multiple scattering for the whole step
//      (physics/electron/msc.hh: two moments by default), move t - tau. Moving converts mass thickness to length
//      voxel by voxel with each voxel's density and deposits each voxel's loss there;
//   4. a step stops early where the material changes (a new step starts there with the new
//      material's tables; a hinge not yet reached is dropped) or where the grid ends;
//   5. at a hard-event candidate: real with probability sigma(E_end)/sigma_max, then
//      Moller/Bhabha delta ray, bremsstrahlung or (e+) annihilation in flight, chosen by
//      their cross sections at E_end (physics/electron/hard_events.hh).
// Random numbers per step: 1 (hard distance, when any hard process is on) + 1 (hinge) + 2
// (deflection) + 2 (real?, which) + the bounded samplers of a hard event; + 1 once per track
// for the range-rejection roulette.
#pragma once

#include <cmath>
#include <cstdint>

#include "physics/core/constants.hh"
#include "physics/core/direction.hh"
#include "physics/core/macros.hh"
#include "physics/core/particle.hh"
#include "physics/core/rng.hh"
#include "physics/electron/brems_sampling.hh"
#include "physics/electron/delta_ray.hh"
#include "physics/electron/hard_events.hh"
#include "physics/electron/msc.hh"
#include "physics/geometry/voxel_traversal.hh"
#include "physics/materials/material_data.hh"
#include "physics/transport/secondaries.hh"
#include "physics/transport/transport_params.hh"

namespace sabre::phys {

struct ElectronOptions {
  bool delta_rays = true;              // hard Moller/Bhabha events
  bool bremsstrahlung = true;          // hard bremsstrahlung events
  bool multiple_scattering = true;     // random-hinge deflections
  bool annihilation_in_flight = true;  // positrons: Heitler two-photon annihilation
  // CSDA check mode: the UNRESTRICTED total stopping power (range_csda table) and no hard
  // events at all, whatever the switches above say.
  bool csda_unrestricted = false;
  double estepe = 0.25;      // largest fractional energy loss per step (0 < estepe < 1)
  double msc_g1_max = 0.2;   // largest G1 = int ds/lambda_1 per step (~ 1 - <cos theta>)
  bool msc_two_moments = true;  // deflection with exact <P1> and <P2> (else <P1> only)
  // The Wentzel screening of each deflection from MaterialData::msc_wentzel (one log, one
  // exp) instead of the per-deflection Newton solve (physics/electron/msc.hh).
  bool msc_tables = true;
  // Range rejection with Russian roulette (see range_roulette below); survival in (0, 1].
  bool range_rejection = false;
  double range_rejection_survival = 0.125;
  // Longer steps away from interfaces (PhysicsSwitches::far_steps): used only where
  // TransportParams' phantom has a safety map.
  bool far_steps = false;
  double far_msc_g1_max = 1.0;
  // Checks only: radiative tallies of ChargedTrackResult (three table look-ups per step).
  bool tally_radiative = false;
};

SABRE_HD_INLINE ElectronOptions electron_options(const PhysicsSwitches& s) {
  ElectronOptions o;
  o.delta_rays = s.delta_rays;
  o.bremsstrahlung = s.bremsstrahlung;
  o.multiple_scattering = s.multiple_scattering;
  o.annihilation_in_flight = s.annihilation_in_flight;
  o.estepe = s.estepe;
  o.msc_g1_max = s.msc_g1_max;
  o.msc_two_moments = s.msc_two_moments;
  o.msc_tables = s.msc_tables;
  o.range_rejection = s.range_rejection;
  o.range_rejection_survival = s.range_rejection_survival;
  o.far_steps = s.far_steps;
  o.far_msc_g1_max = s.far_msc_g1_max;
  return o;
}

enum class ChargedFate : int {
  absorbed = 0,
  escaped = 1,
  annihilated_in_flight = 2,
  range_rejected = 3  // killed by the range-rejection roulette, energy deposited in its voxel
};

// Per-track tallies (for checks; cheap to keep).
struct ChargedTrackResult {
  ChargedFate fate = ChargedFate::absorbed;
  double path_cm = 0;      // geometric path length travelled in the grid [cm]
  double path_g_cm2 = 0;   // the same in mass thickness [g/cm^2]
  int steps = 0;           // condensed-history steps (including truncated ones)
  int hard_events = 0;     // real hard events
  // Radiative share of the continuous energy loss x weight [MeV] (soft bremsstrahlung,
  // k < W_cr, deposited locally); only with ElectronOptions::tally_radiative.
  double soft_radiative_mev = 0;
  // Track-length estimate of the energy radiated (hard + soft): int S_rad(E) dt over the
  // track [MeV] x weight. Its expectation is the mean radiated energy, with a far smaller
  // variance than counting photons; only with ElectronOptions::tally_radiative.
  double radiative_track_length_mev = 0;
};

// ---------------------------------------------------------------- table helpers

// Kinetic energy [MeV] whose range in `range` (material m) is r_g_cm2: the exact inverse of
// GridTable's linear-in-ln(E) interpolation (binary search on the monotonic row). Clamped
// to the grid's ends.
SABRE_HD inline double energy_from_range(const GridTable& range, int m, double r_g_cm2) {
  const int n = range.grid.n;
  const double* row = range.values + static_cast<long>(m) * n;
  if (!(r_g_cm2 > row[0])) return range.grid.energy(0);
  if (r_g_cm2 >= row[n - 1]) return range.grid.energy(n - 1);
  int lo = 0, hi = n - 1;  // row[lo] < r <= row[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) >> 1;
    if (row[mid] < r_g_cm2) lo = mid; else hi = mid;
  }
  const double f = (r_g_cm2 - row[lo]) / (row[hi] - row[lo]);
  return std::exp(range.grid.ln_e0 + (lo + f) / range.grid.inv_dln);
}

// The same inversion, searching from a bin hint (any bin; the search walks from it, a few
// bins for the energy changes of one step) instead of bisecting the whole row, and giving
// the result's point on the grid: ln E = ln_e0 + (bin + frac) / inv_dln, so that every
// table on this grid is read at E with GridTable::at(m, bin, frac), without a logarithm.
// The bracket row[bin] < r <= row[bin + 1] is unique, so E equals energy_from_range's.
SABRE_HD inline double energy_from_range_at(const GridTable& range, int m, double r_g_cm2,
                                            int& bin, double& frac) {
  const int n = range.grid.n;
  const double* row = range.values + static_cast<long>(m) * n;
  if (!(r_g_cm2 > row[0])) {
    bin = 0;
    frac = 0;
    return range.grid.energy(0);
  }
  if (r_g_cm2 >= row[n - 1]) {
    bin = n - 2;
    frac = 1;
    return range.grid.energy(n - 1);
  }
  int lo = bin < 0 ? 0 : (bin > n - 2 ? n - 2 : bin);
  while (row[lo] >= r_g_cm2) --lo;      // stops at 0 at the latest (row[0] < r)
  while (row[lo + 1] < r_g_cm2) ++lo;   // stops at n - 2 at the latest (r <= row[n-1])
  frac = (r_g_cm2 - row[lo]) / (row[lo + 1] - row[lo]);
  bin = lo;
  return std::exp(range.grid.ln_e0 + (lo + frac) / range.grid.inv_dln);
}

// Largest value of table row m between two located points (i_lo, f_lo) <= (i_hi, f_hi):
// the interpolant is piecewise linear in ln E, so the maximum is at an end or at a grid
// node in between.
SABRE_HD inline double table_max_between(const GridTable& t, int m, int i_lo, double f_lo,
                                         int i_hi, double f_hi) {
  double mx = t.at(m, i_lo, f_lo);
  const double hi = t.at(m, i_hi, f_hi);
  if (hi > mx) mx = hi;
  const double* row = t.values + static_cast<long>(m) * t.grid.n;
  for (int i = i_lo + 1; i <= i_hi; ++i)
    if (row[i] > mx) mx = row[i];
  return mx;
}

// Largest value of table row m over [e_lo_mev, e_hi_mev]: the interpolant is piecewise
// linear in ln E, so the maximum is at an end or at a grid node in between.
SABRE_HD inline double table_max_over(const GridTable& t, int m, double e_lo_mev,
                                      double e_hi_mev) {
  double f0, f1;
  const int i0 = t.grid.locate(e_lo_mev, f0);
  const int i1 = t.grid.locate(e_hi_mev, f1);
  return table_max_between(t, m, i0, f0, i1, f1);
}

// ---------------------------------------------------------------- moving along a step

enum class MoveEnd : int { done = 0, escaped = 1, material_change = 2 };

// Moves p by mass thickness t_g_cm2 [g/cm^2] along p.dir through the voxels of material m,
// depositing in each voxel the energy lost there: E(r) - E(r - dt) from the range table,
// where r_g_cm2 is p's residual range (updated). At the end (MoveEnd::done) the energy is
// e_end_mev when e_end_mev > 0 (the caller's exact end energy: the cut), else from the range.
// Stops early when the next voxel has another material (p at the boundary, *voxel = the new
// voxel) or leaves the grid (p on the surface). Voxels of zero density are crossed freely.
// `voxel` must hold p's voxel on entry. bin, frac: p's point on range's grid (any bin as
// a hint on entry); on return the point of the last energy from the range table (not
// updated when the step ends at e_end_mev).
template <class Scorer>
SABRE_HD MoveEnd move_mass(const TransportParams& tp, const GridTable& range, int m,
                           Particle& p, double& r_g_cm2, double t_g_cm2, double e_end_mev,
                           Scorer& scorer, ChargedTrackResult& res, std::int64_t& voxel,
                           int& bin, double& frac) {
  const GridGeometry& g = tp.phantom.grid;
  VoxelWalker w;
  // `voxel` holds p's voxel on entry: the walker starts there rather than relocating p from
  // its coordinates (at a boundary plane their rounding can put p back in the voxel it just
  // left, and a material change would then bounce it between the two for ever).
  if (!w.init_in(g, p.pos_cm, p.dir, voxel)) return MoveEnd::escaped;
  double left = t_g_cm2;
  for (;;) {
    const std::int64_t v = w.voxel(g);
    voxel = v;
    if (tp.phantom.material[v] != m) {
      p.pos_cm = w.position();
      return MoveEnd::material_change;
    }
    const double rho = tp.phantom.density_g_cm3[v];
    const double b_cm = w.to_boundary(g);
    if (!(left > 0) || (rho > 0 && b_cm * rho >= left)) {
      // The step ends in this voxel.
      const double s_cm = left > 0 ? left / rho : 0;
      w.advance(s_cm);
      res.path_cm += s_cm;
      res.path_g_cm2 += left > 0 ? left : 0;
      if (left > 0) r_g_cm2 -= left;
      const double e_new =
          e_end_mev > 0 ? e_end_mev : energy_from_range_at(range, m, r_g_cm2, bin, frac);
      const double de = p.energy_mev - e_new;
      if (de != 0) scorer.deposit(v, de * p.weight);
      p.energy_mev = e_new;
      p.pos_cm = w.position();
      return MoveEnd::done;
    }
    if (b_cm > 0) {
      const double dm = b_cm * rho;  // mass thickness of this voxel's chord [g/cm^2]
      res.path_cm += b_cm;
      if (dm > 0) {
        res.path_g_cm2 += dm;
        left -= dm;
        r_g_cm2 -= dm;
        const double e_new = energy_from_range_at(range, m, r_g_cm2, bin, frac);
        scorer.deposit(v, (p.energy_mev - e_new) * p.weight);
        p.energy_mev = e_new;
      }
    }
    if (!w.cross(g)) {
      p.pos_cm = w.position();
      return MoveEnd::escaped;
    }
  }
}

// ---------------------------------------------------------------- range rejection

// Shortest distance [cm] from pos to the faces of voxel v (pos inside v up to rounding;
// negative rounding gives a distance <= 0, which rejects nothing).
SABRE_HD_INLINE double distance_to_voxel_faces(const GridGeometry& g, std::int64_t v, Vec3 pos) {
  int i, j, k;
  g.indices(v, i, j, k);
  double d = pos.x - g.plane(0, i);
  const double c[5] = {g.plane(0, i + 1) - pos.x, pos.y - g.plane(1, j), g.plane(1, j + 1) - pos.y,
                       pos.z - g.plane(2, k), g.plane(2, k + 1) - pos.z};
  for (double x : c) d = x < d ? x : d;
  return d;
}

// Range rejection with Russian roulette (issue 20). An electron whose residual range to the
// absorption cut (restricted range: longer than any path it can take, since hard losses
// only shorten it) is below the mass thickness from it to the nearest face of its voxel
// cannot leave the voxel: everything it does from here lands in this voxel, except the
// bremsstrahlung photons it may still emit. Plain range rejection (deposit everything here)
// would put that radiated energy in this voxel too; here a roulette keeps it exact in
// expectation: with probability q the electron goes on with weight w / q (its photons carry
// the radiated energy of all the electrons killed in its place) and the voxel gets -w E (1 -
// q) / q; otherwise the voxel gets w E and the electron ends. Expected dose:
//   (1 - q) w E + q [ (w / q) D - w E (1 - q) / q ] = w D   for D the electron's own
// contribution (any voxel), whatever D's distribution: the estimator is unbiased. Energy
// is conserved per history (the voxel's correction balances the survivor's extra weight).
// The roulette is played once per track (kFlagRangeRouletted; a survivor's delta rays
// inherit the flag and are transported in full). Positrons are never rouletted (their
// annihilation photons leave the voxel). Returns true when the electron was killed.
template <class Scorer>
SABRE_HD bool range_roulette(const TransportParams& tp, const ElectronOptions& opt,
                             Particle& p, std::int64_t v, double range_to_cut_g_cm2, Rng& rng,
                             Scorer& scorer) {
  const double rho = tp.phantom.density_g_cm3[v];
  if (!(rho > 0)) return false;
  // No point in a voxel is farther than half its smallest side from a face: most steps
  // (residual range beyond that) end here without locating the particle in its voxel (on a
  // non-uniform axis spacing_cm is the smallest width, so this stays a bound).
  const double half_min = 0.5 * tp.phantom.grid.min_spacing();
  if (!(range_to_cut_g_cm2 < rho * half_min)) return false;
  if (!(range_to_cut_g_cm2 < rho * distance_to_voxel_faces(tp.phantom.grid, v, p.pos_cm))) return false;
  p.flags |= kFlagRangeRouletted;
  const double q = opt.range_rejection_survival;
  if (rng.uniform() < q) {
    scorer.deposit(v, -p.energy_mev * p.weight * (1 - q) / q);
    p.weight /= q;
    return false;
  }
  scorer.deposit(v, p.energy_mev * p.weight);
  p.energy_mev = 0;
  return true;
}

// ---------------------------------------------------------------- ends of a track

// Absorbs p (at or below the cut) in voxel v: its kinetic energy below_cut; a positron
// annihilates at rest.
template <class Rng, class Scorer, class Stack>
SABRE_HD void absorb_charged(Particle& p, std::int64_t v, Rng& rng, Scorer& scorer,
                             Stack& stack) {
  scorer.below_cut(v, p.energy_mev * p.weight);
  p.energy_mev = 0;
  if (p.type != ParticleType::positron) return;
  scorer.rest_mass(2 * kElectronMassMeV * p.weight);
  const AnnihilationResult a = annihilate_at_rest(rng);
  for (int n = 0; n < 2; ++n) {
    Particle s;
    s.type = ParticleType::photon;
    s.energy_mev = a.energy_mev[n];
    s.pos_cm = p.pos_cm;
    s.dir = a.dir[n];
    s.weight = p.weight;
    push_or_deposit(stack, scorer, s, v);
  }
}

// ---------------------------------------------------------------- the track

template <class Rng, class Scorer, class Stack>
SABRE_HD ChargedTrackResult transport_charged(const TransportParams& tp,
                                              const ElectronOptions& opt, Particle& p,
                                              Rng& rng, Scorer& scorer, Stack& stack) {
  ChargedTrackResult res;
  const GridGeometry& g = tp.phantom.grid;
  const MaterialData& md = tp.materials;
  const int sp = p.type == ParticleType::positron ? kPositron : kElectron;
  const ChargedData& cd = md.charged[sp];
  const GridTable& range = opt.csda_unrestricted ? cd.range_csda : cd.range_restricted;
  const bool do_delta = !opt.csda_unrestricted && opt.delta_rays;
  const bool do_brems = !opt.csda_unrestricted && opt.bremsstrahlung;
  const bool do_ann = !opt.csda_unrestricted && opt.annihilation_in_flight && sp == kPositron;
  const bool do_msc = opt.multiple_scattering;
  const bool do_rr = opt.range_rejection && !opt.csda_unrestricted && sp == kElectron &&
                     opt.range_rejection_survival < 1;
  const double e_cut = md.cuts.electron_absorption_mev;
  const double w_cc = md.cuts.electron_production_mev;
  const double w_cr = md.cuts.photon_production_mev;
  // Lowest kinetic energy at which a hard delta ray is possible [MeV].
  const double delta_threshold = sp == kPositron ? w_cc : 2 * w_cc;

  std::int64_t v;
  {
    VoxelWalker w0;
    if (!w0.init(g, p.pos_cm, p.dir)) {
      scorer.escape(p.energy_mev * p.weight);
      res.fate = ChargedFate::escaped;
      return res;
    }
    v = w0.voxel(g);
  }

  // All charged-particle tables share one energy grid (the table file's charged grid,
  // physics/tables/material_tables.cc): a point located once is read in every table.
  const LogGrid& eg = range.grid;
  const double ln_keep = std::log1p(-opt.estepe);  // ln(1 - estepe)
  const double ln_cut = std::log(e_cut);
  double f_cut;
  const int i_cut = eg.locate_ln(ln_cut, f_cut);
  const GridTable* msc_table = opt.msc_tables ? &md.msc_wentzel : nullptr;
  // Far steps: only with a safety map, and only if they are longer than the near ones.
  const bool do_far = do_msc && opt.far_steps && tp.phantom.step_safety &&
                      tp.phantom.material_min_density_g_cm3 && opt.far_msc_g1_max > opt.msc_g1_max;
  const double h_min = g.min_spacing();

  for (;;) {
    if (p.energy_mev <= e_cut) {
      absorb_charged(p, v, rng, scorer, stack);
      res.fate = ChargedFate::absorbed;
      return res;
    }
    const int m = tp.phantom.material[v];
    const double e0 = p.energy_mev;
    // The step's one logarithm of the energy: every other table point of the step comes
    // from it or from the range inversion (energy_from_range_at).
    const double ln_e0 = std::log(e0);
    double f0;
    const int i0 = eg.locate_ln(ln_e0, f0);
    const double r0 = range.at(m, i0, f0);
    // Residual path to the cut [g/cm^2], read once for the roulette and step 1b.
    const bool rr_open = do_rr && !(p.flags & kFlagRangeRouletted);
    const double path_left = rr_open || do_far ? r0 - range.at(m, i_cut, f_cut) : 0.0;
    if (rr_open && range_roulette(tp, opt, p, v, path_left, rng, scorer)) {
      res.fate = ChargedFate::range_rejected;
      return res;
    }

    // 1. Step limits [g/cm^2].
    double e_low = e0 * (1 - opt.estepe);
    int i_low;
    double f_low;
    bool to_cut = false;
    if (e_low <= e_cut) {
      e_low = e_cut;
      i_low = i_cut;
      f_low = f_cut;
      to_cut = true;
    } else {
      i_low = eg.locate_ln(ln_e0 + ln_keep, f_low);
    }
    double t = r0 - range.at(m, i_low, f_low);
    if (!(t > 0)) {  // e0 within rounding of the cut: nothing left to move
      absorb_charged(p, v, rng, scorer, stack);
      res.fate = ChargedFate::absorbed;
      return res;
    }
    const double t_e = t;  // the estepe (or cut) limit
    const bool to_cut_e = to_cut;
    double inv_l1_0 = 0;
    if (do_msc) {
      inv_l1_0 = cd.msc_inv_lambda1.at(m, i0, f0);
      if (inv_l1_0 > 0 && opt.msc_g1_max / inv_l1_0 < t) {
        t = opt.msc_g1_max / inv_l1_0;
        to_cut = false;
      }
    }
    if (do_far && t < t_e) {
      // 1b. The G1 limit bound this step. An electron whose whole residual path (its
      // restricted range to the cut, at most path_left / rho_min long) cannot reach another
      // material or the grid's surface takes far_msc_g1_max instead (the estepe limit and
      // with it the hard majorant below stay as they are).
      const int n_safe = tp.phantom.step_safety[v];
      if (n_safe >= 2) {
        const double t_safe = double(tp.phantom.material_min_density_g_cm3[m]) *
                              ((n_safe - 1) * h_min + distance_to_voxel_faces(g, v, p.pos_cm));
        if (path_left < t_safe) {
          const double t_g1 = opt.far_msc_g1_max / inv_l1_0;
          t = t_g1 < t_e ? t_g1 : t_e;
          to_cut = t_g1 < t_e ? false : to_cut_e;
        }
      }
    }
    double sig_max = 0;  // majorant of the hard cross sections over [e_low, e0] [cm^2/g]
    if (do_delta) sig_max += table_max_between(cd.sigma_hard_collision, m, i_low, f_low, i0, f0);
    if (do_brems) sig_max += table_max_between(cd.sigma_hard_brems, m, i_low, f_low, i0, f0);
    if (do_ann) sig_max += table_max_between(cd.sigma_annihilation, m, i_low, f_low, i0, f0);
    bool hard = false;
    if (sig_max > 0) {
      const double t_hard = -std::log(rng.uniform()) / sig_max;
      if (t_hard < t) {
        t = t_hard;
        hard = true;
        to_cut = false;
      }
    }

    // 2.-3. Move with a random hinge.
    double r = r0;
    ++res.steps;
    MoveEnd end;
    int bin = i0;  // p's point on the grid, kept by move_mass (valid unless it ends at the cut)
    double frac = f0;
    if (do_msc) {
      int i_end = i0, i_mid = i0;
      double f_end, f_mid;
      if (to_cut) {
        i_end = i_cut;
        f_end = f_cut;
      } else {
        energy_from_range_at(range, m, r0 - t, i_end, f_end);
      }
      energy_from_range_at(range, m, r0 - 0.5 * t, i_mid, f_mid);
      const double inv_l1_end = cd.msc_inv_lambda1.at(m, i_end, f_end);
      const double g1 =
          msc_first_moment(t, inv_l1_0, cd.msc_inv_lambda1.at(m, i_mid, f_mid), inv_l1_end);
      const double tau = msc_hinge_fraction(inv_l1_0, inv_l1_end, rng.uniform()) * t;
      end = move_mass(tp, range, m, p, r, tau, -1.0, scorer, res, v, bin, frac);
      if (end == MoveEnd::done) {
        const double mu =
            opt.msc_two_moments
                ? sample_msc_cos_theta_2m(
                      g1,
                      g1 * wentzel_lambda1_over_lambda2(cd.msc_screening.at(m, i_mid, f_mid)),
                      rng.uniform(), msc_table)
                : sample_msc_cos_theta(g1, rng.uniform(), msc_table);
        p.dir = rotate(p.dir, mu, kTwoPi * rng.uniform());
        end = move_mass(tp, range, m, p, r, t - tau, to_cut ? e_cut : -1.0, scorer, res, v,
                        bin, frac);
      }
    } else {
      end = move_mass(tp, range, m, p, r, t, to_cut ? e_cut : -1.0, scorer, res, v, bin,
                      frac);
    }
    if (opt.tally_radiative) {
      // Along this step dt = dE / S_cont (S_cont: the stopping power in use), so
      // int S_x dt = dE x S_x / S_cont, by the midpoint rule in E (exact for a ratio
      // linear in E).
      const double em = 0.5 * (e0 + p.energy_mev);
      const double de = (e0 - p.energy_mev) * p.weight;
      const double s_cont = (opt.csda_unrestricted ? cd.dedx_total : cd.dedx_restricted)(m, em);
      if (s_cont > 0) {
        const double s_soft =
            (opt.csda_unrestricted ? cd.dedx_radiative : cd.dedx_radiative_restricted)(m, em);
        res.soft_radiative_mev += de * s_soft / s_cont;
        res.radiative_track_length_mev += de * cd.dedx_radiative(m, em) / s_cont;
      }
    }
    if (end == MoveEnd::escaped) break;
    if (end == MoveEnd::material_change) continue;
    if (!hard) continue;

    // 5. Hard-event candidate at the end of the step: real or fictitious.
    // (a hard step never ends at the cut, so move_mass left p's grid point in bin, frac)
    const double e = p.energy_mev;
    const double s_delta =
        do_delta && e > delta_threshold ? cd.sigma_hard_collision.at(m, bin, frac) : 0;
    const double s_brems = do_brems && e > w_cr ? cd.sigma_hard_brems.at(m, bin, frac) : 0;
    const double s_ann = do_ann ? cd.sigma_annihilation.at(m, bin, frac) : 0;
    const double s_delta_p = s_delta > 0 ? s_delta : 0;
    const double s_brems_p = s_brems > 0 ? s_brems : 0;
    const double s_ann_p = s_ann > 0 ? s_ann : 0;
    double x = rng.uniform() * sig_max;
    if (x >= s_delta_p + s_brems_p + s_ann_p) continue;  // fictitious
    ++res.hard_events;
    if (x < s_delta_p) {
      const double w_mev = sp == kPositron ? sample_bhabha_delta_energy(e, w_cc, rng)
                                           : sample_moller_delta_energy(e, w_cc, rng);
      const TwoBodyResult k = delta_ray_kinematics(e, w_mev, p.dir, rng);
      p.energy_mev = k.energy_mev[0];
      p.dir = k.dir[0];
      Particle d;
      d.type = ParticleType::electron;
      d.energy_mev = k.energy_mev[1];
      d.pos_cm = p.pos_cm;
      d.dir = k.dir[1];
      d.weight = p.weight;
      d.flags = p.flags & kFlagRangeRouletted;  // a survivor's delta rays stay in its voxel
      if (d.energy_mev <= e_cut) scorer.below_cut(v, d.energy_mev * d.weight);
      else push_or_deposit(stack, scorer, d, v);
      continue;
    }
    x -= s_delta_p;
    if (x < s_brems_p) {
      const double k_mev = sample_brems_photon_energy(md, sp, m, e, rng);
      const double cos_t = sample_brems_photon_cos(e, rng);
      Particle ph;
      ph.type = ParticleType::photon;
      ph.energy_mev = k_mev;
      ph.pos_cm = p.pos_cm;
      ph.dir = rotate(p.dir, cos_t, kTwoPi * rng.uniform());
      ph.weight = p.weight;
      p.energy_mev = e - k_mev;
      push_or_deposit(stack, scorer, ph, v);
      continue;
    }
    // Positron annihilation in flight: all its energy goes to the two photons.
    const AnnihilationResult a = annihilate_in_flight(e, p.dir, rng);
    scorer.rest_mass(2 * kElectronMassMeV * p.weight);
    for (int n = 0; n < 2; ++n) {
      Particle ph;
      ph.type = ParticleType::photon;
      ph.energy_mev = a.energy_mev[n];
      ph.pos_cm = p.pos_cm;
      ph.dir = a.dir[n];
      ph.weight = p.weight;
      push_or_deposit(stack, scorer, ph, v);
    }
    p.energy_mev = 0;
    res.fate = ChargedFate::annihilated_in_flight;
    return res;
  }
  // Left the grid: its kinetic energy escapes (a positron's rest mass was never released).
  scorer.escape(p.energy_mev * p.weight);
  res.fate = ChargedFate::escaped;
  return res;
}

// The `Charged` policy of physics/transport/history.hh: class II condensed history with
// the run's switches.
struct CondensedHistoryCharged {
  template <class Scorer, class Stack>
  SABRE_HD static void transport(const TransportParams& tp, Particle& p, Rng& rng,
                                 Scorer& scorer, Stack& stack) {
    transport_charged(tp, electron_options(tp.switches), p, rng, scorer, stack);
  }
};

}  // namespace sabre::phys
