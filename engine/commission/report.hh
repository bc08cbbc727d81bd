// The commissioning report: the fitted model run on every measured set-up and compared
// with the data curve by curve (docs/commissioning.md, "Report"), and the outputs written.
// Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/commission/basis.hh"
#include "engine/commission/commission.hh"

namespace sabre::commission {

// Figures of one depth dose normalised to its maximum: depth of maximum (a parabola through
// the highest point and its neighbours), values beyond it.
double depth_of_maximum_cm(const std::vector<double>& depth_cm, const std::vector<double>& value);

// Figures of one profile normalised to its value on the axis: the inflection points of both
// edges (zero of the second derivative of a cubic fitted within +-0.3 cm), the field size
// between them, and the 80-20 % penumbra of the profile renormalised so that its inflection
// points are at 50 % (Fogliata et al., Med Phys 39:6455, 2012), averaged over both edges.
struct ProfileFigures {
  bool ok = false;
  double left_cm = 0, right_cm = 0, size_cm = 0, penumbra_cm = 0;
};
// `nominal_half_cm` > 0: the edges are searched near +-it (the steepest point within 1 cm),
// else from the 50 % crossings.
ProfileFigures profile_figures(const std::vector<double>& x_cm, const std::vector<double>& value,
                               double nominal_half_cm = 0);

// 1-D gamma of `measured` against `computed` (both at `x`; computed interpolated linearly
// on a 0.01 cm grid), global: dose criterion `dose_frac` of the measured maximum, distance
// `dist_cm`; returns the pass rate (gamma <= 1) over points above 10 % of the maximum.
double gamma_pass_rate(const std::vector<double>& x, const std::vector<double>& measured,
                       const std::vector<double>& computed, double dose_frac, double dist_cm);

// Runs the fitted model on every set-up and fills r.report["curves"], ["output_factors"],
// ["summary"] (and the computed curves for the plots).
void compare_with_data(BasisBank& bank, Result& r, const Options& opt,
                       const std::function<void(const std::string&)>& log, std::uint64_t seed);

// Writes the commissioned machine file (opt.output) and the report directory (report.md,
// report.json, one PNG per curve, curves.csv). Temporary names, renamed at the end.
void write_outputs(const Options& opt, const Result& r, const BasisBank& bank);

}  // namespace sabre::commission
