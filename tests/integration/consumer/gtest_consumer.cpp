// A consumer's GoogleTest test using tmp_path(), with GTest::gtest_main.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <tempfile/gtest.hpp>
#include <tempfile/tempfile.hpp>

TEST(Consumer, TmpPath) {
  const std::filesystem::path p = tempfile::testing::tmp_path();
  EXPECT_TRUE(std::filesystem::is_directory(p));
  EXPECT_EQ(p.filename(), "Consumer.TmpPath");
  EXPECT_EQ(p.parent_path().parent_path().parent_path(), tempfile::gettempdir());
  std::ofstream(p / "file") << "data";
}
