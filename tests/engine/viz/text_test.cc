// The 5 x 7 label font (engine/viz/text.hh).
#include <catch2/catch.hpp>

#include "engine/viz/text.hh"

using namespace sabre::viz;

namespace {
int count(const Image& im, Rgb c) {
  int n = 0;
  for (int y = 0; y < im.height(); ++y)
    for (int x = 0; x < im.width(); ++x)
      if (im.get(x, y) == c) ++n;
  return n;
}
}  // namespace

TEST_CASE("labels: glyph pixels, widths, scaling, unknown characters blank", "[viz]") {
  const Rgb ink{0, 0, 0};
  Image a(40, 20, Rgb{255, 255, 255});
  draw_text(a, 1, 1, "1", ink);
  // '1': rows 00100 01100 00100 00100 00100 00100 01110 -> 10 pixels, within 5 x 7.
  CHECK(count(a, ink) == 10);
  CHECK(a.get(1 + 2, 1) == ink);       // the top of the stem
  CHECK(a.get(1 + 0, 1 + 6) == Rgb{255, 255, 255});
  CHECK(a.get(1 + 1, 1 + 6) == ink);   // the foot

  Image b(40, 40, Rgb{255, 255, 255});
  draw_text(b, 0, 0, "1", ink, 2);
  CHECK(count(b, ink) == 40);  // each pixel becomes 2 x 2

  CHECK(text_width("100%") == 23);
  CHECK(text_width("100%", 2) == 46);
  CHECK(text_width("") == 0);

  Image c(40, 20, Rgb{255, 255, 255});
  draw_text(c, 0, 0, "#~", ink);  // not in the font
  CHECK(count(c, ink) == 0);
  draw_text(c, 35, 15, "88", ink);  // partly outside: no crash, some pixels drawn
  CHECK(count(c, ink) > 0);
}
