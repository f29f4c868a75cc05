// tempfile::temporary_file: a file that never has a visible name.
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
#include <type_traits>
#include <vector>

#include "platform/fault.hpp"
#include "root_test.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;

static_assert(std::is_base_of_v<tempfile::file, tempfile::temporary_file>);
static_assert(std::is_nothrow_move_constructible_v<tempfile::temporary_file>);
static_assert(std::is_nothrow_move_assignable_v<tempfile::temporary_file>);
static_assert(!std::is_copy_constructible_v<tempfile::temporary_file>);
static_assert(!std::is_convertible_v<tempfile::options, tempfile::temporary_file>,
              "the constructor is explicit");

void expect_fs_error(const std::function<void()>& f, int err, const fs::path& named) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected errno " << err;
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::error_condition(err, std::generic_category()))
        << "got " << e.code().message() << ", want " << std::generic_category().message(err) << ": "
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'" + named.string() + "'"), std::string::npos)
        << e.what();
  }
}

unsigned fd_mode(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 07777;
  return static_cast<unsigned>(st.st_mode & 07777);
}

class TemporaryFile : public tftest::root_test {};

TEST_P(TemporaryFile, LeavesNoDirectoryEntry) {
  tempfile::temporary_file f(in_dir());
  EXPECT_TRUE(entries().empty());
  f.write(std::string(200000, 'x'));
  f.sync();
  EXPECT_TRUE(entries().empty());
  f.seek(0);
  EXPECT_EQ(f.read(), std::string(200000, 'x'));
  f.close();
  EXPECT_TRUE(entries().empty());
}

TEST_P(TemporaryFile, IsARegularFileWithNoLinks) {
  tempfile::temporary_file f(in_dir());
  struct stat st {};
  ASSERT_EQ(::fstat(f.native_handle(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 0u);
  const int fd_flags = ::fcntl(f.native_handle(), F_GETFD);
  EXPECT_TRUE(fd_flags != -1 && (fd_flags & FD_CLOEXEC));
}

TEST_P(TemporaryFile, ManyAtOnceLeaveNothing) {
  const std::size_t fds = tftest::open_fd_count();
  {
    std::vector<tempfile::temporary_file> files;
    for (int i = 0; i < 20; ++i) {
      files.emplace_back(in_dir());
      files.back().write(std::to_string(i));
    }
    EXPECT_EQ(tftest::open_fd_count(), fds + 20);
    for (int i = 0; i < 20; ++i) {
      auto& f = files[static_cast<std::size_t>(i)];
      f.seek(0);
      EXPECT_EQ(f.read(), std::to_string(i));
    }
    EXPECT_TRUE(entries().empty());
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

TEST_P(TemporaryFile, WorksAfterItsDirectoryIsRemoved) {
  const fs::path sub = dir() / "sub";
  fs::create_directory(sub);
  tempfile::temporary_file f({.dir = sub});
  f.write("before");
  ASSERT_TRUE(fs::remove(sub));  // possible only because the directory is empty
  f.write(" after");
  f.write(std::string(100000, 'y'));
  f.seek(0);
  EXPECT_EQ(f.read(), "before after" + std::string(100000, 'y'));
  f.truncate(6);
  EXPECT_EQ(f.size(), 6);
  EXPECT_NO_THROW(f.sync());
  EXPECT_NO_THROW(f.close());
}

TEST_P(TemporaryFile, FallbackWhenOTmpfileIsRefused) {
  // EOPNOTSUPP: the file system has no O_TMPFILE; EISDIR and EINVAL: an old kernel. All three
  // must fall back to a named file unlinked at once.
  for (int err : {EOPNOTSUPP, EISDIR, EINVAL}) {
    SCOPED_TRACE(err);
    fault::reset();
    fault::fail(call::open, 1, err);
    tempfile::temporary_file f(in_dir());
    EXPECT_EQ(fault::calls(call::open), 2u);    // the refused O_TMPFILE, then the named file
    EXPECT_EQ(fault::calls(call::unlink), 1u);  // unlinked at once
    EXPECT_TRUE(entries().empty());
    f.write("fallback");
    f.seek(0);
    EXPECT_EQ(f.read(), "fallback");
    struct stat st {};
    ASSERT_EQ(::fstat(f.native_handle(), &st), 0);
    EXPECT_EQ(st.st_nlink, 0u);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    f.close();
    EXPECT_TRUE(entries().empty());
  }
}

TEST_P(TemporaryFile, FallbackWorksAfterItsDirectoryIsRemoved) {
  const fs::path sub = dir() / "sub";
  fs::create_directory(sub);
  fault::fail(call::open, 1, EOPNOTSUPP);
  tempfile::temporary_file f({.dir = sub});
  ASSERT_TRUE(fs::remove(sub));
  f.write("still here");
  f.seek(0);
  EXPECT_EQ(f.read(), "still here");
}

TEST_P(TemporaryFile, FallbackUnlinkFailureThrowsAndLeaksNoDescriptor) {
  const std::size_t fds = tftest::open_fd_count();
  fault::fail(call::open, 1, EOPNOTSUPP);
  fault::fail(call::unlink, 1, EIO);
  EXPECT_THROW(tempfile::temporary_file f(in_dir()), fs::filesystem_error);
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

TEST_P(TemporaryFile, OtherOpenErrorsAreNotFallenBackFrom) {
  fault::fail(call::open, 1, ENOSPC);
  expect_fs_error([&] { tempfile::temporary_file f(in_dir()); }, ENOSPC, dir());
  EXPECT_EQ(fault::calls(call::open), 1u);
  EXPECT_TRUE(entries().empty());
}

TEST_P(TemporaryFile, InjectedEintrOnOpenIsRetried) {
  fault::fail(call::open, 1, EINTR, 2);
  tempfile::temporary_file f(in_dir());
  EXPECT_EQ(fault::calls(call::open), 3u);
  f.write("ok");
  f.seek(0);
  EXPECT_EQ(f.read(), "ok");
}

TEST_P(TemporaryFile, Modes) {
  for (mode_t mask : {mode_t{0}, mode_t{077}}) {
    tftest::scoped_umask scoped(mask);
    tempfile::temporary_file f(in_dir());
    EXPECT_EQ(fd_mode(f.native_handle()), 0600u) << "umask " << mask;
  }
  tftest::scoped_umask scoped(0);
  tempfile::temporary_file f({.dir = dir(), .mode = static_cast<fs::perms>(0640)});
  EXPECT_EQ(fd_mode(f.native_handle()), 0640u);
}

// Root bypasses permission checks, so for root the EACCES a 0500 directory gives is injected
// through the fault seam instead.
TEST_P(TemporaryFile, ReadOnlyDirectoryGivesEacces) {
  const fs::path ro = dir() / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() == 0) fault::fail(call::open, 1, EACCES, 0);
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { tempfile::temporary_file f({.dir = ro}); }, EACCES, ro);
  EXPECT_EQ(tftest::open_fd_count(), fds);
  fault::reset();
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST_P(TemporaryFile, MissingDirectoryGivesEnoent) {
  const fs::path missing = dir() / "missing";
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { tempfile::temporary_file f({.dir = missing}); }, ENOENT, missing);
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(entries().empty());
}

TEST_P(TemporaryFile, PlainFileAsDirectoryGivesEnotdir) {
  const fs::path plain = dir() / "plain";
  tftest::spit(plain, "x");
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { tempfile::temporary_file f({.dir = plain}); }, ENOTDIR, plain);
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_EQ(entries(), std::vector<std::string>{"plain"});
}

TEST_P(TemporaryFile, ErrorsAfterCreationNameTheDirectory) {
  tempfile::temporary_file f(in_dir());
  fault::fail(call::write, 1, EIO);
  expect_fs_error([&] { f.write(std::string(100000, 'x')); }, EIO, dir());
}

TEST_P(TemporaryFile, MovesTransferTheFile) {
  tempfile::temporary_file a(in_dir());
  a.write("payload");
  tempfile::temporary_file b(std::move(a));
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(b.closed());
  b.seek(0);
  EXPECT_EQ(b.read(), "payload");

  tempfile::temporary_file c(in_dir());
  const std::size_t fds = tftest::open_fd_count();
  c = std::move(b);  // c's own file is closed
  EXPECT_EQ(tftest::open_fd_count(), fds - 1);
  EXPECT_TRUE(b.closed());
  c.seek(0);
  EXPECT_EQ(c.read(), "payload");
  EXPECT_TRUE(entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Roots, TemporaryFile, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
