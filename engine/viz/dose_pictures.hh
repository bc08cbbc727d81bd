// Pictures of a dose: dose over CT in the three orthogonal planes through a point, with a
// translucent colour wash and isodose lines (and structure outlines), and, for phantom
// runs, depth-dose and profile plots. Radiological display: axial seen from the feet
// (patient left on the picture's right, anterior up); coronal seen from the front
// (superior up, patient left on the right); sagittal seen from the patient's left
// (anterior on the left, superior up).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/dose_result.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/rtstruct.hh"
#include "engine/viz/png.hh"

namespace sabre::viz {

enum class Plane { axial, coronal, sagittal };
const char* plane_name(Plane p);

struct DoseOverCtOptions {
  std::array<double, 3> point_cm{0, 0, 0};  // the planes pass through this point (LPS, cm)
  double reference_gy = 0;                  // 100 % (e.g. the maximum dose); > 0
  std::vector<double> levels{0.1, 0.3, 0.5, 0.7, 0.9};  // isodose levels, fractions of it
  double wash_threshold = 0.1;              // no colour below this fraction
  double wash_alpha = 0.35;
  double hu_min = -1000, hu_max = 400;      // grey window [HU]
  int min_width = 480;                      // the picture is scaled up to at least this
  const io::StructureSet* structures = nullptr;  // outlines drawn in their colours
};

// Dose (trilinear between voxel centres, 0 outside the grid) over the CT (nearest voxel).
// The colour bar under the picture spans [0, 1.1] x reference with ticks at the levels,
// labelled in % of the reference, and "100% = X Gy" under it; the plane's name and
// position at the top left.
Image dose_over_ct(const io::CtImage& ct, const DoseResult& dose, Plane plane,
                   const DoseOverCtOptions& opt);

// Dose at a point (trilinear between voxel centres; 0 outside the grid).
double sample_dose(const DoseResult& d, double x_cm, double y_cm, double z_cm);

// A simple line plot: white background, axes, a grid every `x_tick` in x and at tenths of
// the y range, the curve in dark blue. Axis ranges from the data (y from 0). Numbers every
// 5 x ticks on x, at 0, 50 % and 100 % of the data maximum on y; axis titles.
Image line_plot(const std::vector<double>& x, const std::vector<double>& y, double x_tick,
                const std::string& x_title = "", const std::string& y_title = "", int width = 640,
                int height = 400);

// Several series on one pair of axes (the ranges of all of them; y from 0): each drawn as
// a line, or as small square markers when `points`.
struct Series {
  std::vector<double> x, y;
  Rgb colour{20, 40, 160};
  bool points = false;
};
Image line_plots(const std::vector<Series>& series, double x_tick, const std::string& x_title = "",
                 const std::string& y_title = "", int width = 640, int height = 400);

}  // namespace sabre::viz
