// The phantom description file of sabre simulate (docs/phantom-file.md).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/errors.hh"
#include "engine/phantom_file.hh"

using namespace sabre;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "sabre_phantom_file_test";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

const char* kGood = R"(
[phantom]
voxels = [4, 4, 10]
voxel_cm = [1.0, 1.0, 0.5]
material = "water"

[[slab]]
from_cm = 1.0
to_cm = 2.0
material = "lung"
density_g_cm3 = 0.26

[[slab]]
axis = "x"
from_cm = 0.0
to_cm = 5.0
material = "bone"

[source]
type = "parallel"
field_centre_cm = [0, 0, -1]
field_x_cm = [-1, 1]
field_y_cm = [-0.5, 0.5]
spectrum = "spec.csv"

[run]
histories = 5000
seed = 9
threads = 2

[physics]
rayleigh = false
electron_cut_mev = 0.5
estepe = 0.1
msc_g1_max = 0.05
msc_two_moments = false
msc_tables = false
range_rejection = false
range_rejection_survival = 0.25
far_steps = false
far_msc_g1_max = 0.6
source_splitting = 3

[output]
hdf5 = "out.h5"
)";

std::string error_of(const std::string& text) {
  const auto f = write_tmp("bad.toml", text);
  try {
    load_phantom_file(f);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("A phantom file with slabs, a parallel source and overrides", "[engine][phantom_file]") {
  const auto f = write_tmp("good.toml", kGood);
  const PhantomFile pf = load_phantom_file(f);
  CHECK(pf.grid.nx == 4);
  CHECK(pf.grid.nz == 10);
  CHECK(pf.grid.origin_cm.x == -2.0);
  CHECK(pf.grid.origin_cm.z == 0.0);
  REQUIRE(pf.slabs.size() == 2);
  CHECK(pf.slabs[1].axis == 0);
  CHECK(pf.source.shape == beams::SourceShape::parallel);
  CHECK(pf.source.spectrum == (std::filesystem::path(f).parent_path() / "spec.csv").string());
  CHECK(pf.histories == 5000);
  CHECK(pf.seed == 9);
  CHECK(pf.threads == 2);
  CHECK_FALSE(pf.switches.rayleigh);
  CHECK(*pf.electron_cut_mev == 0.5);
  CHECK(pf.switches.estepe == 0.1);
  CHECK(pf.switches.msc_g1_max == 0.05);
  CHECK_FALSE(pf.switches.msc_two_moments);
  CHECK_FALSE(pf.switches.msc_tables);
  CHECK_FALSE(pf.switches.range_rejection);
  CHECK(pf.switches.range_rejection_survival == 0.25);
  CHECK_FALSE(pf.switches.far_steps);
  CHECK(pf.switches.far_msc_g1_max == 0.6);
  CHECK(pf.switches.source_splitting == 3);
  CHECK(pf.output == (std::filesystem::path(f).parent_path() / "out.h5").string());

  // Materials and densities per voxel (later slabs win; nominal densities by default).
  const Phantom ph = build_phantom(pf, {"water", "lung", "bone"}, {1.0, 0.3, 1.85});
  CHECK(ph.material[pf.grid.index(0, 0, 0)] == 0);
  CHECK(ph.material[pf.grid.index(0, 0, 2)] == 1);  // z centre 1.25 in [1, 2)
  CHECK(ph.density_g_cm3[pf.grid.index(0, 0, 3)] == 0.26f);
  CHECK(ph.material[pf.grid.index(0, 0, 4)] == 0);  // z centre 2.25
  CHECK(ph.material[pf.grid.index(2, 0, 2)] == 2);  // x centre 0.5: bone over lung
  CHECK(ph.density_g_cm3[pf.grid.index(3, 1, 7)] == 1.85f);
  CHECK_THROWS_AS(build_phantom(pf, {"water", "lung"}, {1.0, 0.3}), InputError);
}

TEST_CASE("Phantom file errors name the file and the key", "[engine][phantom_file]") {
  CHECK(error_of("[phantom]\nvoxels = [1,1]\n").find("phantom.voxels") != std::string::npos);
  CHECK(error_of("[phantom]\nvoxels=[1,1,1]\nvoxel_cm=[1,1,1]\n").find("[source]") !=
        std::string::npos);
  const std::string base = "[phantom]\nvoxels=[1,1,1]\nvoxel_cm=[1,1,1]\n";
  CHECK(error_of(base + "[source]\nposition_cm=[0,0,-10]\nfield_centre_cm=[0,0,0]\nenergy_mev=1\ncolour=2\n")
            .find("unknown key 'source.colour'") != std::string::npos);
  CHECK(error_of(base + "[source]\nposition_cm=[0,0,-10]\nfield_centre_cm=[0,0,0]\n").find("energy_mev") !=
        std::string::npos);
  CHECK(error_of(base + "[source]\nposition_cm=[0,0,-10]\nfield_centre_cm=[0,0,0]\nenergy_mev=1\n[run]\nbatches=5\n")
            .find("run.batches") != std::string::npos);
  CHECK(error_of(base + "[source]\nposition_cm=[0,0,-10]\nfield_centre_cm=[0,0,0]\nenergy_mev=1\n[[slab]]\nfrom_cm=2\n"
                        "to_cm=1\nmaterial=\"x\"\n")
            .find("slab[0].to_cm") != std::string::npos);
  const std::string src = base + "[source]\nposition_cm=[0,0,-10]\nfield_centre_cm=[0,0,0]\nenergy_mev=1\n";
  CHECK(error_of(src + "[physics]\nestepe=1.5\n").find("physics.estepe") != std::string::npos);
  CHECK(error_of(src + "[physics]\nestepe=0\n").find("physics.estepe") != std::string::npos);
  CHECK(error_of(src + "[physics]\nmsc_g1_max=-0.1\n").find("physics.msc_g1_max") != std::string::npos);
  CHECK(error_of(src + "[physics]\nrange_rejection_survival=0\n").find("physics.range_rejection_survival") !=
        std::string::npos);
  CHECK(error_of(src + "[physics]\nfar_msc_g1_max=1.5\n").find("physics.far_msc_g1_max") != std::string::npos);
  CHECK(error_of(src + "[physics]\nfar_msc_g1_max=0\n").find("physics.far_msc_g1_max") != std::string::npos);
  // The linac source's margin density is the run file's: a phantom file's sources have no
  // field-restriction margin, so the key is unknown here and the switch reads off.
  CHECK(error_of(src + "[physics]\nsource_margin_density=0.25\n").find("source_margin_density") != std::string::npos);
  CHECK(sabre::PhantomFile{}.switches.source_margin_density == 1);
  // Source splitting: off by default here (cheap sources), a whole number from 1 to 1000.
  CHECK(sabre::PhantomFile{}.switches.source_splitting == 1);
  CHECK(error_of(src + "[physics]\nsource_splitting=0\n").find("physics.source_splitting") != std::string::npos);
  CHECK(error_of(src + "[physics]\nsource_splitting=1.5\n").find("whole number") != std::string::npos);
  // No straggling model, so no switch that would pretend to turn one on or off (issue 21).
  const std::string strag = error_of(src + "[physics]\nstraggling=true\n");
  CHECK(strag.find("physics.straggling") != std::string::npos);
  CHECK(strag.find("no energy-loss straggling") != std::string::npos);
  CHECK(error_of("[phantom\n").find("bad.toml: TOML syntax error at line 1") != std::string::npos);
  CHECK_THROWS_AS(load_phantom_file("/nonexistent/p.toml"), InputError);
}

TEST_CASE("build_source: field axes for a beam along z and along x", "[engine][phantom_file]") {
  SourceSpec s;
  s.direction = {0, 0, 1};
  auto src = build_source(s, nullptr);
  CHECK(src.u_dir.x == 1);
  CHECK(src.v_dir.y == 1);
  s.direction = {1, 0, 0};
  src = build_source(s, nullptr);
  CHECK(src.u_dir.y == Approx(1));
  CHECK(std::abs(phys::dot(src.u_dir, src.axis)) < 1e-15);
  CHECK(std::abs(phys::dot(src.v_dir, src.axis)) < 1e-15);
}

TEST_CASE("Non-uniform voxel boundaries: DOSXYZnrc groups and explicit planes (issue 26)",
          "[engine][phantom_file]") {
  const std::string src = "[source]\nposition_cm=[0,0,-100]\nfield_centre_cm=[0,0,0]\nenergy_mev=1\n";
  // R1's own boundaries (DOSXYZnrc input: -15; 0.25 x 1, 0.5 x 59, 0.25 x 1) in x and y,
  // explicit planes in z.
  const auto f = write_tmp("edges.toml",
                           "[phantom]\nx_start_cm = -15.0\nx_groups = [[0.25, 1], [0.5, 59], [0.25, 1]]\n"
                           "y_groups = [[0.25, 1], [0.5, 59], [0.25, 1]]\n"
                           "z_boundaries_cm = [0, 0.25, 0.75, 1.25, 30]\n"
                           "[[slab]]\naxis = \"z\"\nfrom_cm = 0.5\nto_cm = 1.0\nmaterial = \"lung\"\n" + src);
  const PhantomFile pf = load_phantom_file(f);
  CHECK(pf.grid.nx == 61);
  CHECK(pf.grid.ny == 61);
  CHECK(pf.grid.nz == 4);
  REQUIRE(pf.edges.cm[0].size() == 62);
  CHECK(pf.edges.cm[0].front() == -15.0);
  CHECK(pf.edges.cm[0][1] == -14.75);
  CHECK(pf.edges.cm[0][31] == 0.25);  // the axis runs through the centre of voxel 30
  CHECK(pf.edges.cm[0].back() == 15.0);
  CHECK(pf.edges.cm[1] == pf.edges.cm[0]);  // y defaults to centred on 0
  CHECK(pf.grid.origin_cm.x == -15.0);
  CHECK(pf.grid.spacing_cm.x == 0.25);  // smallest width
  CHECK(pf.grid.uniform());             // the stored grid is pointer-free
  const phys::GridGeometry g = pf.edges.attach(pf.grid);
  CHECK(g.upper_cm().z == 30.0);
  CHECK(g.voxel_volume_cm3(g.index(30, 30, 3)) == Approx(0.25 * 28.75));
  // A slab selects voxels by centre: z centres 0.125, 0.5, 1.0, 15.625 -> voxel 1 only.
  const Phantom ph = build_phantom(pf, {"water", "lung"}, {1.0, 0.26});
  CHECK(ph.material[std::size_t(g.index(0, 0, 1))] == 1);
  CHECK(ph.material[std::size_t(g.index(0, 0, 0))] == 0);
  CHECK(ph.material[std::size_t(g.index(0, 0, 2))] == 0);
  CHECK(ph.view().grid.edges_cm[2] == ph.edges.cm[2].data());

  // Errors name the key.
  CHECK(error_of("[phantom]\nx_groups=[[1,2]]\ny_groups=[[1,2]]\n" + src).find("phantom.z_boundaries_cm") !=
        std::string::npos);
  CHECK(error_of("[phantom]\nvoxels=[1,1,1]\nx_groups=[[1,2]]\ny_groups=[[1,2]]\nz_groups=[[1,2]]\n" + src)
            .find("phantom.voxels") != std::string::npos);
  CHECK(error_of("[phantom]\nx_boundaries_cm=[0,1,1]\ny_groups=[[1,2]]\nz_groups=[[1,2]]\n" + src)
            .find("boundaries must increase") != std::string::npos);
  CHECK(error_of("[phantom]\nx_groups=[[0,2]]\ny_groups=[[1,2]]\nz_groups=[[1,2]]\n" + src)
            .find("phantom.x_groups") != std::string::npos);
  CHECK(error_of("[phantom]\nx_groups=[[1,2.5]]\ny_groups=[[1,2]]\nz_groups=[[1,2]]\n" + src)
            .find("integer count") != std::string::npos);
  CHECK(error_of("[phantom]\nx_boundaries_cm=[0,1]\nx_groups=[[1,2]]\ny_groups=[[1,2]]\nz_groups=[[1,2]]\n" + src)
            .find("not both") != std::string::npos);
  CHECK(error_of("[phantom]\nx_groups=[[0.1,2049]]\ny_groups=[[1,2]]\nz_groups=[[1,2]]\n" + src)
            .find("phantom.x_groups") != std::string::npos);
}
