// A GoogleTest program that tmp_path_test runs as a child process, one or a few tests at a time
// (--gtest_filter). Each test that gets a directory prints "TMP_PATH <tag> <path>" so the
// driver can look at it afterwards. Linked with GTest::gtest_main: the listener of tmp_path()
// must register itself without help from main(). Run it with a filter: the child process of
// Child.ForkReturns goes on with the tests after it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "tempfile/gtest.hpp"

namespace {

namespace fs = std::filesystem;
using tempfile::testing::tmp_path;

void announce(const std::string& tag, const fs::path& path) {
  std::cout << "TMP_PATH " << tag << " " << path.string() << std::endl;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

TEST(Child, Passing) {
  const fs::path p = tmp_path();
  EXPECT_EQ(p, tmp_path());
  EXPECT_TRUE(fs::is_empty(p));
  write_file(p / "data.txt", "passing");
  // Removal copes with a read-only directory and does not follow a link out of the tree.
  fs::create_directories(p / "sub" / "read-only");
  write_file(p / "sub" / "read-only" / "file", "x");
  fs::permissions(p / "sub" / "read-only", fs::perms::owner_read | fs::perms::owner_exec);
  if (const char* victim = std::getenv("TMP_PATH_VICTIM")) {
    fs::create_directory_symlink(victim, p / "link-out");
  }
  announce("pass", p);
}

TEST(Child, Failing) {
  const fs::path p = tmp_path();
  write_file(p / "data.txt", "failing");
  announce("fail", p);
  ADD_FAILURE() << "failing on purpose";
}

// Holds its directory (and so its run's base) until the driver writes a line on stdin.
TEST(Child, Blocking) {
  const fs::path p = tmp_path();
  announce("block", p);
  std::string line;
  std::getline(std::cin, line);
  if (line == "fail") ADD_FAILURE() << "told to fail";
}

// A fork()ed child gets the same directory, and its exit (static destructors, atexit handlers
// included) removes nothing. Fails on purpose so that the directory is kept for the driver.
TEST(Child, Forks) {
  const fs::path p = tmp_path();
  write_file(p / "from_parent", "parent");
  announce("forks", p);
  std::cout.flush();
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    int code = 0;
    try {
      if (tmp_path() != p) code = 2;
      write_file(p / "from_child", "child");
    } catch (...) {
      code = 3;
    }
    std::exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(fs::exists(p / "from_parent"));
  EXPECT_TRUE(fs::exists(p / "from_child"));
  ADD_FAILURE() << "failing on purpose, to keep " << p;
}

// A fork()ed child that, instead of exiting, goes back into GoogleTest, which ends the test (it
// passed) and the program in the child too: the parent's directory and base must survive that.
TEST(Child, ForkReturns) {
  const fs::path p = tmp_path();
  write_file(p / "from_parent", "parent");
  announce("forkreturns", p);
  std::cout.flush();
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) return;
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(fs::exists(p / "from_parent"));
  ADD_FAILURE() << "failing on purpose, to keep " << p;
}

// A child may not be the first to ask: the parent would never know of the directory.
TEST(Child, ForkFirst) {
  std::cout.flush();
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    int code = 1;
    try {
      (void)tmp_path();
    } catch (const std::logic_error&) {
      code = 0;
    } catch (...) {
      code = 4;
    }
    std::exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  // After the child, the parent may still ask.
  announce("forkfirst", tmp_path());
}

class Outside : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      (void)tmp_path();
      threw_ = false;
    } catch (const std::logic_error&) {
      threw_ = true;
    }
  }
  static bool threw_;
};
bool Outside::threw_ = false;

TEST_F(Outside, LogicErrorInSetUpTestSuite) { EXPECT_TRUE(threw_); }

class Param : public ::testing::TestWithParam<int> {};
TEST_P(Param, Names) { announce("param" + std::to_string(GetParam()), tmp_path()); }
INSTANTIATE_TEST_SUITE_P(Inst, Param, ::testing::Values(1, 2));

template <class T>
class Typed : public ::testing::Test {};
using TypedTypes = ::testing::Types<int, char>;
TYPED_TEST_SUITE(Typed, TypedTypes);
TYPED_TEST(Typed, Names) { announce("typed", tmp_path()); }

}  // namespace
