// PNG writer/reader round trip and colour maps.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "core/errors.hh"
#include "engine/viz/colormap.hh"
#include "engine/viz/png.hh"

namespace fs = std::filesystem;
using namespace sabre::viz;

TEST_CASE("a PNG written and read back has the same pixels", "[viz]") {
  const auto path =
      (fs::temp_directory_path() / ("sabre_png_test_" + std::to_string(::getpid()) + ".png")).string();
  Image img(37, 21, {10, 20, 30});
  for (int x = 0; x < 37; ++x) img.set(x, 5, colour(Colormap::dose, x / 36.0));
  img.blend_over(3, 3, {255, 255, 255}, 0.5);
  img.set(100, 100, {1, 2, 3});  // outside: ignored
  write_png(path, img);
  const auto back = read_png(path);
  fs::remove(path);
  REQUIRE(back.width() == 37);
  REQUIRE(back.height() == 21);
  CHECK(back.rgb() == img.rgb());
  CHECK(back.get(3, 3) == Rgb{133, 138, 143});
  // No temporary file is left beside the output.
  bool leftover = false;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    leftover = leftover || e.path().filename().string().find(".sabre_png_test_") == 0;
  CHECK_FALSE(leftover);
}

TEST_CASE("reading a missing or non-PNG file is an input error, writing to a missing "
          "directory a runtime error", "[viz]") {
  CHECK_THROWS_AS(read_png("/nonexistent/x.png"), sabre::InputError);
  CHECK_THROWS_AS(write_png("/nonexistent/dir/x.png", Image(2, 2)), sabre::RuntimeError);
}

TEST_CASE("colour maps: ends, clamping, NaN, names", "[viz]") {
  CHECK(colour(Colormap::grey, 0.0) == Rgb{0, 0, 0});
  CHECK(colour(Colormap::grey, 1.0) == Rgb{255, 255, 255});
  CHECK(colour(Colormap::grey, 7.0) == Rgb{255, 255, 255});
  CHECK(colour(Colormap::grey, -1.0) == Rgb{0, 0, 0});
  CHECK(colour(Colormap::dose, 1.0) == Rgb{255, 0, 0});
  CHECK(colour(Colormap::grey, std::nan("")) == Rgb{0, 0, 0});
  // Gamma map: passing values are blue (b > r), failing values red or yellow (r > b).
  for (double g : {0.0, 0.3, 0.7, 0.99}) CHECK(colour(Colormap::gamma, g / 2).b > colour(Colormap::gamma, g / 2).r);
  for (double g : {1.01, 1.5, 2.0}) CHECK(colour(Colormap::gamma, g / 2).r > colour(Colormap::gamma, g / 2).b);
  CHECK(colormap_from_name("gamma") == Colormap::gamma);
  CHECK_THROWS_AS(colormap_from_name("rainbow"), std::invalid_argument);
  CHECK(blend({0, 0, 0}, {200, 100, 50}, 0.5) == Rgb{100, 50, 25});
}
