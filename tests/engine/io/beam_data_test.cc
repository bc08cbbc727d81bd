// Measured beam data (engine/io/beam_data.hh): the same hand-written curves in sabre's CSV,
// w2CAD and PTW mcc forms, dispatch on content, the CSV round trip, and one test per kind of
// bad input (edited copies of the samples in a scratch directory), each checking that the one
// InputError names the file, the line and the problem.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/errors.hh"
#include "engine/io/beam_data.hh"
#include "tests/engine/io/io_test_util.hh"

using namespace sabre;
using namespace sabre::io;
namespace fs = std::filesystem;

namespace {

std::string sample(const std::string& name) {
  return std::string(SABRE_SOURCE_DIR) + "/tests/engine/io/data/beam_data/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch directory of the running test case (test cases may run in parallel under CTest).
fs::path scratch() {
  static std::map<std::string, fs::path> dirs;
  std::string name = Catch::getResultCapture().getCurrentTestName();
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  auto it = dirs.find(name);
  if (it == dirs.end()) it = dirs.emplace(name, test::io::scratch_dir("beam_data/" + name)).first;
  return it->second;
}

std::string write(const std::string& name, const std::string& text) {
  const auto p = (scratch() / name).string();
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// A copy of a sample with the nth occurrence of `from` (which must occur) replaced by `to`,
// written as `name`.
std::string edited(const std::string& name, const std::string& sample_name, const std::string& from,
                   const std::string& to, int nth = 1) {
  std::string text = slurp(sample(sample_name));
  auto at = text.find(from);
  for (int k = 1; k < nth && at != std::string::npos; ++k) at = text.find(from, at + 1);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return write(name, text);
}

// The 1-based line of the first occurrence of `needle` in the file.
int line_of(const std::string& path, const std::string& needle) {
  const std::string text = slurp(path);
  const auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return 1 + int(std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n'));
}

// The message of the InputError that reading `path` throws ("" when it reads).
std::string error_of(const std::string& path) {
  try {
    read_beam_data(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<double> normalised(std::vector<double> v) {
  const double m = *std::max_element(v.begin(), v.end());
  for (auto& x : v) x /= m;
  return v;
}

}  // namespace

TEST_CASE("the hand-written CSV, w2CAD and mcc samples give the same curves", "[beam_data]") {
  const BeamData csv = read_beam_data(sample("sample.csv"));
  REQUIRE(csv.curves.size() == 3);
  REQUIRE(csv.output_factors.size() == 1);
  const auto& of = csv.output_factors[0];
  CHECK(of.field_x_cm == 2);
  CHECK(of.field_y_cm == 2);
  CHECK(of.ssd_cm == 100);
  CHECK(of.depth_cm == 10);
  CHECK(of.detector == "PTW 60019 microDiamond");
  CHECK(of.value == 0.798);

  const auto& pdd = csv.curves[0];
  CHECK(pdd.kind == CurveKind::depth_dose);
  CHECK(pdd.position_cm == std::vector<double>{0, 0.5, 1, 1.5, 2, 5, 10, 20});
  CHECK(csv.curves[1].kind == CurveKind::profile);
  CHECK(csv.curves[1].axis == ProfileAxis::crossplane);
  CHECK(csv.curves[2].axis == ProfileAxis::inplane);
  CHECK(csv.curves[1].source == sample("sample.csv") + ": curve 2");

  for (const char* other : {"sample.asc", "sample.mcc"}) {
    INFO(other);
    const BeamData d = read_beam_data(sample(other));
    CHECK(d.output_factors.empty());
    REQUIRE(d.curves.size() == csv.curves.size());
    for (std::size_t k = 0; k < d.curves.size(); ++k) {
      INFO("curve " << k + 1);
      const auto &a = csv.curves[k], &b = d.curves[k];
      CHECK(b.source == sample(other) + ": curve " + std::to_string(k + 1));
      CHECK(b.kind == a.kind);
      CHECK(b.axis == a.axis);
      CHECK(b.field_x_cm == Approx(a.field_x_cm));
      CHECK(b.field_y_cm == Approx(a.field_y_cm));
      CHECK(b.ssd_cm == Approx(a.ssd_cm));
      CHECK(b.depth_cm == Approx(a.depth_cm));
      CHECK(b.detector == a.detector);
      REQUIRE(b.position_cm.size() == a.position_cm.size());
      const auto va = normalised(a.value), vb = normalised(b.value);
      for (std::size_t i = 0; i < a.position_cm.size(); ++i) {
        CHECK(b.position_cm[i] == Approx(a.position_cm[i]).margin(1e-12));
        CHECK(vb[i] == Approx(va[i]).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("read_beam_data recognises the form by content, not by extension", "[beam_data]") {
  const auto mcc_as_csv = write("really_mcc.csv", slurp(sample("sample.mcc")));
  CHECK(read_beam_data(mcc_as_csv).curves.size() == 3);
  const auto w2_as_txt = write("really_w2cad.txt", slurp(sample("sample.asc")));
  CHECK(read_beam_data(w2_as_txt).curves[0].kind == CurveKind::depth_dose);
  // Each form's own reader refuses the others.
  CHECK_THROWS_AS(read_beam_data_csv(sample("sample.mcc")), InputError);
  CHECK_THROWS_AS(read_beam_data_mcc(sample("sample.asc")), InputError);
  CHECK_THROWS_AS(read_beam_data_w2cad(sample("sample.csv")), InputError);
}

TEST_CASE("sabre's CSV form survives a write/read round trip", "[beam_data]") {
  BeamData d = read_beam_data(sample("sample.csv"));
  d.append(read_beam_data(sample("sample.mcc")));  // values like 0.02 x percent, mm / 10
  const auto out = (scratch() / "round_trip.csv").string();
  write_beam_data_csv(d, out);
  CHECK(slurp(out).rfind("# sabre-beam-data/1\n", 0) == 0);
  for (const auto& e : fs::directory_iterator(scratch()))  // no temporary file left behind
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  const BeamData r = read_beam_data(out);
  REQUIRE(r.curves.size() == d.curves.size());
  REQUIRE(r.output_factors.size() == 1);
  for (std::size_t k = 0; k < d.curves.size(); ++k) {
    const auto &a = d.curves[k], &b = r.curves[k];
    CHECK(b.kind == a.kind);
    CHECK(b.axis == a.axis);
    CHECK(b.field_x_cm == a.field_x_cm);
    CHECK(b.field_y_cm == a.field_y_cm);
    CHECK(b.ssd_cm == a.ssd_cm);
    CHECK(b.depth_cm == a.depth_cm);
    CHECK(b.detector == a.detector);
    CHECK(b.position_cm == a.position_cm);  // exact: shortest round-trip numbers
    CHECK(b.value == a.value);
  }
  CHECK(r.output_factors[0].value == d.output_factors[0].value);
  CHECK(r.output_factors[0].detector == d.output_factors[0].detector);

  // Two curves with the same set-up stay two curves (a blank line separates them).
  BeamData twice;
  twice.curves = {d.curves[0], d.curves[0]};
  write_beam_data_csv(twice, out);
  CHECK(read_beam_data(out).curves.size() == 2);

  // A detector name the form cannot hold is refused, naming the curve.
  twice.curves[0].detector = "chamber, 0.125 cm3";
  try {
    write_beam_data_csv(twice, out);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(twice.curves[0].source +
                                     ": detector name 'chamber, 0.125 cm3' has a comma") == 0);
  }
  for (const auto& e : fs::directory_iterator(scratch()))  // the failed write left nothing
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("beam data: an unknown form is refused with one message", "[beam_data]") {
  const auto p = write("notes.txt", "depth,dose\n0,50\n");
  CHECK(error_of(p) ==
        p + ": not a beam-data form sabre reads: expected sabre's CSV ('# sabre-beam-data/1' on "
            "the first line), w2CAD ($NUMS / $STOM blocks) or PTW mcc (BEGIN_SCAN_DATA)");
  CHECK(error_of("/nonexistent/beam.csv") ==
        "/nonexistent/beam.csv: cannot open the beam-data file");
  const auto v2 = write("v2.csv", "# sabre-beam-data/2\n");
  CHECK(
      error_of(v2) ==
      v2 +
          ":1: unsupported version '# sabre-beam-data/2' (this sabre reads '# sabre-beam-data/1')");
}

TEST_CASE("beam data: a column in another unit is refused (the CSV form is in cm)", "[beam_data]") {
  const auto p = edited("unit_mm.csv", "sample.csv", "detector,position_cm,value",
                        "detector,position_mm,value");
  CHECK(error_of(p) == p + ":" + std::to_string(line_of(p, "kind,axis")) +
                           ": column 'position_mm': sabre's beam-data CSV is in cm (position_cm)");
  const auto q = edited("unit_ssd.csv", "sample.csv", ",ssd_cm,", ",ssd_m,");
  CHECK(error_of(q).find(": column 'ssd_m': sabre's beam-data CSV is in cm (ssd_cm)") !=
        std::string::npos);
}

TEST_CASE("beam data: missing columns and keywords are refused", "[beam_data]") {
  const auto csv = edited("no_detector.csv", "sample.csv", "depth_cm,detector,position_cm",
                          "depth_cm,position_cm");
  CHECK(error_of(csv) == csv + ":" + std::to_string(line_of(csv, "kind,axis")) +
                             ": no column 'detector' in the header row");

  const auto w2 = edited("no_type.asc", "sample.asc", "%TYPE OPP\n%AXIS Y", "%AXIS Y");
  CHECK(error_of(w2) ==
        w2 + ":" + std::to_string(line_of(w2, "# Comment: inplane") - 2) +
            ": curve 3: no %TYPE (curve type: OPD depth dose, OPP profile, DPR diagonal profile)");

  const auto mcc =
      edited("no_curvetype.mcc", "sample.mcc", "\t\tSCAN_CURVETYPE=CROSSPLANE_PROFILE\r\n", "");
  CHECK(error_of(mcc) ==
        mcc + ":" + std::to_string(line_of(mcc, "BEGIN_SCAN  2")) +
            ": curve 2: no SCAN_CURVETYPE (PDD, INPLANE_PROFILE or CROSSPLANE_PROFILE)");
  const auto dir = edited("no_dir.mcc", "sample.mcc", "\t\tINPLANE_AXIS_DIR=GUN_TARGET\r\n", "", 3);
  CHECK(error_of(dir) ==
        dir + ":" + std::to_string(line_of(dir, "BEGIN_SCAN  3")) +
            ": curve 3: no INPLANE_AXIS_DIR (the direction of positive positions)");
}

TEST_CASE("beam data: non-numeric values are refused", "[beam_data]") {
  const auto csv =
      edited("nan.csv", "sample.csv", "PTW 31010 Semiflex,1.5,1\n", "PTW 31010 Semiflex,1.5,one\n");
  CHECK(error_of(csv) ==
        csv + ":" + std::to_string(line_of(csv, ",1.5,one")) + ": value: 'one' is not a number");

  const auto w2 = edited("nan.asc", "sample.asc", "<+000.0 +000.0 +020.0 +099.4>",
                         "<+000.0 +000.0 +020.0 +O99.4>");
  CHECK(error_of(w2) == w2 + ":" + std::to_string(line_of(w2, "+O99.4")) +
                            ": curve 1: point: '+O99.4' is not a number");

  const auto mcc = edited("nan.mcc", "sample.mcc", "\t\tSSD=1000.00", "\t\tSSD=1000,00");
  CHECK(error_of(mcc) == mcc + ":" + std::to_string(line_of(mcc, "SSD=1000,00")) +
                             ": curve 1: SSD: '1000,00' is not a number");
}

TEST_CASE("beam data: positions that turn back are refused, decreasing curves are reversed",
          "[beam_data]") {
  // The mcc sample's depth dose is scanned upwards (200 mm first) and reads increasing.
  const auto pdd = read_beam_data(sample("sample.mcc")).curves[0];
  CHECK(pdd.position_cm.front() == 0);
  CHECK(pdd.position_cm.back() == 20);
  CHECK(pdd.value.front() == Approx(0.92));

  const auto csv =
      edited("order.csv", "sample.csv", "PTW 31010 Semiflex,1.5,1\n", "PTW 31010 Semiflex,0.7,1\n");
  CHECK(error_of(csv) == csv + ":" + std::to_string(line_of(csv, ",0.7,1")) +
                             ": curve 1: positions must all increase or all decrease: 0.7 cm "
                             "follows 1 cm (a curve is scanned in one direction)");

  const auto w2 = edited("order.asc", "sample.asc", "<+055.0 +000.0 +100.0 +051.0>",
                         "<+045.0 +000.0 +100.0 +051.0>");
  CHECK(error_of(w2) == w2 + ":" + std::to_string(line_of(w2, "<+045.0")) +
                            ": curve 2: positions must all increase or all decrease: 4.5 cm "
                            "follows 5 cm (a curve is scanned in one direction)");

  const auto twice =
      edited("repeat.mcc", "sample.mcc", "\t\t\t50.00\t\t884.00E-03", "\t\t\t0.00\t\t884.00E-03");
  CHECK(error_of(twice) == twice + ":" +
                               std::to_string(line_of(twice, "\t\t\t0.00\t\t884.00E-03")) +
                               ": curve 2: positions must all increase or all decrease: 0 cm "
                               "follows 0 cm (a curve is scanned in one direction)");
}

TEST_CASE("beam data: negative dose values are refused below -1 % of the maximum", "[beam_data]") {
  const auto mcc = edited("negative.mcc", "sample.mcc", "\t\t\t80.00\t\t30.000E-03",
                          "\t\t\t80.00\t\t-30.000E-03");
  CHECK(error_of(mcc) == mcc + ":" + std::to_string(line_of(mcc, "-30.000E-03")) +
                             ": curve 2: negative value -0.03 at -8 cm (more negative than -1 % of the "
                             "curve's maximum)");
  // A background-subtracted tail a little below zero is kept as it is.
  const auto tail = edited("negative_tail.mcc", "sample.mcc", "\t\t\t80.00\t\t30.000E-03",
                           "\t\t\t80.00\t\t-5.000E-03");
  const auto d = read_beam_data(tail);
  bool found = false;
  for (const auto& c : d.curves)
    for (double v : c.value) found |= v == -0.005;
  CHECK(found);
  const auto of = edited("negative_of.csv", "sample.csv", ",,0.798", ",,-0.798");
  CHECK(error_of(of) == of + ":" + std::to_string(line_of(of, "-0.798")) +
                            ": output factor -0.798 is not positive");
}

TEST_CASE("beam data: an empty curve is refused", "[beam_data]") {
  std::string text = slurp(sample("sample.asc"));
  const auto b = text.find("<+000.0 +000.0 +000.0 +046.0>"), e = text.find("$ENOM");
  text.erase(b, e - b);
  const auto w2 = write("empty.asc", text);
  CHECK(error_of(w2) ==
        w2 + ":" + std::to_string(line_of(w2, "%PNTS 8")) +
            ": curve 1: %PNTS says 8 points but the measurement has 0 (a truncated file?)");
  std::string t2 = slurp(w2);
  t2.replace(t2.find("%PNTS 8\n"), 8, "");
  const auto w2c = write("empty2.asc", t2);
  CHECK(error_of(w2c) == w2c + ":2: curve 1: has no points (an empty curve)");

  std::string m = slurp(sample("sample.mcc"));
  const auto mb = m.find("\t\t\t-80.00\t\t1.7000E+00"), me = m.find("\t\tEND_DATA", mb);
  m.erase(mb, me - mb);
  const auto mcc = write("empty.mcc", m);
  CHECK(error_of(mcc) == mcc + ":" + std::to_string(line_of(mcc, "BEGIN_SCAN  3")) +
                             ": curve 3: has no points (an empty curve)");
}

TEST_CASE("beam data: truncated files are refused", "[beam_data]") {
  const std::string mcc_text = slurp(sample("sample.mcc"));
  const auto cut =
      write("truncated.mcc", mcc_text.substr(0, mcc_text.find("\t\tEND_DATA\r\n\tEND_SCAN  2")));
  CHECK(error_of(cut) == cut + ":" +
                             std::to_string(line_of(cut, "BEGIN_DATA\r\n\t\t\t-80.00\t\t32")) +
                             ": curve 2: BEGIN_DATA without END_DATA (the file is truncated)");
  const auto no_end =
      edited("no_end_data.mcc", "sample.mcc", "\t\tEND_DATA\r\n\tEND_SCAN  2", "\tEND_SCAN  2");
  CHECK(error_of(no_end) ==
        no_end + ":" + std::to_string(line_of(no_end, "BEGIN_DATA\r\n\t\t\t-80.00\t\t32")) +
            ": curve 2: BEGIN_DATA without END_DATA (a truncated file?)");
  const auto no_end_scan_data =
      write("no_end_scan_data.mcc", mcc_text.substr(0, mcc_text.find("END_SCAN_DATA")));
  CHECK(error_of(no_end_scan_data) ==
        no_end_scan_data + ": BEGIN_SCAN_DATA without END_SCAN_DATA (the file is truncated)");

  const std::string w2_text = slurp(sample("sample.asc"));
  const auto stom = write("truncated.asc", w2_text.substr(0, w2_text.rfind("<+000.0 +080.0")));
  CHECK(error_of(stom) == stom + ":" + std::to_string(line_of(stom, "# Comment: inplane") - 2) +
                              ": curve 3: $STOM without $ENOM (the file is truncated)");
  const auto nums = write("nums.asc", w2_text.substr(0, w2_text.rfind("$STOM")));
  CHECK(error_of(nums) ==
        nums + ":1: $NUMS says 3 measurements but the file has 2 (a truncated file?)");
  const auto pnts = edited("pnts.asc", "sample.asc", "<+080.0 +000.0 +100.0 +003.2>\n", "");
  CHECK(error_of(pnts) ==
        pnts + ":" + std::to_string(line_of(pnts, "%PNTS 9")) +
            ": curve 2: %PNTS says 9 points but the measurement has 8 (a truncated file?)");
}

TEST_CASE("beam data: a set-up that cannot be read is refused", "[beam_data]") {
  const auto ssd = edited("no_ssd.asc", "sample.asc", "%SSD  1000\n", "");
  CHECK(error_of(ssd) == ssd + ":2: curve 1: no %SSD (source-surface distance in mm)");
  const auto field = edited("no_field.mcc", "sample.mcc", "\t\tFIELD_INPLANE=100.00\r\n", "");
  CHECK(error_of(field) ==
        field + ":5: curve 1: no FIELD_INPLANE (field size along inplane, IEC Y, in mm)");
  const auto depth = edited("no_depth.asc", "sample.asc", "%DPTH 100\n", "");
  CHECK(error_of(depth) == depth + ":" +
                               std::to_string(line_of(depth, "# Comment: crossplane") - 2) +
                               ": curve 2: no %DPTH (profile depth in mm)");
  const auto csv_depth = edited("no_depth.csv", "sample.csv", ",10,PTW 31010 Semiflex,-8,0.03",
                                ",,PTW 31010 Semiflex,-8,0.03");
  CHECK(error_of(csv_depth) ==
        csv_depth + ":" + std::to_string(line_of(csv_depth, ",,PTW 31010 Semiflex,-8,0.03")) +
            ": profile row without depth_cm");
}

TEST_CASE("beam data: what cannot be interpreted is refused, not guessed", "[beam_data]") {
  auto check = [](const std::string& path, const std::string& problem) {
    const std::string msg = error_of(path);
    INFO(msg);
    CHECK(msg.rfind(path + ":", 0) == 0);
    CHECK(msg.find(problem) != std::string::npos);
  };
  check(edited("rect.asc", "sample.asc", "%FLSZ 100*100", "%FLSZ 100*200"),
        "curve 1: %FLSZ 100*200 is not square; whether w2CAD gives X*Y or Y*X is not documented");
  check(edited("wedge.asc", "sample.asc", "%TYPE OPD", "%TYPE WDD"),
        "wedged curves (%TYPE WDD) are not read");
  check(edited("upwards.asc", "sample.asc", "<+000.0 +000.0 +000.0 +046.0>",
               "<+000.0 +000.0 -005.0 +046.0>"),
        "curve 1: depth -0.5 cm is above the water surface");
  check(edited("offaxis.asc", "sample.asc", "<+050.0 +000.0 +100.0 +089.1>",
               "<+050.0 +020.0 +100.0 +089.1>"),
        "curve 2: point (50, 20, 100) mm is off the X axis");
  check(edited("diag.mcc", "sample.mcc", "SCAN_DIAGONAL=NOT_DIAGONAL",
               "SCAN_DIAGONAL=FIRST_DIAGONAL"),
        "curve 1: SCAN_DIAGONAL=FIRST_DIAGONAL: diagonal mcc scans are not read");
  check(edited("dir.mcc", "sample.mcc", "CROSSPLANE_AXIS_DIR=RIGHT_LEFT", "CROSSPLANE_AXIS_DIR=A_B",
               2),
        "curve 2: CROSSPLANE_AXIS_DIR=A_B is not LEFT_RIGHT or RIGHT_LEFT");
  check(edited("wedge.mcc", "sample.mcc", "WEDGE_ANGLE=0.00", "WEDGE_ANGLE=60.00"),
        "curve 1: WEDGE_ANGLE=60.00: wedged curves are not read");
  check(edited("coll.mcc", "sample.mcc", "COLL_ANGLE=0.00", "COLL_ANGLE=90.00"),
        "curve 1: COLL_ANGLE=90.00: only collimator 0 is read");
  check(edited("tpr.mcc", "sample.mcc", "SCAN_CURVETYPE=PDD", "SCAN_CURVETYPE=TPR"),
        "curve 1: SCAN_CURVETYPE=TPR is not read");
  check(edited("twice.mcc", "sample.mcc", "\t\tSSD=1000.00\r\n",
               "\t\tSSD=1000.00\r\n\t\tSSD=900.00\r\n"),
        "curve 1: SSD is given twice with different values");
  check(edited("axis.csv", "sample.csv", "profile,inplane,10,10,100,10,PTW 31010 Semiflex,-8",
               "profile,sideways,10,10,100,10,PTW 31010 Semiflex,-8"),
        "profile axis 'sideways' is not crossplane, inplane or diagonal");
}

TEST_CASE("beam data: w2CAD diagonals are read along x = y, signed by x", "[beam_data]") {
  std::string text = slurp(sample("sample.asc"));
  text.replace(text.find("%TYPE OPP\n%AXIS X"), 17, "%TYPE DPR\n%AXIS D");
  for (const char* x : {"080.0", "060.0", "055.0", "050.0"})
    for (const char* s : {"-", "+"}) {
      const std::string from = std::string("<") + s + x + " +000.0",
                        to = std::string("<") + s + x + " " + s + x;
      text.replace(text.find(from), from.size(), to);
    }
  const auto d = read_beam_data(write("diagonal.asc", text)).curves[1];
  CHECK(d.axis == ProfileAxis::diagonal);
  CHECK(d.position_cm.front() == Approx(-8 * std::sqrt(2.0)));
  CHECK(d.position_cm.back() == Approx(8 * std::sqrt(2.0)));
  // The other diagonal (x = -y) is not sabre's diagonal.
  text.replace(text.find("<+080.0 +080.0"), 14, "<+080.0 -080.0");
  const auto p = write("other_diagonal.asc", text);
  CHECK(error_of(p).find("curve 2: point (80, -80, 100) mm is off the diagonal x = y") !=
        std::string::npos);
}

TEST_CASE("beam data: the optional sigma_rel column is read, reversed with its curve, written back, and checked",
          "[beam_data]") {
  // Without the column: no sigmas (the fit's stated uncertainty applies).
  for (const auto& c : read_beam_data(sample("sample.csv")).curves) CHECK(c.sigma_rel.empty());
  const std::string text =
                       "# sabre-beam-data/1\n"
                       "kind,axis,field_x_cm,field_y_cm,ssd_cm,depth_cm,detector,position_cm,value,sigma_rel\n"
                       "depth_dose,,10,10,100,,CC13,3,0.8,0.004\n"
                       "depth_dose,,10,10,100,,CC13,2,0.9,\n"
                       "depth_dose,,10,10,100,,CC13,1,1,0.002\n"
                       "\n"
                       "profile,crossplane,10,10,100,10,CC13,-1,0.5,\n"
                       "profile,crossplane,10,10,100,10,CC13,1,0.5,\n"
                       "output_factor,,2,2,100,10,diode,,0.8,0.006\n";
  const auto p = write("sigma.csv", text);
  const BeamData d = read_beam_data(p);
  REQUIRE(d.curves.size() == 2);
  // Scanned upwards: reversed, the sigmas with the values; a blank is 0 (not given).
  CHECK(d.curves[0].position_cm == std::vector<double>{1, 2, 3});
  CHECK(d.curves[0].sigma_rel == std::vector<double>{0.002, 0, 0.004});
  CHECK(d.curves[1].sigma_rel.empty());  // every row blank: none given
  CHECK(d.output_factors.at(0).sigma_rel == 0.006);
  const auto out = (scratch() / "sigma_round_trip.csv").string();
  write_beam_data_csv(d, out);
  const BeamData r = read_beam_data(out);
  CHECK(r.curves[0].sigma_rel == d.curves[0].sigma_rel);
  CHECK(r.curves[1].sigma_rel.empty());
  CHECK(r.output_factors[0].sigma_rel == 0.006);
  // Without any sigma the writer leaves the column out (the nine-column form as before).
  write_beam_data_csv(read_beam_data(sample("sample.csv")), out);
  CHECK(slurp(out).find("sigma_rel") == std::string::npos);
  // A percentage written as a number is refused, naming the line.
  std::string bad_text = text;
  bad_text.replace(bad_text.find("CC13,1,1,0.002"), 14, "CC13,1,1,2");
  const auto bad = write("sigma_pct.csv", bad_text);
  CHECK(error_of(bad) == bad + ":" + std::to_string(line_of(bad, "CC13,1,1,2")) +
                             ": sigma_rel 2 is not a relative 1-sigma in [0, 1] (a fraction of the value: "
                             "0.004 for 0.4 %)");
}
