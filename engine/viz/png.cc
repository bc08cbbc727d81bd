#include "engine/viz/png.hh"

#include <png.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "core/errors.hh"
#include "core/output_file.hh"

namespace sabre::viz {

Image::Image(int width, int height, Rgb fill) : width_(width), height_(height) {
  if (width <= 0 || height <= 0)
    throw std::invalid_argument("image size must be positive: " + std::to_string(width) + "x" +
                                std::to_string(height));
  rgb_.resize(std::size_t(width) * height * 3);
  for (std::size_t p = 0; p < rgb_.size(); p += 3) {
    rgb_[p] = fill.r;
    rgb_[p + 1] = fill.g;
    rgb_[p + 2] = fill.b;
  }
}

Rgb Image::get(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_)
    throw std::out_of_range("pixel outside the image");
  const std::size_t p = (std::size_t(y) * width_ + x) * 3;
  return {rgb_[p], rgb_[p + 1], rgb_[p + 2]};
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const std::size_t p = (std::size_t(y) * width_ + x) * 3;
  rgb_[p] = c.r;
  rgb_[p + 1] = c.g;
  rgb_[p + 2] = c.b;
}

void Image::blend_over(int x, int y, Rgb c, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  set(x, y, blend(get(x, y), c, alpha));
}

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

[[noreturn]] void png_error_cb(png_structp png, png_const_charp msg) {
  // Unwind through libpng's longjmp buffer; the caller turns it into a sabre error.
  (void)msg;
  png_longjmp(png, 1);
}
void png_warning_cb(png_structp, png_const_charp) {}

}  // namespace

void write_png(const std::string& target, const Image& image) {
  OutputFile out(target);
  const std::string path = output_name(target);  // for messages
  {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(out.temp_path().c_str(), "wb"));
    if (!f) throw RuntimeError(path + ": cannot write output: cannot create the file");
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_error_cb, png_warning_cb);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!png || !info) {
      png_destroy_write_struct(&png, &info);
      throw RuntimeError(path + ": cannot write output: libpng could not start");
    }
    std::vector<png_bytep> rows(image.height());
    for (int y = 0; y < image.height(); ++y)
      rows[y] = const_cast<png_bytep>(image.rgb().data() + std::size_t(y) * image.width() * 3);
    if (setjmp(png_jmpbuf(png))) {
      png_destroy_write_struct(&png, &info);
      throw RuntimeError(path + ": cannot write output: PNG encoding failed");
    }
    png_init_io(png, f.get());
    png_set_IHDR(png, info, png_uint_32(image.width()), png_uint_32(image.height()), 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows.data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    if (std::fflush(f.get()) != 0)
      throw RuntimeError(path + ": cannot write output: write failed (disk full?)");
  }
  out.commit();
}

Image read_png(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw InputError(path, "no such file or not readable");
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, png_error_cb, png_warning_cb);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw InputError(path, "libpng could not start");
  }
  // Everything that may longjmp happens below; locals with destructors are set up first.
  std::vector<std::uint8_t> data;
  std::vector<png_bytep> rows;
  png_uint_32 w = 0, h = 0;
  int channels = 0;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw InputError(path, "not a readable PNG file");
  }
  png_init_io(png, f.get());
  png_read_info(png, info);
  png_set_strip_16(png);
  png_set_palette_to_rgb(png);
  png_set_gray_to_rgb(png);
  png_read_update_info(png, info);
  w = png_get_image_width(png, info);
  h = png_get_image_height(png, info);
  channels = png_get_channels(png, info);
  data.resize(std::size_t(w) * h * channels);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = data.data() + std::size_t(y) * w * channels;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  if (channels != 3 && channels != 4) throw InputError(path, "unsupported PNG channel count");
  Image img{int(w), int(h)};
  for (png_uint_32 y = 0; y < h; ++y)
    for (png_uint_32 x = 0; x < w; ++x) {
      const std::uint8_t* p = data.data() + (std::size_t(y) * w + x) * channels;
      img.set(int(x), int(y), {p[0], p[1], p[2]});
    }
  return img;
}

Image colour_bar(Colormap map, int width, int height) {
  Image img(width, height);
  for (int x = 0; x < width; ++x) {
    const Rgb c = colour(map, width > 1 ? double(x) / (width - 1) : 0.0);
    for (int y = 0; y < height; ++y) img.set(x, y, c);
  }
  return img;
}

}  // namespace sabre::viz
