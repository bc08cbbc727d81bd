// Colour maps for pictures of doses and comparisons (gamma maps now; dose over CT with
// isodose lines later). A map takes a value scaled to [0, 1] and returns an sRGB colour;
// values outside [0, 1] are clamped.
#pragma once

#include <cstdint>
#include <string>

namespace sabre::viz {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

enum class Colormap {
  grey,   // black -> white
  dose,   // dark blue -> blue -> cyan -> green -> yellow -> red (a "jet"-like ramp for dose)
  gamma,  // for gamma / 2: [0, 0.5] (gamma <= 1, pass) dark blue -> light blue,
          // (0.5, 1] (fail) yellow -> red -> dark red; gamma >= 2 is dark red
};

// Colour of value t in [0, 1] (clamped; NaN gives black).
Rgb colour(Colormap map, double t);

// The map named "grey", "dose" or "gamma"; throws std::invalid_argument otherwise.
Colormap colormap_from_name(const std::string& name);

// Linear mix of two colours: (1 - alpha) * under + alpha * over, alpha in [0, 1].
Rgb blend(Rgb under, Rgb over, double alpha);

}  // namespace sabre::viz
