// core/h5.hh: round trip of datasets and attributes, deterministic bytes, errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/errors.hh"
#include "core/h5.hh"

namespace {
std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_sample(const std::string& path) {
  auto f = sabre::h5::File::create(path);
  auto g = f.root().create_group("materials");
  g.write("values", std::vector<double>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, {2, 3}, 4);
  g.write("ids", std::vector<std::int32_t>{7, -8, 9}, {3});
  g.set_attr("names", std::vector<std::string>{"water", "air", ""});
  g.set_attr("unit", "cm^2/g");
  g.set_attr("count", 3);
  g.set_attr("cut_mev", 0.189);
  g.set_attr("pair", std::vector<double>{1.0, 2.0});
  f.root().set_attr("empty", "");
  f.close();
}
}  // namespace

TEST_CASE("h5: datasets and attributes round-trip", "[h5]") {
  const auto dir = std::filesystem::temp_directory_path() / "sabre_h5_test";
  std::filesystem::create_directories(dir);
  const std::string p = (dir / "a.h5").string();
  write_sample(p);
  auto f = sabre::h5::File::open(p);
  auto g = f.root().group("materials");
  std::vector<double> v;
  const auto dims = g.read("values", v);
  REQUIRE(dims == std::vector<hsize_t>{2, 3});
  CHECK(v == std::vector<double>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5});
  std::vector<std::int32_t> ids;
  g.read("ids", ids);
  CHECK(ids == std::vector<std::int32_t>{7, -8, 9});
  CHECK(g.attr_strings("names") == std::vector<std::string>{"water", "air", ""});
  CHECK(g.string_list("names") == std::vector<std::string>{"water", "air", ""});
  CHECK(g.attr_string("unit") == "cm^2/g");
  CHECK(g.attr_int("count") == 3);
  CHECK(g.attr_double("cut_mev") == 0.189);
  CHECK(g.attr_doubles("pair") == std::vector<double>{1.0, 2.0});
  CHECK(f.root().attr_string("empty").empty());
  CHECK(f.root().children() == std::vector<std::string>{"materials"});
  CHECK(g.children() == std::vector<std::string>{"values", "ids"});
  CHECK_THROWS_AS(g.read("nope", v), sabre::InputError);
  CHECK_THROWS_AS(g.read("values", ids), sabre::InputError);  // wrong type
  CHECK_THROWS_AS(g.attr_int("unit"), sabre::InputError);
}

TEST_CASE("h5: the same calls give byte-identical files", "[h5]") {
  const auto dir = std::filesystem::temp_directory_path() / "sabre_h5_test";
  std::filesystem::create_directories(dir);
  write_sample((dir / "b1.h5").string());
  write_sample((dir / "b2.h5").string());
  const auto a = slurp((dir / "b1.h5").string());
  const auto b = slurp((dir / "b2.h5").string());
  REQUIRE(!a.empty());
  CHECK(a == b);
}

TEST_CASE("h5: a missing or non-HDF5 file is an InputError naming it", "[h5]") {
  const auto dir = std::filesystem::temp_directory_path() / "sabre_h5_test";
  std::filesystem::create_directories(dir);
  const std::string missing = (dir / "missing.h5").string();
  std::filesystem::remove(missing);
  try {
    sabre::h5::File::open(missing);
    FAIL("no exception");
  } catch (const sabre::InputError& e) {
    CHECK(std::string(e.what()) == missing + ": no such file");
  }
  const std::string text = (dir / "text.h5").string();
  std::ofstream(text) << "not hdf5\n";
  CHECK_THROWS_AS(sabre::h5::File::open(text), sabre::InputError);
}

// Files of earlier versions keep string lists in fixed-length string datasets: still read.
TEST_CASE("h5: string lists of earlier files (fixed-length datasets) are read", "[h5]") {
  const auto dir = std::filesystem::temp_directory_path() / "sabre_h5_test";
  std::filesystem::create_directories(dir);
  const std::string p = (dir / "legacy.h5").string();
  {
    auto f = sabre::h5::File::create(p);
    const char buf[2][6] = {"water", "air"};
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 6);
    const hsize_t n = 2;
    hid_t sp = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(f.root().id(), "names", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    f.close();
  }
  CHECK(sabre::h5::File::open(p).root().string_list("names") == std::vector<std::string>{"water", "air"});
}
