#include "engine/check/pdf.hh"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/errors.hh"
#include "core/output_file.hh"

namespace sabre::check {

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '(' || c == ')' || c == '\\') {
      o += '\\';
      o += char(c);
    } else if (c >= 32 && c < 127) {
      o += char(c);
    } else if (c >= 0x80 && c < 0xC0) {
      // a UTF-8 continuation byte: the lead byte already wrote '?'
    } else {
      o += '?';
    }
  }
  return o;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string deflate(const std::string& in) {
  uLongf n = compressBound(uLong(in.size()));
  std::string out(n, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(in.data()), uLong(in.size()),
                6) != Z_OK)
    throw RuntimeError("PDF: compression failed");
  out.resize(n);
  return out;
}

}  // namespace

PdfDocument::Page& PdfDocument::page() {
  if (pages_.empty()) {
    pages_.emplace_back();
    y_ = kMargin;
  }
  return pages_.back();
}

void PdfDocument::need(double pt) {
  page();
  if (y_ + pt > kHeight - kMargin) {
    pages_.emplace_back();
    y_ = kMargin;
    row_x_ = row_h_ = 0;
  }
}

void PdfDocument::end_row() {
  if (row_h_ > 0) y_ += row_h_;
  row_x_ = row_h_ = 0;
}

void PdfDocument::text_at(double x, double y, const std::string& t, const char* font, double size) {
  page().content += "BT /" + std::string(font) + " " + fmt(size) + " Tf " + fmt(x) + " " + fmt(kHeight - y) +
                    " Td (" + escape(t) + ") Tj ET\n";
}

void PdfDocument::space(double pt) {
  end_row();
  page();
  y_ += pt;
}

void PdfDocument::heading(const std::string& text) {
  end_row();
  need(30);
  y_ += 10;
  text_at(kMargin, y_ + 12, text, "F2", 13);
  y_ += 20;
}

void PdfDocument::paragraph(const std::string& text, double size) {
  end_row();
  // Helvetica averages about 0.5 em per character: wrap by count.
  const std::size_t per_line = std::size_t((kWidth - 2 * kMargin) / (0.5 * size));
  std::istringstream words(text);
  std::string w, line;
  auto flush = [&] {
    need(size * 1.35);
    text_at(kMargin, y_ + size, line, "F1", size);
    y_ += size * 1.35;
    line.clear();
  };
  while (words >> w) {
    if (!line.empty() && line.size() + 1 + w.size() > per_line) flush();
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) flush();
  y_ += 3;
}

void PdfDocument::mono(const std::string& line, double size) {
  end_row();
  need(size * 1.3);
  text_at(kMargin, y_ + size, line, "F3", size);
  y_ += size * 1.3;
}

void PdfDocument::picture(const viz::Image& img, double max_width_pt, const std::string& caption) {
  const double avail = kWidth - 2 * kMargin;
  const double w = std::min({max_width_pt, avail, double(img.width())});
  const double h = w * img.height() / std::max(1, img.width());
  const double block = h + 14;
  if (row_x_ > 0 && row_x_ + w > avail) end_row();
  need(block);
  Image im;
  im.w = img.width();
  im.h = img.height();
  im.rgb.reserve(std::size_t(im.w) * im.h * 3);
  for (int y = 0; y < im.h; ++y)
    for (int x = 0; x < im.w; ++x) {
      const viz::Rgb c = img.get(x, y);
      im.rgb += char(c.r);
      im.rgb += char(c.g);
      im.rgb += char(c.b);
    }
  images_.push_back(std::move(im));
  Page& p = page();
  p.images.push_back(int(images_.size()) - 1);
  const double x = kMargin + row_x_;
  p.content += "q " + fmt(w) + " 0 0 " + fmt(h) + " " + fmt(x) + " " + fmt(kHeight - y_ - h) + " cm /Im" +
               std::to_string(images_.size() - 1) + " Do Q\n";
  text_at(x, y_ + h + 10, caption.substr(0, std::size_t(w / 3.6)), "F1", 7);
  row_x_ += w + 8;
  row_h_ = std::max(row_h_, block);
}

void PdfDocument::save(const std::string& path) const {
  // Objects: 1 catalog, 2 pages, 3-5 fonts, then per page (page, content), then images.
  std::vector<std::string> objs;
  const int n_pages = std::max(1, int(pages_.size()));
  const int first_page = 6, first_image = first_page + 2 * n_pages;
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (int i = 0; i < n_pages; ++i) kids += std::to_string(first_page + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n_pages) + " >>");
  for (const char* f : {"Helvetica", "Helvetica-Bold", "Courier"})
    objs.push_back(std::string("<< /Type /Font /Subtype /Type1 /BaseFont /") + f + " /Encoding /WinAnsiEncoding >>");
  for (int i = 0; i < n_pages; ++i) {
    const Page empty;
    const Page& p = i < int(pages_.size()) ? pages_[std::size_t(i)] : empty;
    std::string xobj;
    for (int im : p.images) xobj += "/Im" + std::to_string(im) + " " + std::to_string(first_image + im) + " 0 R ";
    objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + fmt(kWidth) + " " + fmt(kHeight) +
                   "] /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> /XObject << " + xobj +
                   ">> >> /Contents " + std::to_string(first_page + 2 * i + 1) + " 0 R >>");
    const std::string z = deflate(p.content);
    objs.push_back("<< /Length " + std::to_string(z.size()) + " /Filter /FlateDecode >>\nstream\n" + z +
                   "\nendstream");
  }
  for (const auto& im : images_) {
    const std::string z = deflate(im.rgb);
    objs.push_back("<< /Type /XObject /Subtype /Image /Width " + std::to_string(im.w) + " /Height " +
                   std::to_string(im.h) + " /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length " +
                   std::to_string(z.size()) + " >>\nstream\n" + z + "\nendstream");
  }
  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t o : offsets) {
    char b[24];
    std::snprintf(b, sizeof b, "%010zu 00000 n \n", o);
    out += b;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  std::ofstream f(path, std::ios::binary);
  f << out;
  f.close();
  if (!f) throw RuntimeError(path + ": cannot write the PDF");
}

}  // namespace sabre::check
