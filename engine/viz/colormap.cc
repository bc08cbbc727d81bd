#include "engine/viz/colormap.hh"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sabre::viz {

namespace {

struct Stop {
  double t;
  Rgb c;
};

// Piecewise-linear interpolation between colour stops (t increasing, first at 0, last at 1).
template <std::size_t N>
Rgb ramp(const Stop (&stops)[N], double t) {
  for (std::size_t i = 1; i < N; ++i) {
    if (t <= stops[i].t) {
      const double w = (t - stops[i - 1].t) / (stops[i].t - stops[i - 1].t);
      return blend(stops[i - 1].c, stops[i].c, w);
    }
  }
  return stops[N - 1].c;
}

constexpr Stop kDose[] = {{0.0, {0, 0, 96}},    {0.15, {0, 0, 255}},  {0.4, {0, 255, 255}},
                          {0.6, {0, 255, 0}},   {0.8, {255, 255, 0}}, {1.0, {255, 0, 0}}};
// Pass half: navy to pale blue; fail half: yellow (just failing) to red to dark red.
constexpr Stop kGamma[] = {{0.0, {8, 24, 96}},     {0.5, {150, 200, 255}},
                           {0.5001, {255, 230, 0}}, {0.75, {230, 40, 0}},
                           {1.0, {110, 0, 0}}};

}  // namespace

Rgb blend(Rgb under, Rgb over, double alpha) {
  alpha = std::clamp(alpha, 0.0, 1.0);
  auto mix = [alpha](std::uint8_t a, std::uint8_t b) {
    return std::uint8_t(std::lround((1 - alpha) * a + alpha * b));
  };
  return {mix(under.r, over.r), mix(under.g, over.g), mix(under.b, over.b)};
}

Rgb colour(Colormap map, double t) {
  if (std::isnan(t)) return {0, 0, 0};
  t = std::clamp(t, 0.0, 1.0);
  switch (map) {
    case Colormap::grey: {
      const auto v = std::uint8_t(std::lround(255 * t));
      return {v, v, v};
    }
    case Colormap::dose:
      return ramp(kDose, t);
    case Colormap::gamma:
      return ramp(kGamma, t);
  }
  return {0, 0, 0};
}

Colormap colormap_from_name(const std::string& name) {
  if (name == "grey" || name == "gray") return Colormap::grey;
  if (name == "dose") return Colormap::dose;
  if (name == "gamma") return Colormap::gamma;
  throw std::invalid_argument("unknown colour map '" + name + "' (grey, dose, gamma)");
}

}  // namespace sabre::viz
