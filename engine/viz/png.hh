// A small RGB picture and its PNG writer (libpng), for gamma maps, dose slices and, later,
// dose over CT with isodose lines. Pixel (x, y): x to the right, y downwards, row-major.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/viz/colormap.hh"

namespace sabre::viz {

class Image {
 public:
  Image(int width, int height, Rgb fill = {0, 0, 0});
  int width() const { return width_; }
  int height() const { return height_; }
  Rgb get(int x, int y) const;
  void set(int x, int y, Rgb c);  // ignored outside the picture
  // Mixes colour c over pixel (x, y) with opacity alpha in [0, 1] (ignored outside).
  void blend_over(int x, int y, Rgb c, double alpha);
  const std::vector<std::uint8_t>& rgb() const { return rgb_; }  // 3 bytes per pixel

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

// Writes `image` as an 8-bit RGB PNG under a temporary name and renames it on success.
// Throws RuntimeError naming `path` when it cannot be written.
void write_png(const std::string& path, const Image& image);

// Reads an 8-bit RGB or RGBA PNG (alpha dropped), for tests and checks. Throws InputError
// naming `path` for a missing or unreadable file.
Image read_png(const std::string& path);

// A colour bar: `width` x `height` pixels, value 0 at the left and 1 at the right.
Image colour_bar(Colormap map, int width, int height);

}  // namespace sabre::viz
