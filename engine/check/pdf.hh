// A small PDF 1.4 writer for sabre check's report (engine/check/report.cc): A4 pages of
// text in the standard Helvetica, Helvetica-Bold and Courier fonts (not embedded; ASCII:
// other characters are written as '?') and RGB pictures (Flate-compressed). A flowing
// layout on top: headings, wrapped paragraphs, monospaced table lines, pictures scaled to
// the page, new pages as they fill. Host only.
#pragma once

#include <string>
#include <vector>

#include "engine/viz/png.hh"

namespace sabre::check {

class PdfDocument {
 public:
  static constexpr double kWidth = 595.28, kHeight = 841.89, kMargin = 48;

  void heading(const std::string& text);
  void paragraph(const std::string& text, double size = 9.5);
  void mono(const std::string& line, double size = 7.5);  // one line of a fixed-width table
  void picture(const viz::Image& image, double max_width_pt, const std::string& caption);
  void space(double pt);
  int pages() const { return int(pages_.size()); }

  // The whole document; throws RuntimeError when `path` cannot be written.
  void save(const std::string& path) const;

 private:
  struct Image {
    int w = 0, h = 0;
    std::string rgb;  // w * h * 3 bytes
  };
  struct Page {
    std::string content;          // the page's content stream
    std::vector<int> images;      // indices into images_
  };
  std::vector<Page> pages_;
  std::vector<Image> images_;
  double y_ = 0;       // the cursor: distance from the page's top [pt]
  double row_x_ = 0;   // pictures placed side by side: x of the next one
  double row_h_ = 0;   // the tallest picture of the current row

  Page& page();
  void need(double pt);  // a new page unless `pt` still fits
  void end_row();
  void text_at(double x, double y_from_top, const std::string& text, const char* font, double size);
};

}  // namespace sabre::check
