// Fuzz harness: the TOML readers (run file, phantom file, machine file, native robotic and
// tomotherapy plans). Every input goes to all of them.
#include "beams/machine.hh"
#include "beams/robotic_plan.hh"
#include "beams/tomo_plan.hh"
#include "engine/phantom_file.hh"
#include "engine/run_config.hh"
#include "tests/fuzz/fuzz_target.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sabre;
  const std::string f = fuzz::write_file("input.toml", data, size);
  fuzz::expect_clean("run file", [&] {
    RunConfig cfg;
    load_run_file(f, cfg);
  });
  fuzz::expect_clean("phantom file", [&] { load_phantom_file(f); });
  fuzz::expect_clean("machine file", [&] { beams::load_machine(f); });
  fuzz::expect_clean("robotic plan", [&] { beams::read_robotic_plan(f); });
  fuzz::expect_clean("tomo plan", [&] { beams::read_tomo_plan(f); });
  return 0;
}
