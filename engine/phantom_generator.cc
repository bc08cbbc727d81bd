#include "engine/phantom_generator.hh"

#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <sstream>

#include "core/errors.hh"
#include "core/number.hh"
#include "engine/io/ct_write.hh"

namespace sabre {
namespace {

constexpr double kPi = std::numbers::pi;

const std::map<std::string, double>& keyword_hu() {
  static const std::map<std::string, double> m = {{"air", -1000}, {"lung", -750}, {"adipose", -100},
                                                  {"water", 0},   {"muscle", 40},  {"bone", 1000}};
  return m;
}

// A shape in patient coordinates [mm] with its axial cross-section as polygons at height z.
struct Shape {
  std::function<bool(double, double, double)> inside;
  std::function<std::vector<std::vector<std::array<double, 2>>>(double)> section;
};

std::vector<std::array<double, 2>> ellipse_poly(double cx, double cy, double a, double b, int n = 72) {
  std::vector<std::array<double, 2>> p;
  for (int t = 0; t < n; ++t) {
    const double ang = 2 * kPi * t / n;
    p.push_back({cx + a * std::cos(ang), cy + b * std::sin(ang)});
  }
  return p;
}

Shape box(double x0, double x1, double y0, double y1, double z0, double z1) {
  return {[=](double x, double y, double z) {
            return x >= x0 && x < x1 && y >= y0 && y < y1 && z >= z0 && z < z1;
          },
          [=](double z) {
            std::vector<std::vector<std::array<double, 2>>> out;
            if (z >= z0 && z < z1) out.push_back({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}});
            return out;
          }};
}

// Elliptic cylinder along z over [z0, z1).
Shape cylinder(double cx, double cy, double a, double b, double z0, double z1) {
  return {[=](double x, double y, double z) {
            const double u = (x - cx) / a, v = (y - cy) / b;
            return u * u + v * v < 1 && z >= z0 && z < z1;
          },
          [=](double z) {
            std::vector<std::vector<std::array<double, 2>>> out;
            if (z >= z0 && z < z1) out.push_back(ellipse_poly(cx, cy, a, b));
            return out;
          }};
}

Shape sphere(double cx, double cy, double cz, double r) {
  return {[=](double x, double y, double z) {
            return (x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) < r * r;
          },
          [=](double z) {
            std::vector<std::vector<std::array<double, 2>>> out;
            const double h = r * r - (z - cz) * (z - cz);
            if (h > 0) out.push_back(ellipse_poly(cx, cy, std::sqrt(h), std::sqrt(h)));
            return out;
          }};
}

struct Layer {
  std::string roi;  // "" : no ROI for this layer
  std::string type;  // RTROIInterpretedType
  double hu;
  Shape shape;
  std::array<int, 3> colour{255, 255, 0};
};

void check_positive(double v, const std::string& what) {
  if (!(v > 0) || !std::isfinite(v)) throw UsageError("phantom: " + what + " must be positive");
}

}  // namespace

std::vector<Slab> parse_slabs(const std::string& spec) {
  std::vector<Slab> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    if (colon == std::string::npos)
      throw UsageError("--slabs: '" + item + "' is not MATERIAL:THICKNESS_MM (e.g. water:20)");
    Slab s;
    s.name = item.substr(0, colon);
    if (const auto t = parse_finite(std::string_view(item).substr(colon + 1))) s.thickness_mm = *t;
    else throw UsageError("--slabs: bad thickness in '" + item + "'");
    check_positive(s.thickness_mm, "slab thickness in '" + item + "'");
    if (const auto it = keyword_hu().find(s.name); it != keyword_hu().end()) {
      s.hu = it->second;
    } else if (s.name.rfind("HU", 0) == 0) {
      if (const auto hu = parse_finite(std::string_view(s.name).substr(2))) s.hu = *hu;
      else throw UsageError("--slabs: bad HU value in '" + item + "'");
    } else {
      throw UsageError("--slabs: unknown material '" + s.name +
                       "' (air, lung, adipose, water, muscle, bone, or HU<value>)");
    }
    out.push_back(s);
  }
  if (out.empty()) throw UsageError("--slabs: no slabs given");
  return out;
}

GeneratedPhantom generate_phantom(const PhantomSpec& spec) {
  check_positive(spec.spacing_mm, "--spacing");
  check_positive(spec.slice_mm, "--slice");
  if (!(spec.margin_mm >= 0)) throw UsageError("phantom: --margin must not be negative");
  io::AxialOrientation ori;
  try {
    ori = io::AxialOrientation::from_position(spec.position);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("phantom: ") + e.what());
  }
  std::array<double, 3> size = spec.size_mm;
  std::vector<Layer> layers;  // painted in order: later layers win
  std::string body_name = "BODY";
  auto dflt = [&](int a, double v) {
    if (size[a] == 0) size[a] = v;
    check_positive(size[a], "--size");
  };
  if (spec.kind == "water") {
    dflt(0, 100), dflt(1, 100), dflt(2, 100);
    layers.push_back({"BODY", "EXTERNAL", 0,
                      box(-size[0] / 2, size[0] / 2, -size[1] / 2, size[1] / 2, -size[2] / 2, size[2] / 2),
                      {0, 128, 255}});
  } else if (spec.kind == "slabs") {
    if (spec.slabs.empty()) throw UsageError("phantom slabs: give the slabs with --slabs");
    double total = 0;
    for (const auto& s : spec.slabs) total += s.thickness_mm;
    dflt(0, 100), dflt(2, 100);
    if (size[1] != 0 && std::abs(size[1] - total) > 1e-6)
      throw UsageError("phantom slabs: --size y must equal the slab thicknesses' sum (" +
                       std::to_string(total) + " mm) or be 0");
    size[1] = total;
    const double x0 = -size[0] / 2, x1 = size[0] / 2, z0 = -size[2] / 2, z1 = size[2] / 2;
    layers.push_back({"BODY", "EXTERNAL", 0, box(x0, x1, -total / 2, total / 2, z0, z1), {0, 128, 255}});
    double y = -total / 2;
    for (const auto& s : spec.slabs) {
      const std::string roi = "SLAB_" + std::to_string(layers.size()) + "_" + s.name;
      layers.push_back({roi, "ORGAN", s.hu, box(x0, x1, y, y + s.thickness_mm, z0, z1), {200, 200, 0}});
      y += s.thickness_mm;
    }
  } else if (spec.kind == "cylinder") {
    // A water cylinder along z (the axis of a tomotherapy gantry for HFS): x and y are its
    // diameter (an ellipse when they differ).
    dflt(0, 300), dflt(1, size[0]), dflt(2, 300);
    layers.push_back({"BODY", "EXTERNAL", 0, cylinder(0, 0, size[0] / 2, size[1] / 2, -size[2] / 2, size[2] / 2),
                      {0, 128, 255}});
  } else if (spec.kind == "thorax") {
    dflt(0, 300), dflt(1, 200), dflt(2, 120);
    const double a = size[0] / 2, b = size[1] / 2, z0 = -size[2] / 2, z1 = size[2] / 2;
    // Proportions of a 300 x 200 mm adult thorax; everything scales with the body size.
    const double sx = a / 150, sy = b / 100;
    layers.push_back({"BODY", "EXTERNAL", 20, cylinder(0, 0, a, b, z0, z1), {0, 128, 255}});
    layers.push_back({"LUNG_R", "ORGAN", -750, cylinder(-65 * sx, -5 * sy, 45 * sx, 60 * sy, z0, z1), {0, 200, 200}});
    layers.push_back({"LUNG_L", "ORGAN", -750, cylinder(65 * sx, -5 * sy, 45 * sx, 60 * sy, z0, z1), {0, 200, 100}});
    // Ribs: 12 mm bands every 30 mm along z, an elliptic shell behind the anterior third.
    Shape ribs{[=](double x, double y, double z) {
                 const double u = x / a, v = y / b, r2 = u * u + v * v;
                 const double zz = std::fmod(std::abs(z - z0), 30.0);
                 return r2 >= 0.86 * 0.86 && r2 < 0.92 * 0.92 && y > -0.5 * b && zz >= 9 && zz < 21 &&
                        z >= z0 && z < z1;
               },
               [](double) { return std::vector<std::vector<std::array<double, 2>>>{}; }};
    layers.push_back({"", "", 1000, ribs});
    layers.push_back({"", "", 700, cylinder(0, 50 * sy, 15 * sx, 15 * sy, z0, z1)});  // vertebral body
    layers.push_back({"", "", 700, cylinder(0, 78 * sy, 13 * sx, 13 * sy, z0, z1)});  // arch
    layers.push_back({"SPINAL_CORD", "ORGAN", 35, cylinder(0, 78 * sy, 7 * sx, 7 * sy, z0, z1), {255, 255, 0}});
    // PTV first so that the GTV (inside it) paints over it; both soft tissue in the lung.
    layers.push_back({"PTV", "PTV", -750, sphere(65 * sx, -5 * sy, 0, 15), {255, 0, 255}});
    layers.push_back({"GTV", "GTV", 30, sphere(65 * sx, -5 * sy, 0, 10), {255, 0, 0}});
  } else {
    throw UsageError("phantom: unknown kind '" + spec.kind + "' (water, cylinder, slabs, thorax)");
  }

  GeneratedPhantom out;
  auto& ct = out.ct;
  ct.orientation = ori;
  ct.patient_position = spec.position;
  auto& g = ct.grid;
  g.nx = int(std::ceil((size[0] + 2 * spec.margin_mm) / spec.spacing_mm - 1e-9));
  g.ny = int(std::ceil((size[1] + 2 * spec.margin_mm) / spec.spacing_mm - 1e-9));
  g.nz = int(std::ceil(size[2] / spec.slice_mm - 1e-9));
  if (g.nx > 1024 || g.ny > 1024 || g.nz > 2000)
    throw UsageError("phantom: the grid " + std::to_string(g.nx) + "x" + std::to_string(g.ny) + "x" +
                     std::to_string(g.nz) + " is too large (at most 1024 x 1024 x 2000)");
  g.spacing_cm = {spec.spacing_mm / 10, spec.spacing_mm / 10, spec.slice_mm / 10};
  g.origin_cm = {-g.nx * spec.spacing_mm / 20, -g.ny * spec.spacing_mm / 20, -g.nz * spec.slice_mm / 20};
  ct.hu.assign(g.size(), -1000.f);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const auto c = g.voxel_centre(i, j, k);
        const double x = 10 * c.x, y = 10 * c.y, z = 10 * c.z;
        for (const auto& l : layers)
          if (l.shape.inside(x, y, z)) ct.hu[g.index(i, j, k)] = float(l.hu);
      }

  out.structures.label = "SABRE_" + spec.kind;
  int number = 0;
  for (const auto& l : layers) {
    if (l.roi.empty()) continue;
    io::Roi roi;
    roi.number = ++number;
    roi.name = l.roi;
    roi.interpreted_type = l.type;
    roi.colour = l.colour;
    for (int k = 0; k < g.nz; ++k) {
      const double z = 10 * (g.origin_cm.z + (k + 0.5) * g.spacing_cm.z);
      for (const auto& poly : l.shape.section(z)) {
        io::Contour c;
        c.geometric_type = "CLOSED_PLANAR";
        for (const auto& p : poly) c.points_mm.push_back({p[0], p[1], z});
        roi.contours.push_back(std::move(c));
      }
    }
    out.structures.rois.push_back(std::move(roi));
  }
  return out;
}

void write_generated_phantom(const std::string& dir, GeneratedPhantom& p, const std::string& uid_seed) {
  io::CtWriteOptions opt;
  opt.uid_seed = uid_seed;
  opt.series_description = "sabre phantom " + p.structures.label;
  io::write_ct_series(dir, p.ct, opt);
  io::write_rtstruct(dir + "/RS.dcm", p.structures, p.ct, uid_seed);
}

}  // namespace sabre
