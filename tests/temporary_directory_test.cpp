// tempfile::temporary_directory: creation, cleanup(), keep(), moves, fork()ed children, and
// removal of trees with symbolic links, missing permissions, great depth and width, entries
// vanishing and failing (through the syscall seam).
#include "tempfile/temporary_directory.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "platform/fault.hpp"
#include "tempfile/functions.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using tempfile::temporary_directory;

constexpr unsigned kHolderMode = 0755;  // not 0700: a chmod to owner rwx would show

static_assert(std::is_nothrow_move_constructible_v<temporary_directory>);
static_assert(std::is_nothrow_move_assignable_v<temporary_directory>);
static_assert(!std::is_copy_constructible_v<temporary_directory>);
static_assert(!std::is_copy_assignable_v<temporary_directory>);

bool gone(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() == fs::file_type::not_found;
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

// Levels of the deep-tree test: 100,000 on tmpfs; 10,000 on disk, where removing a directory
// costs milliseconds (ext4 with online discard frees a few hundred a second) and 10,000 levels
// already prove what the test is for: far more levels than descriptors the process may hold.
// TEMPFILE_TEST_DEEP_LEVELS overrides both.
int deep_levels(const tftest::root& root) {
  if (const char* env = std::getenv("TEMPFILE_TEST_DEEP_LEVELS"); env != nullptr && *env != '\0') {
    return std::atoi(env);
  }
  return root.label == "shm" ? 100000 : 10000;
}

// `levels` nested directories named "d" below `top`, made relative to descriptors since their
// paths outgrow PATH_MAX.
void build_chain(const fs::path& top, int levels) {
  int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + top.string());
  for (int i = 0; i < levels; ++i) {
    if (::mkdirat(fd, "d", 0700) != 0) throw std::runtime_error("mkdirat failed");
    const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    if (next < 0) throw std::runtime_error("openat failed");
    fd = next;
  }
  ::close(fd);
}

// Runs `body(workdir)` in a child process that cannot bypass permission checks: as user and
// group 65534 when this process is root (workdir is handed to that user first). Returns "" on
// success, the child's complaints otherwise, or "SKIP: ..." when that cannot be arranged.
std::string run_unprivileged(const fs::path& workdir, std::string (*body)(const fs::path&)) {
  constexpr unsigned kNobody = 65534;
  const bool root = ::geteuid() == 0;
  if (root && ::chown(workdir.c_str(), kNobody, kNobody) != 0) return "SKIP: chown failed";
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string message;
    if (root &&
        (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) {
      message = "SKIP: cannot drop privileges";
    } else if (::access(workdir.c_str(), W_OK | X_OK) != 0) {
      message = "SKIP: the unprivileged user cannot use " + workdir.string();
    } else {
      try {
        message = body(workdir);
      } catch (const std::exception& e) {
        message = std::string("exception: ") + e.what();
      } catch (...) {
        message = "unknown exception";
      }
    }
    const char* p = message.data();
    std::size_t left = message.size();
    while (left > 0) {
      const ssize_t n = ::write(pipefd[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += " (the child died)";
  return out;
}

#define EXPECT_UNPRIVILEGED(workdir, body)                       \
  do {                                                           \
    const std::string report_ = run_unprivileged(workdir, body); \
    if (report_.rfind("SKIP:", 0) == 0) GTEST_SKIP() << report_; \
    EXPECT_EQ(report_, "");                                      \
  } while (0)

class TemporaryDirectory : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    fault::reset();
    holder_ = std::make_unique<tftest::scratch>(GetParam().path);
    fs::permissions(holder(), static_cast<fs::perms>(kHolderMode));
    fds_before_ = tftest::open_fd_count();
  }
  void TearDown() override {
    fault::reset();
    EXPECT_EQ(tftest::open_fd_count(), fds_before_) << "descriptor leak";
    EXPECT_EQ(tftest::mode_of(holder()), kHolderMode) << "the holding directory was changed";
  }
  const fs::path& holder() const { return holder_->path(); }
  tempfile::options in_holder() const {
    tempfile::options o;
    o.dir = holder();
    return o;
  }

  std::unique_ptr<tftest::scratch> holder_;
  std::size_t fds_before_ = 0;
};

// --- creation -----------------------------------------------------------------------------------

TEST_P(TemporaryDirectory, CreatesAnAbsoluteDirectoryWithMode0700) {
  tftest::scoped_umask umask(0);
  fs::path path;
  {
    temporary_directory td(in_holder());
    path = td.path();
    EXPECT_TRUE(path.is_absolute());
    EXPECT_EQ(path.parent_path(), holder());
    EXPECT_TRUE(fs::is_directory(path));
    EXPECT_EQ(tftest::mode_of(path), 0700u);
    EXPECT_EQ(path.filename().string().rfind("tmp", 0), 0u);
  }
  EXPECT_TRUE(gone(path));
}

TEST_P(TemporaryDirectory, HonoursPrefixSuffixAndMode) {
  tftest::scoped_umask umask(0);
  tempfile::options o = in_holder();
  o.prefix = "pre_";
  o.suffix = ".d";
  o.mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
  temporary_directory td(o);
  const std::string name = td.path().filename().string();
  EXPECT_EQ(name.rfind("pre_", 0), 0u);
  EXPECT_EQ(name.substr(name.size() - 2), ".d");
  EXPECT_EQ(tftest::mode_of(td.path()), 0750u);
}

// A thread keeps the memory of the last directory path it let go of for its next one: paths
// longer and shorter than the one before, one after another and nested, each come out whole.
TEST_P(TemporaryDirectory, PathsOfEveryLengthOneAfterAnother) {
  for (const std::size_t length : {1u, 40u, 3u, 200u, 0u, 120u, 7u}) {
    tempfile::options o = in_holder();
    o.prefix = std::string(length, 'p');
    fs::path path;
    {
      temporary_directory td(o);
      path = td.path();
      EXPECT_EQ(path.parent_path(), holder());
      EXPECT_EQ(path.filename().string().size(), length + 8);
      EXPECT_EQ(path.filename().string().rfind(o.prefix, 0), 0u);
      EXPECT_TRUE(fs::is_directory(path));
      tempfile::options inner;
      inner.dir = td.path();
      inner.prefix = std::string(200 - length, 'q');
      temporary_directory nested(inner);
      EXPECT_EQ(nested.path().parent_path(), path);
      EXPECT_TRUE(fs::is_directory(nested.path()));
    }
    EXPECT_TRUE(gone(path)) << path;
  }
}

TEST_P(TemporaryDirectory, DefaultsToGettempdir) {
  temporary_directory td;
  EXPECT_EQ(td.path().parent_path(), tempfile::gettempdir());
}

TEST_P(TemporaryDirectory, BadOptionsAndMissingDirectoriesThrow) {
  tempfile::options bad = in_holder();
  bad.prefix = "a/b";
  EXPECT_THROW(temporary_directory{bad}, std::invalid_argument);
  tempfile::options missing = in_holder();
  missing.dir = holder() / "missing";
  try {
    temporary_directory td(missing);
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(e.path1(), missing.dir);
  }
  EXPECT_TRUE(tftest::names_in(holder()).empty());
}

// --- cleanup, keep, destruction -----------------------------------------------------------------

TEST_P(TemporaryDirectory, DestructionRemovesTheTree) {
  fs::path path;
  {
    temporary_directory td(in_holder());
    path = td.path();
    tftest::spit(path / "file", "x");
    fs::create_directories(path / "a" / "b");
    tftest::spit(path / "a" / "b" / "file", "y");
  }
  EXPECT_TRUE(gone(path));
}

TEST_P(TemporaryDirectory, EmptyDirectoryIsRemovedWithOneRmdir) {
  temporary_directory td(in_holder());
  fault::reset();
  td.cleanup();
  EXPECT_TRUE(gone(td.path()));
  EXPECT_EQ(fault::calls(fault::call::rmdir), 1u);
  EXPECT_EQ(fault::calls(fault::call::openat), 0u);
  EXPECT_EQ(fault::calls(fault::call::getdents), 0u);
  EXPECT_EQ(fault::calls(fault::call::unlinkat), 0u);
}

TEST_P(TemporaryDirectory, CleanupIsIdempotentAndKeepsThePath) {
  temporary_directory td(in_holder());
  const fs::path path = td.path();
  tftest::spit(path / "file", "x");
  td.cleanup();
  EXPECT_TRUE(gone(path));
  EXPECT_EQ(td.path(), path);
  EXPECT_NO_THROW(td.cleanup());
  // Once removed, the name is no longer ours: neither cleanup() nor destruction touch it again.
  fs::create_directory(path);
  td.cleanup();
  EXPECT_TRUE(fs::is_directory(path));
  { temporary_directory moved(std::move(td)); }
  EXPECT_TRUE(fs::is_directory(path));
  fs::remove(path);
}

TEST_P(TemporaryDirectory, KeepDisarmsRemoval) {
  fs::path kept;
  {
    temporary_directory td(in_holder());
    tftest::spit(td.path() / "file", "x");
    kept = td.keep();
    EXPECT_EQ(kept, td.path());
    EXPECT_EQ(td.keep(), kept);
    td.cleanup();  // kept: no longer ours to remove
    EXPECT_TRUE(fs::is_directory(kept));
  }
  EXPECT_EQ(tftest::slurp(kept / "file"), "x");
  fs::remove_all(kept);

  temporary_directory removed(in_holder());
  removed.cleanup();
  EXPECT_THROW((void)removed.keep(), std::logic_error);
}

TEST_P(TemporaryDirectory, KeepOptionLeavesItButCleanupRemovesIt) {
  tempfile::options o = in_holder();
  o.keep = true;
  fs::path path;
  {
    temporary_directory td(o);
    path = td.path();
    tftest::spit(path / "file", "x");
  }
  EXPECT_TRUE(fs::exists(path / "file"));
  fs::remove_all(path);

  temporary_directory td(o);  // as Python's cleanup() with delete=False: explicit removal works
  tftest::spit(td.path() / "file", "x");
  td.cleanup();
  EXPECT_TRUE(gone(td.path()));
}

TEST_P(TemporaryDirectory, MovesTransferOwnershipAndEmptyTheSource) {
  temporary_directory a(in_holder());
  const fs::path path_a = a.path();
  temporary_directory b(std::move(a));
  EXPECT_TRUE(a.path().empty());  // NOLINT(bugprone-use-after-move): moved-from is specified
  EXPECT_EQ(b.path(), path_a);
  EXPECT_NO_THROW(a.cleanup());
  EXPECT_THROW((void)a.keep(), std::logic_error);
  EXPECT_TRUE(fs::is_directory(path_a));

  temporary_directory c(in_holder());
  const fs::path path_c = c.path();
  tftest::spit(path_c / "file", "x");
  c = std::move(b);  // c's own directory goes first
  EXPECT_TRUE(gone(path_c));
  EXPECT_EQ(c.path(), path_a);
  EXPECT_TRUE(b.path().empty());  // NOLINT(bugprone-use-after-move)
  { temporary_directory sink(std::move(b)); }
  EXPECT_TRUE(fs::is_directory(path_a));
  c.cleanup();
  EXPECT_TRUE(gone(path_a));
}

TEST_P(TemporaryDirectory, ForkedChildNeverRemovesTheParentsDirectory) {
  temporary_directory td(in_holder());
  tftest::spit(td.path() / "file", "x");
  const fs::path path = td.path();
  const fs::path dir = holder();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    {
      temporary_directory inherited(std::move(td));
      inherited.cleanup();
    }
    if (!fs::exists(path / "file")) code |= 1;
    fs::path own_path;
    {
      tempfile::options o;
      o.dir = dir;
      temporary_directory own(o);  // the child's own objects are removed as usual
      own_path = own.path();
    }
    if (fs::exists(own_path)) code |= 2;
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(tftest::slurp(path / "file"), "x");
  td.cleanup();
  EXPECT_TRUE(gone(path));
}

// --- what the tree may contain ------------------------------------------------------------------

TEST_P(TemporaryDirectory, SymbolicLinksAreRemovedNeverFollowed) {
  const fs::path outside = holder() / "outside";
  fs::create_directories(outside / "sub");
  tftest::spit(outside / "file", "outside file");
  tftest::spit(outside / "sub" / "file", "outside sub file");
  const fs::path outside_file = holder() / "outside_file";
  tftest::spit(outside_file, "lonely");
  {
    temporary_directory td(in_holder());
    const fs::path p = td.path();
    fs::create_directory_symlink(outside, p / "dir_link");
    fs::create_symlink(outside_file, p / "file_link");
    fs::create_symlink(holder() / "nowhere", p / "dangling");
    fs::create_directories(p / "nested" / "deeper");
    fs::create_directory_symlink(outside, p / "nested" / "deeper" / "link");
    fs::create_directory_symlink("../../..", p / "nested" / "deeper" / "relative_up");
    fs::create_hard_link(outside_file, p / "hard_link");
    td.cleanup();
    EXPECT_TRUE(gone(p));
  }
  EXPECT_EQ(tftest::slurp(outside / "file"), "outside file");
  EXPECT_EQ(tftest::slurp(outside / "sub" / "file"), "outside sub file");
  EXPECT_EQ(tftest::slurp(outside_file), "lonely");
  EXPECT_EQ(tftest::names_in(holder()), (std::vector<std::string>{"outside", "outside_file"}));
}

// These run as an unprivileged user: root passes every permission check, so it would not see
// what they are about.
std::string read_only_tree(const fs::path& work) {
  std::string report;
  tempfile::options o;
  o.dir = work;
  temporary_directory td(o);
  const fs::path p = td.path();
  fs::create_directories(p / "a" / "b");
  for (const fs::path& f : {p / "f", p / "a" / "f", p / "a" / "b" / "f"}) {
    tftest::spit(f, "x");
    ::chmod(f.c_str(), 0400);
  }
  for (const fs::path& d : {p / "a" / "b", p / "a", p}) ::chmod(d.c_str(), 0500);
  const unsigned holder_mode = tftest::mode_of(work);
  try {
    td.cleanup();
  } catch (const std::exception& e) {
    return std::string("cleanup threw: ") + e.what();
  }
  if (!gone(p)) report += "the read-only tree is still there\n";
  if (tftest::mode_of(work) != holder_mode) report += "the holding directory's mode changed\n";
  return report;
}

TEST_P(TemporaryDirectory, ReadOnlyTreeIsRemoved) {
  EXPECT_UNPRIVILEGED(holder(), &read_only_tree);
}

std::string every_mode_on_nested_directories(const fs::path& work) {
  std::string report;
  for (unsigned mode = 0; mode <= 0700; mode += 0100) {
    tempfile::options o;
    o.dir = work;
    temporary_directory td(o);
    const fs::path a = td.path() / "a";
    const fs::path b = a / "b";
    fs::create_directories(b / "c");
    tftest::spit(a / "f", "x");
    tftest::spit(b / "f", "x");
    tftest::spit(b / "c" / "f", "x");
    fs::create_directory(b / "empty");
    ::chmod((b / "c").c_str(), mode);
    ::chmod((b / "empty").c_str(), mode);
    ::chmod(b.c_str(), mode);
    ::chmod(a.c_str(), mode);
    const unsigned holder_mode = tftest::mode_of(work);
    try {
      td.cleanup();
    } catch (const std::exception& e) {
      report += octal(mode) + ": cleanup threw: " + e.what() + "\n";
      continue;
    }
    if (!gone(td.path())) report += octal(mode) + ": the tree is still there\n";
    if (tftest::mode_of(work) != holder_mode) report += octal(mode) + ": holder mode changed\n";
  }
  return report;
}

TEST_P(TemporaryDirectory, EveryOwnerModeOnNestedDirectories) {
  EXPECT_UNPRIVILEGED(holder(), &every_mode_on_nested_directories);
}

std::string every_mode_on_the_directory_itself(const fs::path& work) {
  std::string report;
  for (unsigned mode = 0; mode <= 0700; mode += 0100) {
    for (const bool empty : {false, true}) {
      tempfile::options o;
      o.dir = work;
      temporary_directory td(o);
      const fs::path p = td.path();
      if (!empty) {
        fs::create_directories(p / "sub");
        tftest::spit(p / "f", "x");
        tftest::spit(p / "sub" / "f", "x");
      }
      ::chmod(p.c_str(), mode);
      const unsigned holder_mode = tftest::mode_of(work);
      const std::string what = octal(mode) + (empty ? " (empty)" : "");
      try {
        td.cleanup();
      } catch (const std::exception& e) {
        report += what + ": cleanup threw: " + e.what() + "\n";
        continue;
      }
      if (!gone(p)) report += what + ": the directory is still there\n";
      if (tftest::mode_of(work) != holder_mode) report += what + ": holder mode changed\n";
    }
  }
  return report;
}

TEST_P(TemporaryDirectory, EveryOwnerModeOnTheDirectoryItself) {
  EXPECT_UNPRIVILEGED(holder(), &every_mode_on_the_directory_itself);
}

std::string read_only_holder(const fs::path& work) {
  std::string report;
  const fs::path holder = work / "holder";
  fs::create_directory(holder);
  ::chmod(holder.c_str(), 0755);
  tempfile::options o;
  o.dir = holder;
  temporary_directory td(o);
  const fs::path p = td.path();
  fs::create_directories(p / "sub");
  tftest::spit(p / "f", "x");
  tftest::spit(p / "sub" / "f", "x");
  ::chmod(holder.c_str(), 0555);
  try {
    td.cleanup();
    report += "cleanup did not throw\n";
  } catch (const fs::filesystem_error& e) {
    if (e.code() != std::errc::permission_denied)
      report += "wrong error: " + e.code().message() + "\n";
    if (e.path1() != p) report += "path1 is not the directory: " + e.path1().string() + "\n";
    const std::string expected = "cannot remove '" + p.string() + "'";
    if (std::string(e.what()).find(expected) == std::string::npos) {
      report += std::string("message: ") + e.what() + "\n";
    }
  }
  if (tftest::mode_of(holder) != 0555) report += "the holding directory's mode changed\n";
  if (!fs::is_directory(p) || !fs::is_empty(p)) report += "the contents were not removed\n";
  ::chmod(holder.c_str(), 0755);
  td.cleanup();
  if (!gone(p)) report += "the second cleanup() did not remove it\n";
  return report;
}

TEST_P(TemporaryDirectory, NeverChangesTheHoldingDirectory) {
  EXPECT_UNPRIVILEGED(holder(), &read_only_holder);
}

// Root, or not: the restoration path seen through the seam.
TEST_P(TemporaryDirectory, PermissionErrorIsRetriedAfterGivingOwnerRwx) {
  temporary_directory td(in_holder());
  fs::create_directory(td.path() / "sub");
  tftest::spit(td.path() / "sub" / "f", "x");
  fault::reset();
  fault::fail(fault::call::unlinkat, 2, EACCES);  // #1: rmdir of "sub"; #2: its file
  td.cleanup();
  EXPECT_TRUE(gone(td.path()));
  EXPECT_EQ(fault::calls(fault::call::fchmod), 1u);
}

TEST_P(TemporaryDirectory, VanishingEntriesAreNotErrors) {
  temporary_directory td(in_holder());
  for (const char* name : {"a", "b", "c"}) tftest::spit(td.path() / name, "x");
  fs::create_directories(td.path() / "sub" / "inner");
  fault::fail(fault::call::unlinkat, 1, ENOENT);
  fault::fail(fault::call::openat, 2, ENOENT);
  EXPECT_NO_THROW(td.cleanup());
  EXPECT_TRUE(gone(td.path()));
}

// --- errors -------------------------------------------------------------------------------------

TEST_P(TemporaryDirectory, CleanupThrowsTheFirstErrorAfterRemovingTheRest) {
  temporary_directory td(in_holder());
  const fs::path p = td.path();
  fs::create_directory(p / "sub");
  for (int i = 0; i < 5; ++i) tftest::spit(p / "sub" / ("g" + std::to_string(i)), "x");
  fault::reset();
  fault::fail(fault::call::unlinkat, 3, EIO);  // #1: rmdir of "sub"; #2..#6: its files
  try {
    td.cleanup();
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.code(), std::error_code(EIO, std::generic_category()));
    EXPECT_EQ(e.path1(), p);
    EXPECT_EQ(e.path2().parent_path(), p / "sub");
    EXPECT_NE(std::string(e.what()).find("cannot remove '" + p.string() + "'"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(tftest::names_in(p), std::vector<std::string>{"sub"});
  EXPECT_EQ(tftest::names_in(p / "sub").size(), 1u);
  td.cleanup();  // still ours: a later cleanup() finishes the job
  EXPECT_TRUE(gone(p));
}

TEST_P(TemporaryDirectory, IgnoreCleanupErrorsRemovesWhatItCanSilently) {
  tempfile::options o = in_holder();
  o.ignore_cleanup_errors = true;
  fs::path p;
  {
    temporary_directory td(o);
    p = td.path();
    for (int i = 0; i < 10; ++i) tftest::spit(p / ("f" + std::to_string(i)), "x");
    fault::reset();
    fault::fail(fault::call::unlinkat, 3, EIO);
    EXPECT_NO_THROW(td.cleanup());
    EXPECT_EQ(tftest::names_in(p).size(), 1u);
    fault::reset();
  }
  EXPECT_TRUE(gone(p));  // the destructor tried again
}

TEST_P(TemporaryDirectory, DestructorNeverThrows) {
  fs::path p;
  {
    temporary_directory td(in_holder());
    p = td.path();
    tftest::spit(p / "f", "x");
    fault::fail(fault::call::unlinkat, 1, EIO, 0);
  }
  fault::reset();
  EXPECT_TRUE(fs::exists(p / "f"));
  fs::remove_all(p);
}

// --- size ---------------------------------------------------------------------------------------

TEST_P(TemporaryDirectory, VeryDeepTreeIsRemoved) {
  temporary_directory td(in_holder());
  build_chain(td.path(), deep_levels(GetParam()));
  const std::size_t fds = tftest::open_fd_count();
  td.cleanup();
  EXPECT_TRUE(gone(td.path()));
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

TEST_P(TemporaryDirectory, HundredThousandFilesAreRemoved) {
  temporary_directory td(in_holder());
  const int dir = ::open(td.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  for (int i = 0; i < 100000; ++i) {
    const std::string name = "file_" + std::to_string(i);
    const int fd = ::openat(dir, name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << name;
    ::close(fd);
  }
  ::close(dir);
  const std::size_t fds = tftest::open_fd_count();
  td.cleanup();
  EXPECT_TRUE(gone(td.path()));
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

TEST_P(TemporaryDirectory, NoDescriptorLeaks) {
  const std::size_t fds = tftest::open_fd_count();
  for (int i = 0; i < 20; ++i) {
    temporary_directory td(in_holder());
    fs::create_directories(td.path() / "a" / "b");
    tftest::spit(td.path() / "a" / "b" / "f", "x");
    if (i % 2 == 0) {
      fault::fail(fault::call::unlinkat, 2, EIO);
      EXPECT_THROW(td.cleanup(), fs::filesystem_error);
      fault::reset();
    }
    temporary_directory other(std::move(td));
    if (i % 3 == 0) other.cleanup();
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(tftest::names_in(holder()).empty());
}

INSTANTIATE_TEST_SUITE_P(Roots, TemporaryDirectory, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
