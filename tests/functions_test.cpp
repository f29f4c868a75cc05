// mkstemp(), mkdtemp() and mktemp(): what they create, with which modes, and how they fail.
// gettempdir()/set_tempdir() are process-global and live in tempdir_env_test.cpp.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <tempfile/tempfile.hpp>

#include "platform/fault.hpp"
#include "root_test.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
fs::path call_mktemp(const tempfile::options& o) { return tempfile::mktemp(o); }
#pragma GCC diagnostic pop

// Calls `f`, which must throw filesystem_error with errno `err` and a message naming `named`.
void expect_fs_error(const std::function<void()>& f, int err, const fs::path& named) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected errno " << err;
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::error_condition(err, std::generic_category()))
        << "got " << e.code().message() << " (" << e.code().value() << "), want "
        << std::generic_category().message(err) << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("'" + named.string() + "'"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot "), std::string::npos) << e.what();
    EXPECT_EQ(e.path1(), named);
  }
}

void make_mkstemp(const tempfile::options& o) {
  auto r = tempfile::mkstemp(o);
  ::close(r.fd);
}

void make_mkdtemp(const tempfile::options& o) { (void)tempfile::mkdtemp(o); }

class Functions : public tftest::root_test {};

// --- mkstemp -------------------------------------------------------------------------------------

TEST_P(Functions, MkstempReturnsAnOpenCloseOnExecDescriptorAndAnAbsolutePath) {
  auto r = tempfile::mkstemp(in_dir());
  ASSERT_GE(r.fd, 0);
  const int fd_flags = ::fcntl(r.fd, F_GETFD);
  ASSERT_NE(fd_flags, -1);
  EXPECT_TRUE(fd_flags & FD_CLOEXEC);
  const int fl = ::fcntl(r.fd, F_GETFL);
  ASSERT_NE(fl, -1);
  EXPECT_EQ(fl & O_ACCMODE, O_RDWR);

  EXPECT_TRUE(r.path.is_absolute()) << r.path;
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(r.path))) << r.path;
  EXPECT_TRUE(fs::equivalent(r.path.parent_path(), dir()));
  EXPECT_EQ(r.path.filename().string().rfind("tmp", 0), 0u) << r.path;

  // The descriptor is the file at the path.
  struct stat by_fd = {};
  struct stat by_path = {};
  ASSERT_EQ(::fstat(r.fd, &by_fd), 0);
  ASSERT_EQ(::stat(r.path.c_str(), &by_path), 0);
  EXPECT_EQ(by_fd.st_ino, by_path.st_ino);
  EXPECT_EQ(by_fd.st_dev, by_path.st_dev);
  EXPECT_EQ(by_fd.st_size, 0);
  ASSERT_EQ(::write(r.fd, "abc", 3), 3);
  EXPECT_EQ(tftest::slurp(r.path), "abc");

  // The caller owns both: closing the descriptor deletes nothing.
  ASSERT_EQ(::close(r.fd), 0);
  EXPECT_TRUE(fs::exists(r.path));
  EXPECT_EQ(entries().size(), 1u);
}

TEST_P(Functions, MkstempGivesANewFileEachTime) {
  auto a = tempfile::mkstemp(in_dir());
  auto b = tempfile::mkstemp(in_dir());
  EXPECT_NE(a.path, b.path);
  EXPECT_NE(a.fd, b.fd);
  ::close(a.fd);
  ::close(b.fd);
  EXPECT_EQ(entries().size(), 2u);
}

TEST_P(Functions, MkstempRetriesAnInjectedEintrInvisibly) {
  fault::fail(call::open, 1, EINTR, 3);
  auto r = tempfile::mkstemp(in_dir());
  EXPECT_GE(r.fd, 0);
  EXPECT_EQ(fault::calls(call::open), 4u);
  EXPECT_TRUE(fs::exists(r.path));
  ::close(r.fd);
}

TEST_P(Functions, MkstempDoesNotRetryErrorsOtherThanEexist) {
  fault::fail(call::open, 1, ENOSPC);
  expect_fs_error([&] { make_mkstemp(in_dir()); }, ENOSPC, dir());
  EXPECT_EQ(fault::calls(call::open), 1u);
  EXPECT_TRUE(entries().empty());
}

// --- mkdtemp -------------------------------------------------------------------------------------

TEST_P(Functions, MkdtempCreatesAnEmptyPrivateDirectory) {
  const fs::path p = tempfile::mkdtemp(in_dir());
  EXPECT_TRUE(p.is_absolute()) << p;
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(p))) << p;
  EXPECT_TRUE(fs::is_empty(p));
  EXPECT_TRUE(fs::equivalent(p.parent_path(), dir()));
  EXPECT_EQ(p.filename().string().rfind("tmp", 0), 0u) << p;
  EXPECT_NE(tempfile::mkdtemp(in_dir()), p);
  EXPECT_EQ(entries().size(), 2u);
}

TEST_P(Functions, MkdtempRetriesAnInjectedEintrInvisibly) {
  fault::fail(call::mkdir, 1, EINTR, 2);
  const fs::path p = tempfile::mkdtemp(in_dir());
  EXPECT_TRUE(fs::is_directory(p));
  EXPECT_EQ(fault::calls(call::mkdir), 3u);
}

// --- mktemp --------------------------------------------------------------------------------------

TEST_P(Functions, MktempReturnsAFreeNameAndCreatesNothing) {
  for (int i = 0; i < 20; ++i) {
    const fs::path p = call_mktemp({.prefix = "mk_", .suffix = ".x", .dir = dir()});
    EXPECT_TRUE(p.is_absolute()) << p;
    EXPECT_FALSE(fs::exists(fs::symlink_status(p))) << p;
    EXPECT_TRUE(fs::equivalent(p.parent_path(), dir()));
    const std::string name = p.filename().string();
    EXPECT_EQ(name.rfind("mk_", 0), 0u) << name;
    EXPECT_EQ(name.size(), 3u + 8u + 2u) << name;
    EXPECT_EQ(name.substr(name.size() - 2), ".x") << name;
  }
  EXPECT_TRUE(entries().empty());
}

TEST_P(Functions, MktempInAMissingDirectoryThrows) {
  const fs::path missing = dir() / "missing";
  expect_fs_error([&] { (void)call_mktemp({.dir = missing}); }, ENOENT, missing);
  EXPECT_TRUE(entries().empty());
}

TEST_P(Functions, MktempInAPlainFileThrowsEnotdir) {
  const fs::path plain = dir() / "plain";
  tftest::spit(plain, "x");
  expect_fs_error([&] { (void)call_mktemp({.dir = plain}); }, ENOTDIR, plain);
  EXPECT_EQ(entries(), std::vector<std::string>{"plain"});
}

// --- modes ---------------------------------------------------------------------------------------

TEST_P(Functions, DefaultModesAreNotWidenedByUmaskZero) {
  tftest::scoped_umask mask(0);
  auto r = tempfile::mkstemp(in_dir());
  ::close(r.fd);
  EXPECT_EQ(tftest::mode_of(r.path), 0600u);
  EXPECT_EQ(tftest::mode_of(tempfile::mkdtemp(in_dir())), 0700u);
}

TEST_P(Functions, DefaultModesUnderUmask077) {
  tftest::scoped_umask mask(077);
  auto r = tempfile::mkstemp(in_dir());
  ::close(r.fd);
  EXPECT_EQ(tftest::mode_of(r.path), 0600u);
  EXPECT_EQ(tftest::mode_of(tempfile::mkdtemp(in_dir())), 0700u);
}

TEST_P(Functions, OptionsModeIsHonoured) {
  {
    tftest::scoped_umask mask(0);
    auto o = in_dir();
    o.mode = static_cast<fs::perms>(0640);
    auto r = tempfile::mkstemp(o);
    ::close(r.fd);
    EXPECT_EQ(tftest::mode_of(r.path), 0640u);
    o.mode = static_cast<fs::perms>(0750);
    EXPECT_EQ(tftest::mode_of(tempfile::mkdtemp(o)), 0750u);
    o.mode = static_cast<fs::perms>(0400);
    r = tempfile::mkstemp(o);
    // The descriptor is read/write even though the mode is read-only: the file is new.
    EXPECT_EQ(::write(r.fd, "x", 1), 1);
    ::close(r.fd);
    EXPECT_EQ(tftest::mode_of(r.path), 0400u);
  }
  {
    tftest::scoped_umask mask(022);
    auto o = in_dir();
    o.mode = static_cast<fs::perms>(0644);
    auto r = tempfile::mkstemp(o);
    ::close(r.fd);
    EXPECT_EQ(tftest::mode_of(r.path), 0644u);
  }
  {
    // Whatever the umask does, never more than what was asked for.
    tftest::scoped_umask mask(077);
    auto o = in_dir();
    o.mode = static_cast<fs::perms>(0640);
    auto r = tempfile::mkstemp(o);
    ::close(r.fd);
    EXPECT_EQ(tftest::mode_of(r.path) & ~0640u, 0u);
  }
}

// --- errors --------------------------------------------------------------------------------------

// A directory this process cannot create entries in. Root bypasses permission checks, so a 0500
// directory would not stop it: as root the EACCES the kernel would give is injected through the
// fault seam instead (every open and mkdir from now on fails with EACCES).
fs::path unwritable_subdir(const fs::path& parent) {
  const fs::path ro = parent / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() == 0) {
    fault::fail(call::open, 1, EACCES, 0);
    fault::fail(call::mkdir, 1, EACCES, 0);
  }
  return ro;
}

TEST_P(Functions, ReadOnlyDirectoryGivesEacces) {
  const fs::path ro = unwritable_subdir(dir());
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { make_mkstemp({.dir = ro}); }, EACCES, ro);
  expect_fs_error([&] { make_mkdtemp({.dir = ro}); }, EACCES, ro);
  EXPECT_EQ(tftest::open_fd_count(), fds);
  fault::reset();
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST_P(Functions, MissingDirectoryGivesEnoent) {
  const fs::path missing = dir() / "missing";
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { make_mkstemp({.dir = missing}); }, ENOENT, missing);
  expect_fs_error([&] { make_mkdtemp({.dir = missing}); }, ENOENT, missing);
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(entries().empty());
}

TEST_P(Functions, PlainFileAsDirectoryGivesEnotdir) {
  const fs::path plain = dir() / "plain";
  tftest::spit(plain, "content");
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { make_mkstemp({.dir = plain}); }, ENOTDIR, plain);
  expect_fs_error([&] { make_mkdtemp({.dir = plain}); }, ENOTDIR, plain);
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_EQ(entries(), std::vector<std::string>{"plain"});
  EXPECT_EQ(tftest::slurp(plain), "content");
}

TEST_P(Functions, MessagesSayWhatCouldNotBeCreated) {
  const fs::path missing = dir() / "missing";
  try {
    make_mkstemp({.dir = missing});
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("cannot create temporary file in '" + missing.string() + "'"),
        std::string::npos)
        << e.what();
  }
  try {
    make_mkdtemp({.dir = missing});
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create temporary directory in '" +
                                         missing.string() + "'"),
              std::string::npos)
        << e.what();
  }
}

TEST_P(Functions, NoDescriptorLeaksOverManyCalls) {
  const std::size_t fds = tftest::open_fd_count();
  for (int i = 0; i < 200; ++i) {
    auto r = tempfile::mkstemp(in_dir());
    ASSERT_EQ(::close(r.fd), 0);
    fs::remove(r.path);
    fs::remove(tempfile::mkdtemp(in_dir()));
    EXPECT_THROW(make_mkstemp({.dir = dir() / "missing"}), fs::filesystem_error);
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Roots, Functions, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
