// Commissioning of an MLC to a measured dosimetric leaf gap (DLG) and closed-leaf
// transmission (docs/commissioning.md, "MLC"). Host only.
//
// Conditions (the same for the measurement and the model): 6X-FFF or the beam being
// commissioned, water, SSD 100 cm, dose on the axis at 10 cm depth (|x|, |z| <= 1 cm);
// a 10 x 10 cm2 field (the jaws on it where the machine has them).
//   transmission T = D(every pair closed at x = -7 cm, or at -15 cm without jaws along the
//                    leaf motion) / D(open field);
//   DLG: sliding windows of gaps g = 2, 4, 6, 10, 14, 20 mm sweeping the field at constant
//        speed (beams/plan_builder.hh: the gap open over a meterset fraction g / (W + g),
//        W = 10 cm); R(g) = D(g) / D(open) less the transmission through the leaves,
//        T (1 - g / (W + g)); then R(g) (W + g) = g + DLG is fitted by a straight line
//        a g + b and DLG = b / a (after LoSasso et al., Med Phys 25:1919, 1998).
// The interleaf gap is found for T (secant steps on T(gap)), then the leaf offset for the
// DLG (DLG grows by twice the offset; secant steps).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "beams/machine.hh"
#include "engine/commission/commission.hh"
#include "engine/commission/water_run.hh"

namespace sabre::commission {

struct MlcResult {
  std::string device;  // the MLC's first DICOM type
  double offset_before_cm = 0, offset_cm = 0, gap_before_cm = 0, gap_cm = 0;
  nlohmann::json report;
};

// The MLC figures of `machine` (its current values) for beam `beam`.
struct MlcFigures {
  double transmission = 0, transmission_sigma = 0;
  double dlg_mm = 0, dlg_sigma_mm = 0;
};
MlcFigures measure_mlc(const beams::Machine& machine, const std::string& beam, WaterRunner& runner,
                       std::int64_t histories, std::uint64_t seed, bool with_dlg);

MlcResult commission_mlc(const beams::Machine& machine, const std::string& beam, const Options& opt,
                         WaterRunner& runner, const std::function<void(const std::string&)>& log);

}  // namespace sabre::commission
