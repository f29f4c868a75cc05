// A consumer's Catch2 test using tmp_path().
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <tempfile/catch2.hpp>
#include <tempfile/tempfile.hpp>

TEST_CASE("consumer tmp_path") {
  const std::filesystem::path p = tempfile::testing::tmp_path();
  CHECK(std::filesystem::is_directory(p));
  CHECK(p.filename() == "consumer_tmp_path");
  CHECK(p.parent_path().parent_path().parent_path() == tempfile::gettempdir());
  std::ofstream(p / "file") << "data";
}
