#include "engine/check/report.hh"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.hh"
#include "engine/check/pdf.hh"
#include "engine/compare/gamma_output.hh"
#include "engine/viz/dose_pictures.hh"
#include "engine/viz/png.hh"

namespace sabre::check {

using nlohmann::json;
namespace fs = std::filesystem;

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (unsigned(uint8_t(in[i])) << 16) | (unsigned(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = unsigned(uint8_t(in[i])) << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (unsigned(uint8_t(in[i])) << 16) | (unsigned(uint8_t(in[i + 1])) << 8);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string num(double v, int digits = 4) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A DoseResult carrying a total dose (for the pictures).
DoseResult with_total(const DoseResult& d, const std::vector<float>& total) {
  DoseResult r;
  r.grid = d.grid;
  r.dose_gy.assign(total.begin(), total.end());
  r.dose_unit = "Gy";
  return r;
}

std::string pad(std::string t, std::size_t n) {
  if (t.size() > n) t = t.substr(0, n);
  return t + std::string(n - t.size(), ' ');
}
std::string rpad(const std::string& t, std::size_t n) { return t.size() >= n ? t : std::string(n - t.size(), ' ') + t; }

// The report as a PDF: the HTML's sections, tables as fixed-width lines.
void write_pdf(const std::string& path, const json& s, const std::vector<std::pair<std::string, std::string>>& pictures,
               const std::vector<viz::Image>& images, const DoseResult& sab, const DoseResult& tps) {
  PdfDocument d;
  const bool passed = s["verdict"]["passed"].get<bool>();
  d.heading(std::string("sabre check: ") + (passed ? "PASSED" : "FAILED TOLERANCE"));
  d.paragraph("sabre " + s["sabre"]["version"].get<std::string>() + " (" + s["sabre"]["commit"].get<std::string>() + "). " +
              std::to_string(s["fractions"].get<int>()) + " fraction(s) (from " + s["fractions_from"].get<std::string>() +
              "). All doses are totals over the fractions, in Gy.");
  d.heading("1. Verdict");
  if (passed) d.paragraph("Every tolerance and constraint holds.");
  for (const auto& f : s["verdict"]["failures"]) {
    const bool gy = f.contains("value_gy");
    d.paragraph("FAILED: " + f["check"].get<std::string>() + ": " +
                num(gy ? f["value_gy"].get<double>() : f["value_percent"].get<double>()) + (gy ? " Gy" : " %") +
                ", limit " + num(gy ? f["limit_gy"].get<double>() : f["limit_percent"].get<double>()) + (gy ? " Gy" : " %") +
                (f.contains("source") ? " (" + f["source"].get<std::string>() + ")" : ""));
  }
  const auto& tl = s["verdict"]["tolerances"];
  d.paragraph("Tolerances (" + tl["file"].get<std::string>() + "): target Dmean within " +
              num(tl["target_dmean_percent"].get<double>()) + " %, target D95 within " +
              num(tl["target_d95_percent"].get<double>()) + " %, gamma 3%/2mm pass rate at least " +
              num(tl["gamma_3pct_2mm_min_percent"].get<double>()) + " %.");
  d.heading("2. Inputs and quantity");
  for (const auto& [k, v] : s["inputs"].items()) d.mono(pad(k, 12) + " " + v.get<std::string>());
  d.paragraph("sabre dose: " + s["doses"]["sabre"]["stored_as"].get<std::string>() + ", " +
              s["quantity"]["sabre"].get<std::string>() + ". Planning system dose: " +
              s["doses"]["tps"]["stored_as"].get<std::string>() + ", quantity stated: " +
              s["quantity"]["tps"].get<std::string>() + ". Conversion: " + s["quantity"]["conversion"].get<std::string>() + ".");
  d.heading("3. Gamma and dose difference (reference: the planning system)");
  d.mono(pad("criterion", 22) + rpad("threshold", 10) + rpad("evaluated", 11) + rpad("pass rate", 11) + rpad("mean", 8) +
         rpad("95th pct", 10));
  for (const auto& g : s["gamma"])
    d.mono(pad(num(g["dose_percent"].get<double>()) + "%/" + num(g["distance_mm"].get<double>()) + " mm global", 22) +
           rpad(num(g["threshold_percent"].get<double>()) + " %", 10) + rpad(std::to_string(g["evaluated"].get<long long>()), 11) +
           rpad(fixed(g["pass_rate_percent"].get<double>(), 2) + " %", 11) + rpad(fixed(g["mean_gamma"].get<double>(), 3), 8) +
           rpad(fixed(g["gamma_p95"].get<double>(), 3), 10));
  const auto& dd = s["dose_difference"];
  d.paragraph("sabre minus the planning system over the evaluated voxels: mean " + num(dd["mean_gy"].get<double>()) +
              " Gy, SD " + num(dd["sd_gy"].get<double>()) + " Gy, range " + num(dd["min_gy"].get<double>()) + " to " +
              num(dd["max_gy"].get<double>()) + " Gy; mean |difference| " + fixed(dd["mean_abs_percent"].get<double>(), 2) +
              " % of the normalisation dose.");
  for (const auto& p : s["points"])
    d.mono(pad(p["name"].get<std::string>(), 14) + " (" + num(p["position_mm"][0].get<double>()) + ", " +
           num(p["position_mm"][1].get<double>()) + ", " + num(p["position_mm"][2].get<double>()) + ") mm: sabre " +
           num(p["sabre_gy"].get<double>()) + " Gy, planning system " + num(p["tps_gy"].get<double>()) + " Gy, " +
           fixed(p["difference_percent"].get<double>(), 2) + " %");
  d.heading("4. Prescription coverage");
  if (s["coverage"].empty()) d.paragraph("No prescription given (--prescription), or no PTV: not checked.");
  for (const auto& c : s["coverage"])
    d.mono(pad(c["structure"].get<std::string>(), 14) + " " + num(c["prescription_gy"].get<double>()) + " Gy to >= " +
           num(c["required_percent"].get<double>()) + " %: sabre " + fixed(c["sabre_percent"].get<double>(), 1) + " % (" +
           (c["sabre_passed"].get<bool>() ? "pass" : "FAIL") + "), planning system " +
           fixed(c["tps_percent"].get<double>(), 1) + " % (" + (c["tps_passed"].get<bool>() ? "pass" : "FAIL") + ")");
  d.heading("5. Structures: DVH metrics, sabre and the planning system");
  d.mono(pad("structure", 16) + pad("metric", 17) + rpad("sabre", 11) + rpad("TPS", 11) + rpad("diff", 10) +
         rpad("sabre EQD2", 12) + rpad("TPS EQD2", 10) + rpad("a/b", 5));
  for (const auto& st : s["structures"])
    for (const auto& m : st["metrics"]) {
      const bool gy = m["unit"] == "Gy";
      d.mono(pad(st["name"].get<std::string>(), 16) + pad(m["metric"].get<std::string>() + (gy ? " [Gy]" : " [cm3]"), 17) +
             rpad(num(m["sabre"].get<double>()), 11) + rpad(num(m["tps"].get<double>()), 11) +
             rpad(gy ? fixed(m["difference_percent"].get<double>(), 2) + " %" : num(m["difference"].get<double>()), 10) +
             rpad(gy ? num(m["sabre_eqd2_gy"].get<double>()) : "", 12) + rpad(gy ? num(m["tps_eqd2_gy"].get<double>()) : "", 10) +
             rpad(num(st["alpha_beta_gy"].get<double>()), 5));
    }
  d.heading("6. OAR constraints");
  for (const auto& t : s["constraints"]) {
    d.paragraph(t["table"].get<std::string>() + ": " + t["citation"].get<std::string>() + "." +
                (t.contains("note") ? " " + t["note"].get<std::string>() + "." : ""));
    if (t["limits"].empty()) continue;
    d.mono(pad("organ", 28) + pad("structure", 22) + pad("metric", 10) + rpad("limit", 8) + rpad("sabre", 14) +
           rpad("TPS", 14));
    for (const auto& l : t["limits"])
      d.mono(pad(l["organ"].get<std::string>(), 28) + pad(l["structure"].get<std::string>(), 22) +
             pad(l["metric"].get<std::string>(), 10) + rpad(num(l["limit_gy"].get<double>()), 8) +
             rpad(num(l["sabre_gy"].get<double>()) + (l["sabre_passed"].get<bool>() ? " ok" : " FAIL"), 14) +
             rpad(num(l["tps_gy"].get<double>()) + (l["tps_passed"].get<bool>() ? " ok" : " FAIL"), 14));
  }
  d.heading("7. Pictures");
  for (std::size_t i = 0; i < images.size() && i < pictures.size(); ++i)
    d.picture(images[i], pictures[i].first.rfind("DVH", 0) == 0 ? 245 : 245, pictures[i].first);
  d.heading("8. Provenance");
  for (const auto* dose : {&sab, &tps})
    for (const auto& [k, v] : dose->provenance)
      d.mono(std::string(dose == &sab ? "sabre: " : "TPS: ") + k + " = " + v.substr(0, 90));
  d.save(path);
}

}  // namespace

void write_report(const std::string& dir, const ReportInputs& in) {
  const json& s = *in.summary;
  if (fs::exists(dir) && !(fs::is_directory(dir) && fs::is_empty(dir)))
    throw RuntimeError(dir + ": the report directory exists and is not empty");
  const fs::path final_dir = fs::absolute(dir);
  const fs::path tmp = final_dir.parent_path() / (final_dir.filename().string() + ".tmp-sabre");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp / "png", ec) || ec)
    throw RuntimeError(dir + ": cannot create the report directory (" + ec.message() + ")");
  try {
    std::vector<std::pair<std::string, std::string>> pictures;  // (caption, file)
    std::vector<viz::Image> images;                             // the same, for the PDF
    auto picture = [&](const std::string& file, const viz::Image& img, const std::string& caption) {
      viz::write_png((tmp / "png" / file).string(), img);
      pictures.push_back({caption, file});
      images.push_back(img);
    };
    // Slices through the first target's centre (else the sabre maximum): both doses over
    // the CT with the same isodose levels (of the prescription when given, else of the
    // planning system's maximum), the structures outlined.
    double ref = 0;
    for (float v : *in.tps_total) ref = std::max(ref, double(v));
    std::array<double, 3> at{0, 0, 0};
    bool have_at = false;
    for (const auto& st : s["structures"])
      if (st["role"] == "target" && !have_at && in.structures) {
        if (const io::Roi* roi = in.structures->find(st["name"].get<std::string>())) {
          double c[3] = {0, 0, 0};
          std::size_t n = 0;
          for (const auto& ct : roi->contours)
            for (const auto& p : ct.points_mm) {
              for (int a = 0; a < 3; ++a) c[a] += p[a];
              ++n;
            }
          if (n) {
            at = {c[0] / n / 10, c[1] / n / 10, c[2] / n / 10};
            have_at = true;
          }
        }
      }
    const DoseResult sab = with_total(*in.sabre, *in.sabre_total), tps = with_total(*in.tps, *in.tps_total);
    if (in.ct) {
      viz::DoseOverCtOptions vo;
      vo.point_cm = at;
      vo.reference_gy = ref > 0 ? ref : 1;
      vo.structures = in.structures;
      for (auto plane : {viz::Plane::axial, viz::Plane::coronal, viz::Plane::sagittal}) {
        const std::string p = viz::plane_name(plane);
        picture("sabre-" + p + ".png", viz::dose_over_ct(*in.ct, sab, plane, vo), "sabre, " + p);
        picture("tps-" + p + ".png", viz::dose_over_ct(*in.ct, tps, plane, vo), "planning system, " + p);
      }
    }
    if (in.gamma) {
      compare::write_gamma_png((tmp / "png" / "gamma-3pct-2mm.png").string(), *in.gamma, tps);
      pictures.push_back({"gamma 3%/2mm (axial slice " + std::to_string(compare::gamma_png_slice(*in.gamma)) +
                              " of the planning system's grid; grey: not evaluated; white tick on the bar: 1)",
                          "gamma-3pct-2mm.png"});
      images.push_back(viz::read_png((tmp / "png" / "gamma-3pct-2mm.png").string()));
    }
    // DVH overlays: one picture per structure, sabre solid, the planning system as points.
    int k = 0;
    for (const auto& [hs, ht] : in.dvhs) {
      if (hs->empty()) continue;
      viz::Series a, b;
      a.colour = {200, 30, 30};
      b.colour = {20, 40, 160};
      b.points = true;
      const std::size_t n = hs->cumulative_cm3.size();
      const std::size_t step = std::max<std::size_t>(1, n / 400);
      for (std::size_t i = 0; i < n; i += step) {
        a.x.push_back(i * hs->bin_gy);
        a.y.push_back(100 * hs->cumulative_cm3[i] / hs->volume_cm3);
      }
      if (!ht->empty())
        for (std::size_t i = 0; i < ht->cumulative_cm3.size(); i += std::max<std::size_t>(1, ht->cumulative_cm3.size() / 60)) {
          b.x.push_back(i * ht->bin_gy);
          b.y.push_back(100 * ht->cumulative_cm3[i] / ht->volume_cm3);
        }
      const double xmax = std::max(hs->max_gy, ht->max_gy);
      const double tick = xmax > 50 ? 10 : xmax > 20 ? 5 : xmax > 5 ? 1 : 0.5;
      picture("dvh-" + std::to_string(++k) + ".png",
              viz::line_plots({a, b}, tick, "dose (Gy)", "volume (%)", 560, 340),
              "DVH " + hs->name + " (red line: sabre; blue points: planning system)");
    }

    // The HTML.
    std::ostringstream h;
    const bool passed = s["verdict"]["passed"].get<bool>();
    h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sabre check</title><style>"
      << "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:0.5em 0}"
      << "td,th{border:1px solid #bbb;padding:3px 7px;text-align:right}th{background:#eee}"
      << "td.l,th.l{text-align:left}.pass{color:#060;font-weight:bold}.fail{color:#b00;font-weight:bold}"
      << "figure{display:inline-block;margin:6px}figcaption{font-size:80%}</style></head><body>\n";
    h << "<h1>sabre check: <span class=\"" << (passed ? "pass\">PASSED" : "fail\">FAILED TOLERANCE")
      << "</span></h1>\n";
    h << "<p>sabre " << esc(s["sabre"]["version"].get<std::string>()) << " (" << esc(s["sabre"]["commit"].get<std::string>())
      << "). " << s["fractions"].get<int>() << " fraction(s) (from " << esc(s["fractions_from"].get<std::string>())
      << "). All doses are totals over the fractions, in Gy.</p>\n";
    h << "<h2>1. Verdict</h2>\n";
    if (passed) {
      h << "<p class=\"pass\">Every tolerance and constraint holds.</p>\n";
    } else {
      h << "<table><tr><th class=l>failed</th><th>value</th><th>limit</th><th class=l>source</th></tr>\n";
      for (const auto& f : s["verdict"]["failures"]) {
        const bool gy = f.contains("value_gy");
        h << "<tr><td class=l>" << esc(f["check"].get<std::string>()) << "</td><td>"
          << num(gy ? f["value_gy"].get<double>() : f["value_percent"].get<double>()) << (gy ? " Gy" : " %")
          << "</td><td>" << num(gy ? f["limit_gy"].get<double>() : f["limit_percent"].get<double>())
          << (gy ? " Gy" : " %") << "</td><td class=l>"
          << esc(f.contains("source") ? f["source"].get<std::string>() : "tolerance table") << "</td></tr>\n";
      }
      h << "</table>\n";
    }
    const auto& tl = s["verdict"]["tolerances"];
    h << "<p>Tolerances (" << esc(tl["file"].get<std::string>()) << "): target Dmean within "
      << num(tl["target_dmean_percent"].get<double>()) << " %, target D95 within " << num(tl["target_d95_percent"].get<double>())
      << " %, gamma 3%/2mm pass rate at least " << num(tl["gamma_3pct_2mm_min_percent"].get<double>()) << " %.</p>\n";

    h << "<h2>2. Inputs and quantity</h2>\n<table>";
    for (const auto& [k2, v] : s["inputs"].items())
      h << "<tr><th class=l>" << esc(k2) << "</th><td class=l>" << esc(v.get<std::string>()) << "</td></tr>";
    h << "<tr><th class=l>sabre dose</th><td class=l>" << esc(s["doses"]["sabre"]["stored_as"].get<std::string>())
      << ", " << esc(s["quantity"]["sabre"].get<std::string>()) << "</td></tr>";
    h << "<tr><th class=l>planning system dose</th><td class=l>" << esc(s["doses"]["tps"]["stored_as"].get<std::string>())
      << ", quantity stated: " << esc(s["quantity"]["tps"].get<std::string>()) << "</td></tr>";
    h << "<tr><th class=l>conversion</th><td class=l>" << esc(s["quantity"]["conversion"].get<std::string>())
      << "</td></tr></table>\n";

    h << "<h2>3. Gamma and dose difference (reference: the planning system)</h2>\n<table><tr><th>criterion</th>"
      << "<th>threshold</th><th>evaluated voxels</th><th>pass rate</th><th>mean gamma</th><th>gamma 95th pct</th></tr>\n";
    for (const auto& g : s["gamma"])
      h << "<tr><td>" << num(g["dose_percent"].get<double>()) << "%/" << num(g["distance_mm"].get<double>())
        << " mm global</td><td>" << num(g["threshold_percent"].get<double>()) << " %</td><td>" << g["evaluated"].get<long long>()
        << "</td><td>" << fixed(g["pass_rate_percent"].get<double>(), 2) << " %</td><td>" << fixed(g["mean_gamma"].get<double>(), 3)
        << "</td><td>" << fixed(g["gamma_p95"].get<double>(), 3) << "</td></tr>\n";
    h << "</table>\n";
    const auto& dd = s["dose_difference"];
    h << "<p>sabre minus the planning system over the evaluated voxels: mean " << num(dd["mean_gy"].get<double>())
      << " Gy, SD " << num(dd["sd_gy"].get<double>()) << " Gy, range " << num(dd["min_gy"].get<double>()) << " to "
      << num(dd["max_gy"].get<double>()) << " Gy; mean |difference| " << fixed(dd["mean_abs_percent"].get<double>(), 2)
      << " % of the normalisation dose.</p>\n";
    if (!s["points"].empty()) {
      h << "<table><tr><th class=l>point</th><th>position [mm]</th><th>sabre [Gy]</th><th>planning system [Gy]</th>"
        << "<th>difference</th></tr>\n";
      for (const auto& p : s["points"])
        h << "<tr><td class=l>" << esc(p["name"].get<std::string>()) << "</td><td>" << num(p["position_mm"][0].get<double>())
          << ", " << num(p["position_mm"][1].get<double>()) << ", " << num(p["position_mm"][2].get<double>()) << "</td><td>"
          << num(p["sabre_gy"].get<double>()) << "</td><td>" << num(p["tps_gy"].get<double>()) << "</td><td>"
          << fixed(p["difference_percent"].get<double>(), 2) << " %</td></tr>\n";
      h << "</table>\n";
    }

    h << "<h2>4. Prescription coverage</h2>\n";
    if (s["coverage"].empty()) {
      h << "<p>No prescription given (--prescription), or no PTV: not checked.</p>\n";
    } else {
      h << "<table><tr><th class=l>PTV</th><th>prescription</th><th>required</th><th>sabre</th><th>planning system</th></tr>\n";
      for (const auto& c : s["coverage"])
        h << "<tr><td class=l>" << esc(c["structure"].get<std::string>()) << "</td><td>" << num(c["prescription_gy"].get<double>())
          << " Gy</td><td>" << num(c["required_percent"].get<double>()) << " %</td><td class=\""
          << (c["sabre_passed"].get<bool>() ? "pass" : "fail") << "\">" << fixed(c["sabre_percent"].get<double>(), 1)
          << " %</td><td class=\"" << (c["tps_passed"].get<bool>() ? "pass" : "fail") << "\">"
          << fixed(c["tps_percent"].get<double>(), 1) << " %</td></tr>\n";
      h << "</table>\n";
    }

    h << "<h2>5. Structures: DVH metrics, sabre and the planning system</h2>\n<table><tr><th class=l>structure</th>"
      << "<th class=l>metric</th><th>sabre</th><th>planning system</th><th>difference</th><th>sabre EQD2</th>"
      << "<th>planning system EQD2</th><th>&alpha;/&beta;</th></tr>\n";
    for (const auto& st : s["structures"]) {
      for (const auto& m : st["metrics"]) {
        const bool gy = m["unit"] == "Gy";
        h << "<tr><td class=l>" << esc(st["name"].get<std::string>()) << " (" << esc(st["role"].get<std::string>()) << ", "
          << num(st["volume_cm3"].get<double>()) << " cm&sup3;)</td><td class=l>" << esc(m["metric"].get<std::string>())
          << "</td><td>" << num(m["sabre"].get<double>()) << (gy ? " Gy" : " cm&sup3;") << "</td><td>"
          << num(m["tps"].get<double>()) << (gy ? " Gy" : " cm&sup3;") << "</td><td>";
        if (gy) h << fixed(m["difference_percent"].get<double>(), 2) << " %";
        else h << num(m["difference"].get<double>()) << " cm&sup3;";
        h << "</td><td>" << (gy ? num(m["sabre_eqd2_gy"].get<double>()) + " Gy" : "") << "</td><td>"
          << (gy ? num(m["tps_eqd2_gy"].get<double>()) + " Gy" : "") << "</td><td>" << num(st["alpha_beta_gy"].get<double>())
          << " Gy</td></tr>\n";
      }
    }
    h << "</table>\n";

    h << "<h2>6. OAR constraints</h2>\n";
    for (const auto& t : s["constraints"]) {
      h << "<p>" << esc(t["table"].get<std::string>()) << ": " << esc(t["citation"].get<std::string>()) << ".";
      if (t.contains("note")) h << " " << esc(t["note"].get<std::string>()) << ".";
      h << "</p>\n";
      if (t["limits"].empty()) continue;
      h << "<table><tr><th class=l>organ</th><th class=l>structure</th><th>metric</th><th>limit</th><th>sabre</th>"
        << "<th>planning system</th></tr>\n";
      for (const auto& l : t["limits"])
        h << "<tr><td class=l>" << esc(l["organ"].get<std::string>()) << "</td><td class=l>"
          << esc(l["structure"].get<std::string>()) << "</td><td>" << esc(l["metric"].get<std::string>()) << "</td><td>"
          << num(l["limit_gy"].get<double>()) << " Gy</td><td class=\"" << (l["sabre_passed"].get<bool>() ? "pass" : "fail")
          << "\">" << num(l["sabre_gy"].get<double>()) << " Gy</td><td class=\""
          << (l["tps_passed"].get<bool>() ? "pass" : "fail") << "\">" << num(l["tps_gy"].get<double>()) << " Gy</td></tr>\n";
      h << "</table>\n";
    }

    h << "<h2>7. Pictures</h2>\n";
    if (!in.ct) h << "<p>No CT given (--ct): no slices of the doses.</p>\n";
    for (const auto& [caption, file] : pictures)
      h << "<figure><img alt=\"" << esc(caption) << "\" src=\"data:image/png;base64,"
        << base64(slurp((tmp / "png" / file).string())) << "\"><figcaption>" << esc(caption) << "</figcaption></figure>\n";
    h << "<h2>8. Provenance</h2>\n<table>";
    for (const auto* d : {in.sabre, in.tps})
      for (const auto& [k2, v] : d->provenance)
        h << "<tr><th class=l>" << (d == in.sabre ? "sabre: " : "planning system: ") << esc(k2) << "</th><td class=l>"
          << esc(v) << "</td></tr>";
    h << "</table>\n</body></html>\n";
    {
      std::ofstream f(tmp / "report.html");
      f << h.str();
      f.close();
      if (!f) throw RuntimeError(dir + ": cannot write report.html");
    }
    {
      std::ofstream f(tmp / "check.json");
      f << s.dump(1) << "\n";
      f.close();
      if (!f) throw RuntimeError(dir + ": cannot write check.json");
    }
    write_pdf((tmp / "report.pdf").string(), s, pictures, images, *in.sabre, *in.tps);
    if (!in.keep_dose.empty()) {
      fs::rename(in.keep_dose, tmp / "sabre-dose.h5", ec);
      if (ec) {  // another file system: copy
        ec.clear();
        fs::copy_file(in.keep_dose, tmp / "sabre-dose.h5", ec);
        if (ec) throw RuntimeError(dir + ": cannot keep the recomputed dose (" + ec.message() + ")");
      }
    }
    if (fs::exists(final_dir)) fs::remove(final_dir);  // empty (checked above)
    fs::rename(tmp, final_dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace sabre::check
