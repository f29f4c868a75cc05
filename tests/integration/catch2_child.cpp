// A Catch2 program that tmp_path_test runs as a child process, a few test cases at a time
// (chosen by tag). Each test case that gets a directory prints "TMP_PATH <tag> <path>" so the
// driver can look at it afterwards.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "tempfile/catch2.hpp"

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

}  // namespace

TEST_CASE("passing: writes a file", "[pass]") {
  const fs::path p = tmp_path();
  CHECK(p == tmp_path());
  CHECK(fs::is_empty(p));
  write_file(p / "data.txt", "passing");
  fs::create_directories(p / "sub" / "read-only");
  write_file(p / "sub" / "read-only" / "file", "x");
  fs::permissions(p / "sub" / "read-only", fs::perms::owner_read | fs::perms::owner_exec);
  if (const char* victim = std::getenv("TMP_PATH_VICTIM")) {
    fs::create_directory_symlink(victim, p / "link-out");
  }
  announce("pass", p);
}

TEST_CASE("failing: writes a file", "[fail]") {
  const fs::path p = tmp_path();
  write_file(p / "data.txt", "failing");
  announce("fail", p);
  CHECK(false);
}

TEST_CASE("blocking", "[block]") {
  const fs::path p = tmp_path();
  announce("block", p);
  std::string line;
  std::getline(std::cin, line);
  CHECK(line != "fail");
}

TEST_CASE("forks", "[forks]") {
  const fs::path p = tmp_path();
  write_file(p / "from_parent", "parent");
  announce("forks", p);
  std::cout.flush();
  const pid_t pid = ::fork();
  REQUIRE(pid != -1);
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
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::exists(p / "from_parent"));
  CHECK(fs::exists(p / "from_child"));
  FAIL_CHECK("failing on purpose, to keep " << p.string());
}

// A fork()ed child that, instead of exiting, goes back into Catch2, which ends the test case (it
// passed) and the run in the child too: the parent's directory and base must survive that.
TEST_CASE("fork returns", "[forkreturns]") {
  const fs::path p = tmp_path();
  write_file(p / "from_parent", "parent");
  announce("forkreturns", p);
  std::cout.flush();
  const pid_t pid = ::fork();
  REQUIRE(pid != -1);
  if (pid == 0) return;
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::exists(p / "from_parent"));
  FAIL_CHECK("failing on purpose, to keep " << p.string());
}

TEST_CASE("fork first", "[forkfirst]") {
  std::cout.flush();
  const pid_t pid = ::fork();
  REQUIRE(pid != -1);
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
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  announce("forkfirst", tmp_path());
}

// Each pass through the test case (one per leaf section) starts with a fresh directory. Fails
// on purpose so that both directories are kept for the driver.
TEST_CASE("sections", "[sections]") {
  const fs::path p = tmp_path();
  CHECK(fs::is_empty(p));
  write_file(p / "mark", "x");
  SECTION("a") { announce("section-a", p); }
  SECTION("b") { announce("section-b", p); }
  CHECK(false);
}
