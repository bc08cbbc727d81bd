#include "engine/viz/contour.hh"

#include <stdexcept>

namespace sabre::viz {

namespace {
// Point where the level crosses the edge from (xa, ya, va) to (xb, yb, vb).
void cross(double xa, double ya, double va, double xb, double yb, double vb, double level, double& x,
           double& y) {
  const double t = (vb == va) ? 0.5 : (level - va) / (vb - va);
  x = xa + t * (xb - xa);
  y = ya + t * (yb - ya);
}
}  // namespace

std::vector<Segment> isolines(const std::vector<double>& f, int nx, int ny, double level) {
  if (nx < 0 || ny < 0 || f.size() != std::size_t(nx) * std::size_t(ny))
    throw std::invalid_argument("isolines: field size does not match nx * ny");
  std::vector<Segment> out;
  for (int j = 0; j + 1 < ny; ++j)
    for (int i = 0; i + 1 < nx; ++i) {
      // Corners: 0 (i, j), 1 (i+1, j), 2 (i+1, j+1), 3 (i, j+1).
      const double v[4] = {f[i + std::size_t(nx) * j], f[i + 1 + std::size_t(nx) * j],
                           f[i + 1 + std::size_t(nx) * (j + 1)], f[i + std::size_t(nx) * (j + 1)]};
      const double cx[4] = {double(i), double(i + 1), double(i + 1), double(i)};
      const double cy[4] = {double(j), double(j), double(j + 1), double(j + 1)};
      int c = 0;
      for (int k = 0; k < 4; ++k)
        if (v[k] >= level) c |= 1 << k;
      if (c == 0 || c == 15) continue;
      // Edge e joins corners e and (e + 1) % 4.
      auto edge = [&](int e, double& x, double& y) {
        const int a = e, b = (e + 1) % 4;
        cross(cx[a], cy[a], v[a], cx[b], cy[b], v[b], level, x, y);
      };
      auto seg = [&](int ea, int eb) {
        Segment s;
        edge(ea, s.x0, s.y0);
        edge(eb, s.x1, s.y1);
        out.push_back(s);
      };
      // The edges crossed: an edge is crossed when its two corners differ.
      if (c == 5 || c == 10) {  // saddle: corners 0 and 2 high (5) or 1 and 3 high (10)
        const bool centre_high = 0.25 * (v[0] + v[1] + v[2] + v[3]) >= level;
        // High diagonal joined through the centre: the low corners are cut off alone.
        if ((c == 5) == centre_high) {
          // corners 1 and 3 isolated
          seg(0, 1);
          seg(2, 3);
        } else {
          // corners 0 and 2 isolated
          seg(3, 0);
          seg(1, 2);
        }
        continue;
      }
      int crossed[2], n = 0;
      for (int e = 0; e < 4 && n < 2; ++e) {
        const bool a = (c >> e) & 1, b = (c >> ((e + 1) % 4)) & 1;
        if (a != b) crossed[n++] = e;
      }
      if (n == 2) seg(crossed[0], crossed[1]);
    }
  return out;
}

}  // namespace sabre::viz
