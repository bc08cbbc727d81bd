#include <catch2/catch.hpp>

#include <filesystem>
#include <cmath>
#include <fstream>
#include <limits>

#include "core/errors.hh"
#include "engine/efficiency.hh"
#include "engine/run_config.hh"

namespace fs = std::filesystem;

namespace {
std::string write_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "sabre_run_config_test";
  fs::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST_CASE("a run file fills the configuration, paths relative to the file", "[engine]") {
  const auto path = write_file("run.toml", R"(
ct = "ct"
plan = "plan.dcm"
structures = "rs.dcm"
histories = 1000000
target_uncertainty = "2%"
seed = 42
calibration_seed = 7
device = "cpu:2"
dose_to = "water"
[output]
hdf5 = "out/dose.h5"
[[override]]
roi = "COUCH"
material = "air"
density_g_cm3 = 0.0012
)");
  sabre::RunConfig cfg;
  sabre::load_run_file(path, cfg);
  const fs::path dir = fs::path(path).parent_path();
  CHECK(cfg.ct_dir == (dir / "ct").string());
  CHECK(cfg.rtplan == (dir / "plan.dcm").string());
  CHECK(cfg.histories == 1000000);
  CHECK(cfg.target_uncertainty == Approx(0.02));
  CHECK(cfg.seed == 42);
  CHECK(cfg.calibration_seed == 7);
  CHECK(cfg.device == "cpu:2");
  CHECK(cfg.dose_to_water);
  CHECK(cfg.output_h5 == (dir / "out/dose.h5").string());
  REQUIRE(cfg.overrides.size() == 1);
  CHECK(cfg.overrides[0].roi == "COUCH");
  CHECK(*cfg.overrides[0].density_g_cm3 == Approx(0.0012));
}

TEST_CASE("run file errors name the file and the problem", "[engine]") {
  sabre::RunConfig cfg;
  CHECK_THROWS_WITH(sabre::load_run_file(write_file("bad1.toml", "histories = \"many\"\n"), cfg),
                    Catch::Contains("bad1.toml") && Catch::Contains("expected an integer"));
  CHECK_THROWS_WITH(sabre::load_run_file(write_file("bad2.toml", "colour = 3\n"), cfg),
                    Catch::Contains("unknown key 'colour'"));
  CHECK_THROWS_WITH(sabre::load_run_file(write_file("bad3.toml", "seed = [\n"), cfg),
                    Catch::Contains("bad3.toml") && Catch::Contains("line"));
  CHECK_THROWS_AS(sabre::load_run_file("/no/such/run.toml", cfg), sabre::InputError);
}

TEST_CASE("validation requires inputs, a stopping rule and an output", "[engine]") {
  sabre::RunConfig cfg;
  CHECK_THROWS_AS(sabre::validate(cfg), sabre::UsageError);
  cfg.ct_dir = "/no/such/ct";
  cfg.rtplan = "/no/such/plan.dcm";
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("no stopping rule"));
  cfg.histories = 10;
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("no output"));
  cfg.output_h5 = "dose.h5";
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("/no/such/ct: CT directory not found"));
}

TEST_CASE("run file keys of sabre run's job: batches, calibration, pictures", "[engine]") {
  const auto path = write_file("run_job.toml", R"(
ct = "ct"
plan = "plan.dcm"
time_limit_s = 60
batch_histories = 5000
calibration_histories = 2000000
calibration_cache = false
[output]
hdf5 = "out/d.h5"
png_dir = "out/png"
slice_at = "max"
phantom_plots = true
)");
  sabre::RunConfig cfg;
  sabre::load_run_file(path, cfg);
  CHECK(cfg.batch_histories == 5000);
  CHECK(cfg.calibration_histories == 2000000);
  CHECK_FALSE(cfg.calibration_cache);
  CHECK(cfg.slice_at == "max");
  CHECK(cfg.phantom_plots);
  CHECK(fs::path(cfg.output_png_dir).filename() == "png");

  sabre::RunConfig bad = cfg;
  bad.slice_at = "centre";
  CHECK_THROWS_AS(sabre::validate(bad), sabre::UsageError);
  bad = cfg;
  bad.calibration_histories = 10;
  CHECK_THROWS_AS(sabre::validate(bad), sabre::UsageError);
  bad = cfg;
  bad.batch_histories = -1;
  CHECK_THROWS_AS(sabre::validate(bad), sabre::UsageError);
}

TEST_CASE("run file keys of the calibration: a target, its batches, a fixed count", "[engine]") {
  sabre::RunConfig dflt;
  CHECK(dflt.calibration_uncertainty == 0);  // not set: the default target (engine/calibration.hh)
  CHECK(dflt.calibration_histories == 0);
  CHECK(dflt.calibration_batch_histories == 0);
  const auto path = write_file("run_cal.toml", R"(
ct = "ct"
plan = "plan.dcm"
histories = 1000
calibration_uncertainty = "0.5%"
calibration_batch_histories = 250000
[output]
hdf5 = "d.h5"
)");
  sabre::RunConfig cfg;
  sabre::load_run_file(path, cfg);
  CHECK(cfg.calibration_uncertainty == Approx(0.005));
  CHECK(cfg.calibration_batch_histories == 250000);
  CHECK(cfg.calibration_histories == 0);
  sabre::RunConfig num;
  sabre::load_run_file(write_file("run_cal2.toml", "calibration_uncertainty = 0.002\n"), num);
  CHECK(num.calibration_uncertainty == 0.002);
  CHECK_THROWS_WITH(sabre::load_run_file(write_file("run_cal3.toml", "calibration_uncertainty = \"lots\"\n"), num),
                    Catch::Contains("calibration_uncertainty"));
  // A string must be a percentage (a bare fraction is written as a TOML number), the whole
  // text before the '%' one finite number (core/number.hh parse_fraction_text).
  for (const char* text : {"0.002", "%", "0.2%%", "0.2% ", "nan%", "0.2x%"}) {
    INFO("calibration_uncertainty = \"" << text << "\"");
    CHECK_THROWS_WITH(sabre::load_run_file(write_file("run_cal4.toml", std::string("calibration_uncertainty = \"") +
                                                                           text + "\"\n"),
                                           num),
                      Catch::Contains("'calibration_uncertainty': expected a finite fraction such as 0.02 or \"2%\""));
  }
  sabre::load_run_file(write_file("run_cal5.toml", "calibration_uncertainty = \"0.2 %\"\n"), num);
  CHECK(num.calibration_uncertainty == Approx(0.002));
  sabre::RunConfig bad = cfg;
  bad.calibration_uncertainty = 1.5;
  CHECK_THROWS_WITH(sabre::validate(bad), Catch::Contains("--calibration-uncertainty"));
  bad = cfg;
  bad.calibration_batch_histories = -5;
  CHECK_THROWS_WITH(sabre::validate(bad), Catch::Contains("--calibration-batch-histories"));
}

TEST_CASE("run file [physics]: the efficiency switches, checked", "[engine][efficiency]") {
  sabre::RunConfig dflt;
  CHECK(dflt.physics.msc_tables);
  CHECK(dflt.physics.range_rejection);
  CHECK(dflt.physics.range_rejection_survival == 0.125);
  CHECK(dflt.physics.source_margin_density == 0.25);
  CHECK(dflt.physics.far_steps);
  CHECK(dflt.physics.source_splitting == 8);
  CHECK(sabre::efficiency_description(dflt.physics) ==
        "msc_tables on; range_rejection on (survival 0.125); source_margin_density 0.25; far_steps on (msc_g1_max 1); "
        "source_splitting 8");
  const auto path = write_file("physics.toml", R"(
ct = "ct"
[physics]
msc_tables = false
range_rejection = false
range_rejection_survival = 0.5
source_margin_density = 1
far_steps = false
source_splitting = 1
)");
  sabre::RunConfig cfg;
  sabre::load_run_file(path, cfg);
  CHECK_FALSE(cfg.physics.msc_tables);
  CHECK_FALSE(cfg.physics.range_rejection);
  CHECK(cfg.physics.range_rejection_survival == 0.5);
  CHECK(cfg.physics.source_margin_density == 1);
  CHECK_FALSE(cfg.physics.far_steps);
  CHECK(cfg.physics.source_splitting == 1);
  // The analog mode's line, as the provenance, the job digest and the calibration key read it.
  CHECK(sabre::efficiency_description(cfg.physics) ==
        "msc_tables off; range_rejection off; source_margin_density 1 (off); far_steps off; source_splitting 1 (off)");
  // The far steps' G1 limit (docs/efficiency.md: 0.25 keeps a third of their gain and a third
  // of their effect next to interfaces); it is part of the line, so of the calibration key.
  const auto g1 = write_file("physics_far_g1.toml", "ct = \"ct\"\n[physics]\nfar_msc_g1_max = 0.25\n");
  sabre::RunConfig c5;
  sabre::load_run_file(g1, c5);
  CHECK(c5.physics.far_msc_g1_max == 0.25);
  CHECK(sabre::efficiency_description(c5.physics) ==
        "msc_tables on; range_rejection on (survival 0.125); source_margin_density 0.25; far_steps on (msc_g1_max 0.25); "
        "source_splitting 8");
  // Only the efficiency keys: any other physics switch is an unknown key in a run file.
  const auto other = write_file("physics_other.toml", "ct = \"ct\"\n[physics]\nestepe = 0.1\n");
  sabre::RunConfig c2;
  CHECK_THROWS_AS(sabre::load_run_file(other, c2), sabre::InputError);
  // Each number of the section outside (0, 1] is refused, naming the key and the file.
  for (const char* key : {"source_margin_density", "range_rejection_survival", "far_msc_g1_max"}) {
    for (const char* bad : {"0", "1.5", "-0.25"}) {
      const auto p = write_file("physics_bad.toml", std::string("ct = \"ct\"\n[physics]\n") + key + " = " + bad + "\n");
      sabre::RunConfig c3;
      try {
        sabre::load_run_file(p, c3);
        FAIL(key << " = " << bad << " was accepted");
      } catch (const sabre::InputError& e) {
        CHECK(std::string(e.what()).find(std::string("'physics.") + key + "'") != std::string::npos);
        CHECK(std::string(e.what()).find("physics_bad.toml") != std::string::npos);
      }
    }
  }
  // The copies per source particle: a whole number from 1 to 1000.
  const auto split = write_file("physics_split.toml", "ct = \"ct\"\n[physics]\nsource_splitting = 3\n");
  sabre::RunConfig c6;
  sabre::load_run_file(split, c6);
  CHECK(c6.physics.source_splitting == 3);
  for (const char* bad : {"0", "2.5", "1001", "-4"}) {
    const auto p = write_file("physics_bad.toml", std::string("ct = \"ct\"\n[physics]\nsource_splitting = ") + bad + "\n");
    sabre::RunConfig c7;
    try {
      sabre::load_run_file(p, c7);
      FAIL("source_splitting = " << bad << " was accepted");
    } catch (const sabre::InputError& e) {
      CHECK(std::string(e.what()).find("'physics.source_splitting'") != std::string::npos);
      CHECK(std::string(e.what()).find("whole number") != std::string::npos);
      CHECK(std::string(e.what()).find("physics_bad.toml") != std::string::npos);
    }
  }
}

TEST_CASE("run file numbers must be finite and in range", "[engine]") {
  // TOML spells nan and inf; before, these passed: nan made every comparison in validate()
  // false (a NaN time limit counted as a stopping rule, a NaN dose grid as "the CT grid" not),
  // a negative override density was dropped silently, and a batch count beyond int wrapped.
  const auto err = [](const std::string& name, const std::string& text) {
    sabre::RunConfig cfg;
    try {
      sabre::load_run_file(write_file(name, text), cfg);
    } catch (const sabre::InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK_THAT(err("nan1.toml", "time_limit_s = nan\n"),
             Catch::Contains("nan1.toml") && Catch::Contains("'time_limit_s'") && Catch::Contains("finite"));
  CHECK_THAT(err("nan2.toml", "dose_grid_mm = inf\n"), Catch::Contains("'dose_grid_mm'") && Catch::Contains("finite"));
  CHECK_THAT(err("nan3.toml", "target_uncertainty = nan\n"),
             Catch::Contains("'target_uncertainty'") && Catch::Contains("finite"));
  CHECK_THAT(err("nan4.toml", "target_uncertainty = \"nan%\"\n"),
             Catch::Contains("'target_uncertainty'") && Catch::Contains("finite"));
  CHECK_THAT(err("nan5.toml", "calibration_uncertainty = -inf\n"),
             Catch::Contains("'calibration_uncertainty'") && Catch::Contains("finite"));
  CHECK_THAT(err("nan6.toml", "[physics]\nsource_margin_density = nan\n"),
             Catch::Contains("'physics.source_margin_density'"));
  CHECK_THAT(err("big1.toml", "batches = 4294967306\n"), Catch::Contains("'batches'"));
  CHECK_THAT(err("neg1.toml", "[[override]]\nroi = \"COUCH\"\ndensity_g_cm3 = -0.5\n"),
             Catch::Contains("'override.density_g_cm3'") && Catch::Contains(">= 0"));
  CHECK_THAT(err("neg2.toml", "[[override]]\nroi = \"COUCH\"\ndensity_g_cm3 = inf\n"),
             Catch::Contains("'override.density_g_cm3'"));
  // The same values from the command line reach validate() directly.
  sabre::RunConfig cfg;
  cfg.ct_dir = "/no/such/ct";
  cfg.rtplan = "/no/such/plan.dcm";
  cfg.output_h5 = "dose.h5";
  cfg.time_limit_s = std::nan("");
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("--time-limit"));
  cfg.time_limit_s = 0;
  cfg.histories = 10;
  cfg.dose_grid_mm = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("--dose-grid"));
  cfg.dose_grid_mm = 0;
  cfg.target_uncertainty = std::nan("");
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("--target-uncertainty"));
  cfg.target_uncertainty = 0;
  cfg.checkpoint_interval_s = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(sabre::validate(cfg), Catch::Contains("--checkpoint-interval"));
}
