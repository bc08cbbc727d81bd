// A tiny 5 x 7 pixel bitmap font for labels on pictures (digits, a few letters and signs:
// enough for "100% = 18.4 Gy", "10 cm", "-2.5"). Unknown characters are drawn as blanks.
#pragma once

#include <string>

#include "engine/viz/png.hh"

namespace sabre::viz {

// Width in pixels of `text` at `scale` (6 x scale per character, minus the last gap).
int text_width(const std::string& text, int scale = 1);

// Draws `text` with its top-left corner at (x, y); pixels outside the picture are skipped.
void draw_text(Image& image, int x, int y, const std::string& text, Rgb colour, int scale = 1);

}  // namespace sabre::viz
