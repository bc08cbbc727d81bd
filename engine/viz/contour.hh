// Isolines of a 2D scalar field by marching squares (for isodose lines and structure
// outlines in pictures). The field is sampled at points (i, j), i in [0, nx), j in [0, ny),
// value f[i + nx j]; segments come back in the same index coordinates.
//
// Each cell (i..i+1, j..j+1) is classified by which corners are >= level (16 cases);
// crossings on the cell edges are placed by linear interpolation. The two saddle cases
// are resolved by the mean of the four corners (centre >= level joins the high corners).
// Lorensen & Cline (1987) in 2D; see e.g. W. Lorensen, "Marching cubes", SIGGRAPH 87.
#pragma once

#include <vector>

namespace sabre::viz {

struct Segment {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

std::vector<Segment> isolines(const std::vector<double>& f, int nx, int ny, double level);

}  // namespace sabre::viz
