// RT Structure Set: write/read round trip of generated ROIs, rasterisation of closed planar
// contours (exact voxel counts, holes by the even-odd rule), and bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <numeric>

#include "core/errors.hh"
#include "engine/io/rtstruct.hh"
#include "tests/engine/io/io_test_util.hh"

using namespace sabre;

namespace {

phys::GridGeometry grid10() {
  phys::GridGeometry g;
  g.origin_cm = {-1, -1, -1};
  g.spacing_cm = {0.2, 0.2, 0.5};
  g.nx = 10;
  g.ny = 10;
  g.nz = 4;  // slice centres at z = -7.5, -2.5, 2.5, 7.5 mm
  return g;
}

io::Contour square(double x0, double x1, double y0, double y1, double z) {
  return {"CLOSED_PLANAR", {{x0, y0, z}, {x1, y0, z}, {x1, y1, z}, {x0, y1, z}}};
}

long count(const std::vector<std::uint8_t>& m) { return std::accumulate(m.begin(), m.end(), 0L); }

}  // namespace

TEST_CASE("rasterising squares: exact voxel counts, nearest plane, holes", "[io][rtstruct]") {
  const auto g = grid10();
  io::Roi roi;
  roi.name = "SQ";
  // An 8 x 6 mm square on the planes z = -2.5 and 2.5 mm. Voxel centres lie at -9, -7, ...
  // 9 mm (2 mm pitch): x in [-4, 4) holds -3, -1, 1, 3 (4 columns); y in [-3, 3) holds
  // -3, -1, 1 (3 rows).
  roi.contours.push_back(square(-4, 4, -3, 3, -2.5));
  roi.contours.push_back(square(-4, 4, -3, 3, 2.5));
  auto m = io::rasterise(roi, g, "test");
  // Planes 5 mm apart: slices at -7.5 and 7.5 mm are 5 mm from the nearest plane, more than
  // half the plane spacing (2.5 mm): outside.
  CHECK(count(m) == 2 * 4 * 3);
  int i, j, k;
  REQUIRE(g.locate({0.1, 0.1, 0.25}, i, j, k));
  CHECK(m[g.index(i, j, k)] == 1);
  REQUIRE(g.locate({0.1, 0.1, 0.75}, i, j, k));
  CHECK(m[g.index(i, j, k)] == 0);

  // A hole: an inner square on the same plane removes its voxels (even-odd rule).
  roi.contours.push_back(square(-2, 2, -2, 2, 2.5));
  m = io::rasterise(roi, g, "test");
  CHECK(count(m) == 4 * 3 + 4 * 3 - 2 * 2);

  // A contour that is not axial is refused with the source named.
  io::Roi tilted;
  tilted.name = "TILT";
  tilted.contours.push_back({"CLOSED_PLANAR", {{0, 0, 0}, {5, 0, 1}, {5, 5, 2}}});
  CHECK_THROWS_WITH(io::rasterise(tilted, g, "rs.dcm"), Catch::StartsWith("rs.dcm: ROI 'TILT'"));
}

TEST_CASE("generated structure sets read back with names, types and contours", "[io][rtstruct]") {
  PhantomSpec spec;
  spec.kind = "thorax";
  spec.size_mm = {200, 140, 30};
  spec.slice_mm = 3;
  auto gen = generate_phantom(spec);
  const auto dir = test::io::write_phantom("rtstruct_roundtrip", spec);
  const auto rs = io::read_rtstruct((dir / "RS.dcm").string());
  std::vector<std::string> names;
  for (const auto& r : rs.rois) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"BODY", "LUNG_R", "LUNG_L", "SPINAL_CORD", "PTV", "GTV"});
  REQUIRE(rs.body() != nullptr);
  CHECK(rs.body()->name == "BODY");
  CHECK(rs.find("gtv") != nullptr);
  CHECK(rs.find("GTV")->interpreted_type == "GTV");
  REQUIRE(rs.rois.size() == gen.structures.rois.size());
  for (std::size_t r = 0; r < rs.rois.size(); ++r) {
    REQUIRE(rs.rois[r].contours.size() == gen.structures.rois[r].contours.size());
    for (std::size_t c = 0; c < rs.rois[r].contours.size(); ++c) {
      const auto& a = rs.rois[r].contours[c].points_mm;
      const auto& b = gen.structures.rois[r].contours[c].points_mm;
      REQUIRE(a.size() == b.size());
      for (std::size_t p = 0; p < a.size(); ++p)
        for (int x = 0; x < 3; ++x) CHECK(a[p][x] == Approx(b[p][x]).margin(1e-6));
    }
  }
  // The lung ROI's mask matches the CT's lung voxels (HU -750) well: contours are 72-gons
  // and the CT is sampled at voxel centres, so only edge voxels may differ.
  const auto mask = io::rasterise(*rs.find("LUNG_L"), gen.ct.grid, "RS.dcm");
  long lung = 0, both = 0;
  for (int k = 0; k < gen.ct.grid.nz; ++k)
    for (int j = 0; j < gen.ct.grid.ny; ++j)
      for (int i = 0; i < gen.ct.grid.nx; ++i) {
        const auto v = gen.ct.grid.index(i, j, k);
        const bool ct_lung = gen.ct.grid.voxel_centre(i, j, k).x > 0 &&
                             (gen.ct.hu[v] == -750.f || gen.ct.hu[v] == 30.f);
        lung += ct_lung;
        both += ct_lung && mask[v];
      }
  REQUIRE(lung > 0);
  CHECK(count(mask) >= lung * 0.97);
  CHECK(count(mask) <= lung * 1.03);
  CHECK(both >= lung * 0.97);
}

TEST_CASE("a CT slice is not a structure set", "[io][rtstruct]") {
  PhantomSpec spec;
  spec.size_mm = {20, 20, 10};
  spec.spacing_mm = 5;
  spec.slice_mm = 5;
  const auto dir = test::io::write_phantom("rtstruct_bad", spec);
  const auto f = (dir / "CT_0001.dcm").string();
  CHECK_THROWS_WITH(io::read_rtstruct(f), f + ": modality is 'CT', not RTSTRUCT (RT Structure Set)");
  CHECK_THROWS_AS(io::read_rtstruct((dir / "none.dcm").string()), InputError);
}
