#include <gtest/gtest.h>
#include <tempfile/tempfile.hpp>
TEST(Smoke, NamedWriteRead) {
  tempfile::named_temporary_file f;
  f.write("hello");
  f.seek(0);
  EXPECT_EQ(f.read(), "hello");
  EXPECT_TRUE(std::filesystem::exists(f.path()));
  auto p = f.path();
  f.close();
  EXPECT_FALSE(std::filesystem::exists(p));
}
