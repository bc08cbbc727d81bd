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
  // No straggling model, so no switch that would pretend to turn one on or off (issue 21).
  const std::string strag = error_of(src + "[physics]\nstraggling=true\n");
  CHECK(strag.find("physics.straggling") != std::string::npos);
  CHECK(strag.find("no energy-loss straggling") != std::string::npos);
  CHECK(error_of("[phantom\n").find("bad.toml: line 1") != std::string::npos);
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
