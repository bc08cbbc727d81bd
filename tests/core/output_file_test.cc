#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/output_file.hh"

namespace fs = std::filesystem;

TEST_CASE("OutputFile renames on commit and leaves nothing on failure", "[core]") {
  const fs::path dir = fs::temp_directory_path() / "sabre_output_file_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string target = (dir / "dose.h5").string();
  {
    sabre::OutputFile out(target);
    std::ofstream(out.temp_path()) << "partial";
    // no commit: destructor removes the temporary
  }
  CHECK(fs::is_empty(dir));
  {
    sabre::OutputFile out(target);
    std::ofstream(out.temp_path()) << "whole";
    out.commit();
  }
  CHECK(fs::exists(target));
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("an unwritable output path is refused before any work", "[core]") {
  CHECK_THROWS_AS(sabre::check_output_paths({"/nonexistent-dir/dose.h5"}), sabre::RuntimeError);
  CHECK_THROWS_WITH(sabre::OutputFile("/nonexistent-dir/dose.h5"),
                    Catch::Contains("/nonexistent-dir/dose.h5") &&
                        Catch::Contains("does not exist"));
  CHECK_THROWS_AS(sabre::check_output_paths({fs::temp_directory_path().string()}),
                  sabre::RuntimeError);
}

TEST_CASE("a signal turns into sabre::Interrupted at the next poll", "[core]") {
  sabre::interrupt::reset_for_tests();
  sabre::interrupt::install_handlers();
  CHECK_NOTHROW(sabre::interrupt::throw_if_requested());
  std::raise(SIGTERM);
  CHECK(sabre::interrupt::requested());
  CHECK_THROWS_AS(sabre::interrupt::throw_if_requested(), sabre::Interrupted);
  sabre::interrupt::reset_for_tests();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}
