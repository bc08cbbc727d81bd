#include "engine/viz/dose_pictures.hh"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/viz/contour.hh"
#include "engine/viz/text.hh"

#include <cstdio>

namespace sabre::viz {

const char* plane_name(Plane p) {
  switch (p) {
    case Plane::axial: return "axial";
    case Plane::coronal: return "coronal";
    case Plane::sagittal: return "sagittal";
  }
  return "?";
}

double sample_dose(const DoseResult& d, double x, double y, double z) {
  const auto& g = d.grid;
  // Continuous index with voxel centres at integers.
  const double fi = (x - g.origin_cm.x) / g.spacing_cm.x - 0.5;
  const double fj = (y - g.origin_cm.y) / g.spacing_cm.y - 0.5;
  const double fk = (z - g.origin_cm.z) / g.spacing_cm.z - 0.5;
  if (fi < -0.5 || fj < -0.5 || fk < -0.5 || fi > g.nx - 0.5 || fj > g.ny - 0.5 || fk > g.nz - 0.5) return 0;
  auto clampi = [](double f, int n, int& i0, int& i1, double& t) {
    f = std::clamp(f, 0.0, double(n - 1));
    i0 = int(std::floor(f));
    i1 = std::min(i0 + 1, n - 1);
    t = f - i0;
  };
  int i0, i1, j0, j1, k0, k1;
  double tx, ty, tz;
  clampi(fi, g.nx, i0, i1, tx);
  clampi(fj, g.ny, j0, j1, ty);
  clampi(fk, g.nz, k0, k1, tz);
  auto v = [&](int i, int j, int k) { return d.dose_gy[std::size_t(g.index(i, j, k))]; };
  const double c00 = v(i0, j0, k0) * (1 - tx) + v(i1, j0, k0) * tx;
  const double c10 = v(i0, j1, k0) * (1 - tx) + v(i1, j1, k0) * tx;
  const double c01 = v(i0, j0, k1) * (1 - tx) + v(i1, j0, k1) * tx;
  const double c11 = v(i0, j1, k1) * (1 - tx) + v(i1, j1, k1) * tx;
  return (c00 * (1 - ty) + c10 * ty) * (1 - tz) + (c01 * (1 - ty) + c11 * ty) * tz;
}

namespace {

// Draws a segment (pixel coordinates, centres at integer + 0.5 mapped from field indices).
void draw_segment(Image& im, const Segment& s, Rgb c, int thickness) {
  const double len = std::hypot(s.x1 - s.x0, s.y1 - s.y0);
  const int n = std::max(1, int(std::ceil(len * 2)));
  for (int t = 0; t <= n; ++t) {
    const double x = s.x0 + (s.x1 - s.x0) * t / n, y = s.y0 + (s.y1 - s.y0) * t / n;
    const int px = int(std::floor(x)), py = int(std::floor(y));
    for (int a = 0; a < thickness; ++a)
      for (int b = 0; b < thickness; ++b) im.set(px + a, py + b, c);
  }
}

struct PlaneMap {
  int w = 0, h = 0;
  double s = 0;  // pixel size [cm]
  // world point of pixel centre (px, py)
  std::array<double, 3> fixed{};
  Plane plane{};
  double u0 = 0, v0 = 0;  // u at the left edge; v at the top edge (for z: the top is max z)
  std::array<double, 3> at(double px, double py) const {
    const double u = u0 + (px + 0.5) * s;
    std::array<double, 3> p = fixed;
    switch (plane) {
      case Plane::axial: p[0] = u, p[1] = v0 + (py + 0.5) * s; break;
      case Plane::coronal: p[0] = u, p[2] = v0 - (py + 0.5) * s; break;
      case Plane::sagittal: p[1] = u, p[2] = v0 - (py + 0.5) * s; break;
    }
    return p;
  }
};

}  // namespace

Image dose_over_ct(const io::CtImage& ct, const DoseResult& dose, Plane plane, const DoseOverCtOptions& opt) {
  if (!(opt.reference_gy > 0)) throw std::invalid_argument("dose_over_ct: reference dose must be > 0");
  const auto& g = ct.grid;
  const double lo[3] = {g.origin_cm.x, g.origin_cm.y, g.origin_cm.z};
  const double hi[3] = {g.origin_cm.x + g.nx * g.spacing_cm.x, g.origin_cm.y + g.ny * g.spacing_cm.y,
                        g.origin_cm.z + g.nz * g.spacing_cm.z};
  const double sp[3] = {g.spacing_cm.x, g.spacing_cm.y, g.spacing_cm.z};
  int ua = 0, va = 1;
  if (plane == Plane::coronal) ua = 0, va = 2;
  if (plane == Plane::sagittal) ua = 1, va = 2;
  PlaneMap m;
  m.plane = plane;
  m.fixed = opt.point_cm;
  const double eu = hi[ua] - lo[ua], ev = hi[va] - lo[va];
  const double base = std::min(sp[ua], sp[va]);
  const int k = std::max(1, int(std::ceil(opt.min_width / (eu / base))));
  m.s = base / k;
  m.w = std::max(1, int(std::lround(eu / m.s)));
  m.h = std::max(1, int(std::lround(ev / m.s)));
  m.u0 = lo[ua];
  m.v0 = (va == 2) ? hi[2] : lo[va];

  const int bar_h = 16, gap = 6, text_h = 7;
  Image im(m.w, m.h + gap + bar_h + 3 + text_h + 4 + text_h + gap, Rgb{255, 255, 255});
  std::vector<double> field(std::size_t(m.w) * m.h);
  for (int py = 0; py < m.h; ++py)
    for (int px = 0; px < m.w; ++px) {
      const auto p = m.at(px, py);
      int i, j, kk;
      double hu = -1000;
      if (g.locate({p[0], p[1], p[2]}, i, j, kk)) hu = ct.hu[std::size_t(g.index(i, j, kk))];
      const double t = (hu - opt.hu_min) / (opt.hu_max - opt.hu_min);
      Rgb c = colour(Colormap::grey, t);
      const double dv = sample_dose(dose, p[0], p[1], p[2]);
      field[std::size_t(px) + std::size_t(m.w) * py] = dv / opt.reference_gy;
      const double f = dv / opt.reference_gy;
      if (f >= opt.wash_threshold) c = blend(c, colour(Colormap::dose, f / 1.1), opt.wash_alpha);
      im.set(px, py, c);
    }
  // Structure outlines (1 px) from the ROI masks on the CT grid, nearest voxel.
  if (opt.structures) {
    for (const auto& roi : opt.structures->rois) {
      std::vector<std::uint8_t> mask;
      try {
        mask = io::rasterise(roi, g, "structures");
      } catch (const std::exception&) {
        continue;  // non-axial contours: no outline
      }
      std::vector<double> mf(field.size(), 0.0);
      bool any = false;
      for (int py = 0; py < m.h; ++py)
        for (int px = 0; px < m.w; ++px) {
          const auto p = m.at(px, py);
          int i, j, kk;
          if (g.locate({p[0], p[1], p[2]}, i, j, kk) && mask[std::size_t(g.index(i, j, kk))]) {
            mf[std::size_t(px) + std::size_t(m.w) * py] = 1;
            any = true;
          }
        }
      if (!any) continue;
      const Rgb rc{std::uint8_t(roi.colour[0]), std::uint8_t(roi.colour[1]), std::uint8_t(roi.colour[2])};
      for (auto s : isolines(mf, m.w, m.h, 0.5)) {
        s.x0 += 0.5, s.x1 += 0.5, s.y0 += 0.5, s.y1 += 0.5;
        draw_segment(im, s, rc, 1);
      }
    }
  }
  // Isodose lines (2 px) in the colour map's colour at their level.
  for (double lv : opt.levels)
    for (auto s : isolines(field, m.w, m.h, lv)) {
      s.x0 += 0.5, s.x1 += 0.5, s.y0 += 0.5, s.y1 += 0.5;
      draw_segment(im, s, colour(Colormap::dose, lv / 1.1), 2);
    }
  // Colour bar: 0 .. 1.1 x reference, black ticks at the levels and a double tick at 100 %.
  const int y0 = m.h + gap;
  for (int x = 0; x < m.w; ++x) {
    const Rgb c = colour(Colormap::dose, double(x) / std::max(1, m.w - 1));
    for (int y = 0; y < bar_h; ++y) im.set(x, y0 + y, c);
  }
  auto tick = [&](double f, int len) {
    const int x = int(std::lround(f / 1.1 * (m.w - 1)));
    for (int y = 0; y < len; ++y) {
      im.set(x, y0 + y, Rgb{0, 0, 0});
      im.set(x, y0 + bar_h - 1 - y, Rgb{0, 0, 0});
    }
  };
  for (double lv : opt.levels) tick(lv, bar_h / 3);
  tick(1.0, bar_h);
  const Rgb black{0, 0, 0};
  auto label_at = [&](double f, const std::string& t) {
    const int x = int(std::lround(f / 1.1 * (m.w - 1))) - text_width(t) / 2;
    draw_text(im, std::clamp(x, 0, std::max(0, m.w - text_width(t))), y0 + bar_h + 3, t, black);
  };
  for (double lv : opt.levels) label_at(lv, std::to_string(int(std::lround(100 * lv))));
  label_at(1.0, "100%");
  char buf[96];
  std::snprintf(buf, sizeof buf, "100%% = %.4g Gy", opt.reference_gy);
  draw_text(im, 2, y0 + bar_h + 3 + text_h + 4, buf, black);
  // Plane and position, white with a dark shadow.
  const char* axis = plane == Plane::axial ? "z" : plane == Plane::coronal ? "y" : "x";
  const double pos_mm = 10 * opt.point_cm[plane == Plane::axial ? 2 : plane == Plane::coronal ? 1 : 0];
  std::snprintf(buf, sizeof buf, "%s %s = %.1f mm", plane_name(plane), axis, pos_mm);
  draw_text(im, 5, 5, buf, Rgb{0, 0, 0}, 2);
  draw_text(im, 4, 4, buf, Rgb{255, 255, 255}, 2);
  return im;
}

Image line_plot(const std::vector<double>& x, const std::vector<double>& y, double x_tick,
                const std::string& x_title, const std::string& y_title, int width, int height) {
  if (x.size() != y.size() || x.size() < 2) throw std::invalid_argument("line_plot: need >= 2 points");
  return line_plots({Series{x, y}}, x_tick, x_title, y_title, width, height);
}

Image line_plots(const std::vector<Series>& series, double x_tick, const std::string& x_title,
                 const std::string& y_title, int width, int height) {
  double xmin = 1e300, xmax = -1e300, ymax = 0;
  for (const auto& s : series) {
    if (s.x.size() != s.y.size()) throw std::invalid_argument("line_plots: x and y differ in length");
    for (double v : s.x) { xmin = std::min(xmin, v); xmax = std::max(xmax, v); }
    for (double v : s.y) ymax = std::max(ymax, v);
  }
  if (!(xmax > xmin)) throw std::invalid_argument("line_plots: need an x range");
  if (!(ymax > 0)) ymax = 1;
  ymax *= 1.05;
  Image im(width, height, Rgb{255, 255, 255});
  const int l = 60, r = 15, t = 20, b = 40;
  auto px = [&](double v) { return l + (v - xmin) / (xmax - xmin) * (width - l - r); };
  auto py = [&](double v) { return height - b - v / ymax * (height - t - b); };
  const Rgb grid{220, 220, 220}, axis{0, 0, 0}, black{0, 0, 0};
  if (x_tick > 0)
    for (double v = std::ceil(xmin / x_tick) * x_tick; v <= xmax + 1e-9; v += x_tick)
      draw_segment(im, Segment{px(v), double(t), px(v), double(height - b)}, grid, 1);
  for (int q = 1; q <= 10; ++q) {
    const double v = ymax / 1.05 * q / 10;
    draw_segment(im, Segment{double(l), py(v), double(width - r), py(v)}, grid, 1);
  }
  draw_segment(im, Segment{double(l), double(height - b), double(width - r), double(height - b)}, axis, 1);
  draw_segment(im, Segment{double(l), double(t), double(l), double(height - b)}, axis, 1);
  for (const auto& s : series) {
    if (s.points) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        const double cx = px(s.x[i]), cy = py(s.y[i]);
        draw_segment(im, Segment{cx - 2, cy, cx + 2, cy}, s.colour, 3);
      }
    } else {
      for (std::size_t i = 0; i + 1 < s.x.size(); ++i)
        draw_segment(im, Segment{px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1])}, s.colour, 2);
    }
  }
  char buf[64];
  if (x_tick > 0)
    for (double v = std::ceil(xmin / (5 * x_tick)) * 5 * x_tick; v <= xmax + 1e-9; v += 5 * x_tick) {
      std::snprintf(buf, sizeof buf, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
      draw_text(im, int(px(v)) - text_width(buf) / 2, height - b + 5, buf, black);
    }
  const double ydata = ymax / 1.05;
  for (double q : {0.0, 0.5, 1.0}) {
    std::snprintf(buf, sizeof buf, "%.3g", q * ydata);
    draw_text(im, l - 4 - text_width(buf), int(py(q * ydata)) - 3, buf, black);
  }
  if (!x_title.empty()) draw_text(im, (l + width - r) / 2 - text_width(x_title) / 2, height - 14, x_title, black);
  if (!y_title.empty()) draw_text(im, 4, 4, y_title, black);
  return im;
}

}  // namespace sabre::viz
