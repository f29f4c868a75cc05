// tempfile::named_temporary_file: naming, deletion rules, keep/persist/reopen, fork and moves.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
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
using tempfile::named_temporary_file;

static_assert(std::is_base_of_v<tempfile::file, named_temporary_file>);
static_assert(std::is_nothrow_move_constructible_v<named_temporary_file>);
static_assert(std::is_nothrow_move_assignable_v<named_temporary_file>);
static_assert(!std::is_copy_constructible_v<named_temporary_file>);
static_assert(!std::is_copy_assignable_v<named_temporary_file>);
static_assert(!std::is_convertible_v<tempfile::options, named_temporary_file>,
              "the constructor is explicit");

// Calls `f`, which must throw filesystem_error with errno `err` and a message containing each of
// `named` in quotes.
void expect_fs_error(const std::function<void()>& f, int err, const std::vector<fs::path>& named) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected errno " << err;
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::error_condition(err, std::generic_category()))
        << "got " << e.code().message() << ", want " << std::generic_category().message(err) << ": "
        << e.what();
    for (const fs::path& p : named) {
      EXPECT_NE(std::string(e.what()).find("'" + p.string() + "'"), std::string::npos)
          << p << " not in: " << e.what();
    }
  }
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// Restores the working directory on destruction.
class cwd_guard {
 public:
  cwd_guard() : old_(fs::current_path()) {}
  ~cwd_guard() { fs::current_path(old_); }
  cwd_guard(const cwd_guard&) = delete;
  cwd_guard& operator=(const cwd_guard&) = delete;

 private:
  fs::path old_;
};

class NamedTemporaryFile : public tftest::root_test {};

// --- creation ------------------------------------------------------------------------------------

TEST_P(NamedTemporaryFile, PathIsAbsoluteAndExists) {
  named_temporary_file f({.prefix = "pre_", .suffix = ".txt", .dir = dir()});
  EXPECT_TRUE(f.path().is_absolute()) << f.path();
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(f.path())));
  EXPECT_TRUE(fs::equivalent(f.path().parent_path(), dir()));
  const std::string name = f.path().filename().string();
  EXPECT_EQ(name.rfind("pre_", 0), 0u);
  EXPECT_EQ(name.substr(name.size() - 4), ".txt");
  EXPECT_EQ(entries(), std::vector<std::string>{name});
  struct stat by_fd {};
  ASSERT_EQ(::fstat(f.native_handle(), &by_fd), 0);
  EXPECT_EQ(by_fd.st_ino, inode_of(f.path()));
  f.write("content");
  f.flush();
  EXPECT_EQ(tftest::slurp(f.path()), "content");
}

// A write of 4 KiB or more that finds nothing buffered goes to the OS at once (not copied into
// the buffer); a smaller one waits in the buffer, and so does a large one behind buffered bytes,
// if it fits.
TEST_P(NamedTemporaryFile, LargeWritesGoStraightToTheOsSmallOnesAreBuffered) {
  named_temporary_file f(in_dir());
  f.write(std::string(4095, 'a'));
  EXPECT_EQ(fs::file_size(f.path()), 0u);
  f.write(std::string(4096, 'b'));  // behind 4095 buffered bytes: buffered too
  EXPECT_EQ(fs::file_size(f.path()), 0u);
  f.flush();
  EXPECT_EQ(fs::file_size(f.path()), 8191u);
  f.write(std::string(4096, 'c'));  // nothing buffered: written at once, at the position
  EXPECT_EQ(fs::file_size(f.path()), 12287u);
  EXPECT_EQ(f.tell(), 12287);
  f.write("d");
  f.seek(0);
  EXPECT_EQ(f.read(),
            std::string(4095, 'a') + std::string(4096, 'b') + std::string(4096, 'c') + "d");
}

TEST_P(NamedTemporaryFile, Modes) {
  for (mode_t mask : {mode_t{0}, mode_t{077}}) {
    tftest::scoped_umask scoped(mask);
    named_temporary_file f(in_dir());
    EXPECT_EQ(tftest::mode_of(f.path()), 0600u) << "umask " << mask;
  }
  tftest::scoped_umask scoped(0);
  named_temporary_file f({.dir = dir(), .mode = static_cast<fs::perms>(0644)});
  EXPECT_EQ(tftest::mode_of(f.path()), 0644u);
}

TEST_P(NamedTemporaryFile, RelativeDirectoryIsMadeAbsolute) {
  fs::create_directory(dir() / "sub");
  cwd_guard guard;
  fs::current_path(dir());
  named_temporary_file f({.dir = "sub"});
  EXPECT_TRUE(f.path().is_absolute());
  EXPECT_TRUE(fs::equivalent(f.path().parent_path(), dir() / "sub"));
}

// Root bypasses permission checks, so for root the EACCES a 0500 directory gives is injected
// through the fault seam instead.
TEST_P(NamedTemporaryFile, ReadOnlyDirectoryGivesEacces) {
  const fs::path ro = dir() / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() == 0) fault::fail(call::open, 1, EACCES, 0);
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { named_temporary_file f({.dir = ro}); }, EACCES, {ro});
  EXPECT_EQ(tftest::open_fd_count(), fds);
  fault::reset();
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST_P(NamedTemporaryFile, MissingDirectoryGivesEnoent) {
  const fs::path missing = dir() / "missing";
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { named_temporary_file f({.dir = missing}); }, ENOENT, {missing});
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, PlainFileAsDirectoryGivesEnotdir) {
  const fs::path plain = dir() / "plain";
  tftest::spit(plain, "x");
  expect_fs_error([&] { named_temporary_file f({.dir = plain}); }, ENOTDIR, {plain});
  EXPECT_EQ(entries(), std::vector<std::string>{"plain"});
}

TEST_P(NamedTemporaryFile, WriteErrorsNameThePath) {
  named_temporary_file f(in_dir());
  fault::fail(call::write, 1, ENOSPC);
  try {
    f.write(std::string(100000, 'x'));
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::errc::no_space_on_device) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot write to '" + f.path().string() + "'"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.path1(), f.path());
  }
}

// --- deletion ------------------------------------------------------------------------------------

TEST_P(NamedTemporaryFile, CloseDeletesByDefault) {
  named_temporary_file f(in_dir());
  const fs::path p = f.path();
  f.write("x");
  f.close();
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(f.path(), p);  // still answered after close()
  EXPECT_NO_THROW(f.close());
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, DestructionDeletes) {
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    f.write("x");
  }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, WithoutDeleteOnCloseCloseKeepsAndDestructionDeletes) {
  fs::path p;
  {
    named_temporary_file f({.dir = dir(), .delete_on_close = false});
    p = f.path();
    f.write("kept until destruction");
    f.close();
    EXPECT_TRUE(f.closed());
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(tftest::slurp(p), "kept until destruction");
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST_P(NamedTemporaryFile, KeepOptionSurvivesCloseAndDestruction) {
  fs::path p;
  {
    named_temporary_file f({.dir = dir(), .keep = true});
    p = f.path();
    f.write("kept");
    f.close();
    EXPECT_TRUE(fs::exists(p));
  }
  ASSERT_TRUE(fs::exists(p));
  EXPECT_EQ(tftest::slurp(p), "kept");
  {
    named_temporary_file g({.dir = dir(), .keep = true});
    p = g.path();
  }
  EXPECT_TRUE(fs::exists(p));
}

TEST_P(NamedTemporaryFile, KeepMemberReturnsThePathAndDisarms) {
  fs::path p, kept;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    f.write("kept");
    kept = f.keep();
    EXPECT_EQ(kept, p);
    EXPECT_EQ(f.path(), p);
    EXPECT_FALSE(f.closed());
    f.write(" still writable");
    f.close();  // not deleted, even with delete_on_close
    EXPECT_TRUE(fs::exists(p));
  }
  ASSERT_TRUE(fs::exists(p));
  EXPECT_EQ(tftest::slurp(p), "kept still writable");
}

TEST_P(NamedTemporaryFile, KeepAfterCloseDeletedTheFileThrowsLogicError) {
  named_temporary_file f(in_dir());
  f.close();
  EXPECT_THROW((void)f.keep(), std::logic_error);
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, KeepAfterCloseWithoutDeleteOnCloseWorks) {
  fs::path p;
  {
    named_temporary_file f({.dir = dir(), .delete_on_close = false});
    p = f.path();
    f.close();
    EXPECT_EQ(f.keep(), p);
  }
  EXPECT_TRUE(fs::exists(p));
}

TEST_P(NamedTemporaryFile, UserDeletingTheFileEarlyIsNotAnError) {
  {
    named_temporary_file f(in_dir());
    ASSERT_TRUE(fs::remove(f.path()));
    f.write("x");
    EXPECT_NO_THROW(f.close());
  }
  {
    named_temporary_file f({.dir = dir(), .delete_on_close = false});
    ASSERT_TRUE(fs::remove(f.path()));
    EXPECT_NO_THROW(f.close());
  }  // the destructor finds nothing to delete: fine
  {
    named_temporary_file f(in_dir());
    ASSERT_TRUE(fs::remove(f.path()));
  }
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, CloseDeletingFailsThenReportsIt) {
  named_temporary_file f(in_dir());
  const fs::path p = f.path();
  fault::fail(call::unlink, 1, EIO);
  expect_fs_error([&] { f.close(); }, EIO, {p});
  EXPECT_TRUE(f.closed());
  fault::reset();
  fs::remove(p);
}

TEST_P(NamedTemporaryFile, ForkedChildNeverDeletesTheParentsFile) {
  // Both rules: close() with delete_on_close, and destruction without it.
  for (bool delete_on_close : {true, false}) {
    SCOPED_TRACE(delete_on_close ? "close()" : "destruction");
    std::optional<named_temporary_file> f;
    f.emplace(tempfile::options{.dir = dir(), .delete_on_close = delete_on_close});
    const fs::path p = f->path();
    f->write("parent");
    f->flush();
    const pid_t pid = ::fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
      int status = 0;
      try {
        f->close();
        f.reset();
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(tftest::slurp(p), "parent");
    EXPECT_FALSE(f->closed());
    f->seek(0);
    EXPECT_EQ(f->read(), "parent");
    f.reset();
    EXPECT_FALSE(fs::exists(p));  // the parent still deletes it
  }
}

// --- persist -------------------------------------------------------------------------------------

TEST_P(NamedTemporaryFile, PersistRenamesOverAnExistingTarget) {
  const fs::path target = dir() / "target.txt";
  tftest::spit(target, "old content");
  fs::path original;
  {
    named_temporary_file f(in_dir());
    original = f.path();
    f.write("new content");
    f.flush();
    f.persist(target);
    EXPECT_EQ(f.path(), target);
    EXPECT_FALSE(fs::exists(original));
    EXPECT_EQ(tftest::slurp(target), "new content");
    f.write(" and more");  // the handle still works, on the renamed file
    f.close();             // no longer deletes
    EXPECT_TRUE(fs::exists(target));
  }
  EXPECT_EQ(tftest::slurp(target), "new content and more");
  EXPECT_EQ(entries(), std::vector<std::string>{"target.txt"});
}

TEST_P(NamedTemporaryFile, PathReferenceTakenBeforePersistShowsTheNewPath) {
  named_temporary_file f(in_dir());
  const fs::path& path = f.path();  // one reference, as std::filesystem::path members give
  const fs::path original = path;
  f.persist(dir() / "kept.txt");
  EXPECT_EQ(path, dir() / "kept.txt");
  EXPECT_EQ(&path, &f.path());
  EXPECT_FALSE(fs::exists(original));
}

TEST_P(NamedTemporaryFile, PersistToARelativeTargetMakesPathAbsolute) {
  cwd_guard guard;
  fs::current_path(dir());
  named_temporary_file f(in_dir());
  f.persist("relative.txt");
  EXPECT_TRUE(f.path().is_absolute());
  EXPECT_EQ(f.path(), dir() / "relative.txt");
  fs::current_path("/");
  f.close();
  EXPECT_TRUE(fs::exists(dir() / "relative.txt"));
}

TEST_P(NamedTemporaryFile, PersistNoclobberRefusesAnExistingTarget) {
  const fs::path target = dir() / "taken";
  tftest::spit(target, "theirs");
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    f.write("mine");
    f.flush();
    expect_fs_error([&] { f.persist_noclobber(target); }, EEXIST, {p, target});
    // Nothing changed: both files, both contents, the object still owns and deletes its file.
    EXPECT_EQ(f.path(), p);
    EXPECT_EQ(tftest::slurp(target), "theirs");
    EXPECT_EQ(tftest::slurp(p), "mine");
    EXPECT_FALSE(f.closed());
    f.seek(0);
    EXPECT_EQ(f.read(), "mine");
  }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(tftest::slurp(target), "theirs");
}

TEST_P(NamedTemporaryFile, PersistNoclobberToAFreeName) {
  const fs::path target = dir() / "free";
  {
    named_temporary_file f(in_dir());
    f.write("mine");
    f.persist_noclobber(target);
    EXPECT_EQ(f.path(), target);
  }
  EXPECT_EQ(tftest::slurp(target), "mine");
  EXPECT_EQ(entries(), std::vector<std::string>{"free"});
}

TEST_P(NamedTemporaryFile, FailedPersistLeavesTheObjectUnchanged) {
  const fs::path target = dir() / "missing" / "target";
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    expect_fs_error([&] { f.persist(target); }, ENOENT, {p, target});
    EXPECT_EQ(f.path(), p);
    EXPECT_TRUE(fs::exists(p));
    expect_fs_error([&] { f.persist_noclobber(target); }, ENOENT, {p, target});
    EXPECT_EQ(f.path(), p);
    EXPECT_EQ(f.keep(), p);  // still owned: keep() works and disarms
  }
  EXPECT_TRUE(fs::exists(p));
  fs::remove(p);
  {
    named_temporary_file f(in_dir());
    p = f.path();
    EXPECT_THROW(f.persist(target), fs::filesystem_error);
  }
  EXPECT_FALSE(fs::exists(p));  // still deleted at destruction
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, FailedPersistThroughTheFaultSeamLeavesTheObjectUnchanged) {
  const fs::path target = dir() / "target";
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    fault::fail(call::rename, 1, EXDEV);
    expect_fs_error([&] { f.persist(target); }, EXDEV, {p, target});
    EXPECT_EQ(f.path(), p);
    EXPECT_TRUE(fs::exists(p));
    EXPECT_FALSE(fs::exists(target));
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST_P(NamedTemporaryFile, PersistOverADirectoryFailsAndLeavesTheObjectUnchanged) {
  const fs::path target = dir() / "a_directory";
  fs::create_directory(target);
  tftest::spit(target / "inside", "");
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    EXPECT_THROW(f.persist(target), fs::filesystem_error);
    EXPECT_EQ(f.path(), p);
    EXPECT_TRUE(fs::is_regular_file(p));
    EXPECT_TRUE(fs::exists(target / "inside"));
  }
  EXPECT_FALSE(fs::exists(p));
}

// Where the file system refuses RENAME_NOREPLACE (EINVAL), persist_noclobber() links then unlinks.
TEST_P(NamedTemporaryFile, PersistNoclobberFallbackToAFreeName) {
  const fs::path target = dir() / "free";
  named_temporary_file f(in_dir());
  const fs::path p = f.path();
  f.write("via link");
  fault::fail(call::rename, 1, EINVAL);
  f.persist_noclobber(target);
  EXPECT_EQ(fault::calls(call::link), 1u);
  EXPECT_EQ(f.path(), target);
  EXPECT_FALSE(fs::exists(p));
  f.close();
  EXPECT_EQ(tftest::slurp(target), "via link");
  EXPECT_EQ(entries(), std::vector<std::string>{"free"});
}

TEST_P(NamedTemporaryFile, PersistNoclobberFallbackRefusesAnExistingTarget) {
  const fs::path target = dir() / "taken";
  tftest::spit(target, "theirs");
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    fault::fail(call::rename, 1, EINVAL);
    expect_fs_error([&] { f.persist_noclobber(target); }, EEXIST, {p, target});
    EXPECT_EQ(f.path(), p);
    EXPECT_TRUE(fs::exists(p));
  }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(tftest::slurp(target), "theirs");
}

TEST_P(NamedTemporaryFile, PersistNoclobberFallbackUndoesTheLinkWhenUnlinkFails) {
  const fs::path target = dir() / "target";
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    fault::fail(call::rename, 1, EINVAL);
    fault::fail(call::unlink, 1, EIO);
    expect_fs_error([&] { f.persist_noclobber(target); }, EIO, {p, target});
    EXPECT_EQ(f.path(), p);
    EXPECT_TRUE(fs::exists(p));
    EXPECT_FALSE(fs::exists(target));  // exactly one name: the original
  }
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, PersistAfterCloseDeletedThrowsLogicError) {
  named_temporary_file f(in_dir());
  f.close();
  EXPECT_THROW(f.persist(dir() / "t"), std::logic_error);
  EXPECT_THROW(f.persist_noclobber(dir() / "t"), std::logic_error);
  EXPECT_TRUE(entries().empty());
}

TEST_P(NamedTemporaryFile, PersistAfterCloseWithoutDeleteOnClose) {
  {
    named_temporary_file f({.dir = dir(), .delete_on_close = false});
    f.write("closed then persisted");
    f.close();
    f.persist(dir() / "t");
  }
  EXPECT_EQ(tftest::slurp(dir() / "t"), "closed then persisted");
  EXPECT_EQ(entries(), std::vector<std::string>{"t"});
}

// --- reopen --------------------------------------------------------------------------------------

TEST_P(NamedTemporaryFile, ReopenGivesAnIndependentHandleOnTheSameContent) {
  const std::size_t fds = tftest::open_fd_count();
  named_temporary_file f(in_dir());
  f.write("hello");
  f.flush();
  {
    tempfile::file g = f.reopen();
    EXPECT_EQ(tftest::open_fd_count(), fds + 2);
    EXPECT_FALSE(g.closed());
    EXPECT_EQ(g.tell(), 0);
    EXPECT_EQ(g.read(), "hello");
    EXPECT_EQ(f.tell(), 5);  // positions are independent
    g.seek(0);
    g.write("J");
    g.flush();
    EXPECT_EQ(f.tell(), 5);
    f.seek(0);
    EXPECT_EQ(f.read(), "Jello");
    f.write(" world");
    f.flush();
    EXPECT_EQ(g.tell(), 1);
    EXPECT_EQ(g.read(), "ello world");
    struct stat a {
    }, b{};
    ASSERT_EQ(::fstat(f.native_handle(), &a), 0);
    ASSERT_EQ(::fstat(g.native_handle(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_NE(f.native_handle(), g.native_handle());
    g.close();
    EXPECT_TRUE(fs::exists(f.path()));  // closing the reopened handle deletes nothing
  }
  EXPECT_TRUE(fs::exists(f.path()));
  EXPECT_FALSE(f.closed());
  const fs::path p = f.path();
  f.close();
  EXPECT_FALSE(fs::exists(p));
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

TEST_P(NamedTemporaryFile, ReopenThrowsEstaleWhenThePathWasReplaced) {
  named_temporary_file f(in_dir());
  const fs::path p = f.path();
  ASSERT_TRUE(fs::remove(p));
  tftest::spit(p, "impostor");
  const std::size_t fds = tftest::open_fd_count();
  expect_fs_error([&] { (void)f.reopen(); }, ESTALE, {p});
  EXPECT_EQ(tftest::open_fd_count(), fds);  // the descriptor opened to check is closed again
  EXPECT_EQ(tftest::slurp(p), "impostor");
}

TEST_P(NamedTemporaryFile, ReopenThrowsWhenThePathIsGone) {
  named_temporary_file f(in_dir());
  ASSERT_TRUE(fs::remove(f.path()));
  expect_fs_error([&] { (void)f.reopen(); }, ENOENT, {f.path()});
}

TEST_P(NamedTemporaryFile, ReopenAfterCloseWithoutDeleteOnClose) {
  named_temporary_file f({.dir = dir(), .delete_on_close = false});
  f.write("after close");
  f.close();
  tempfile::file g = f.reopen();
  EXPECT_EQ(g.read(), "after close");
  g.close();
  EXPECT_TRUE(fs::exists(f.path()));
}

TEST_P(NamedTemporaryFile, ReopenAfterCloseStillChecksTheIdentity) {
  named_temporary_file f({.dir = dir(), .delete_on_close = false});
  const fs::path p = f.path();
  f.close();
  // Hold the original inode so that the replacement cannot be given the same number.
  const int pin = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(pin, 0);
  ASSERT_TRUE(fs::remove(p));
  tftest::spit(p, "impostor");
  expect_fs_error([&] { (void)f.reopen(); }, ESTALE, {p});
  ::close(pin);
}

TEST_P(NamedTemporaryFile, ReopenAfterCloseDeletedThrowsLogicError) {
  named_temporary_file f(in_dir());
  f.close();
  EXPECT_THROW((void)f.reopen(), std::logic_error);
}

TEST_P(NamedTemporaryFile, ReopenFollowsAPersistedFile) {
  named_temporary_file f(in_dir());
  f.write("persisted");
  f.flush();
  f.persist(dir() / "p");
  tempfile::file g = f.reopen();
  EXPECT_EQ(g.read(), "persisted");
}

TEST_P(NamedTemporaryFile, InjectedEintrIsRetriedInvisibly) {
  fault::fail(call::open, 1, EINTR, 2);
  named_temporary_file f(in_dir());
  EXPECT_EQ(fault::calls(call::open), 3u);
  const fs::path p = f.path();
  f.write("x");
  f.flush();
  fault::reset();
  fault::fail(call::open, 1, EINTR, 2);
  tempfile::file g = f.reopen();
  EXPECT_EQ(fault::calls(call::open), 3u);
  EXPECT_EQ(g.read(), "x");
  fault::fail(call::rename, 1, EINTR);
  f.persist_noclobber(dir() / "renamed");
  EXPECT_EQ(f.path(), dir() / "renamed");
  f.persist(p);
  named_temporary_file h(in_dir());
  const fs::path ph = h.path();
  fault::fail(call::unlink, 1, EINTR, 2);
  EXPECT_NO_THROW(h.close());
  EXPECT_FALSE(fs::exists(ph));
}

// --- moves ---------------------------------------------------------------------------------------

TEST_P(NamedTemporaryFile, MoveConstructedObjectOwnsTheFile) {
  named_temporary_file f(in_dir());
  const fs::path p = f.path();
  f.write("owned");
  named_temporary_file g(std::move(f));
  EXPECT_TRUE(f.closed());
  EXPECT_TRUE(f.path().empty());
  EXPECT_EQ(g.path(), p);
  EXPECT_THROW((void)f.keep(), std::logic_error);
  EXPECT_THROW(f.persist(dir() / "t"), std::logic_error);
  EXPECT_THROW((void)f.reopen(), std::logic_error);
  EXPECT_NO_THROW(f.close());
  { named_temporary_file sink(std::move(f)); }  // destroying a moved-from object deletes nothing
  EXPECT_TRUE(fs::exists(p));
  g.seek(0);
  EXPECT_EQ(g.read(), "owned");
  g.close();
  EXPECT_FALSE(fs::exists(p));
}

TEST_P(NamedTemporaryFile, MoveAssignmentDeletesTheTargetsFile) {
  named_temporary_file a(in_dir());
  named_temporary_file b(in_dir());
  const fs::path pa = a.path();
  const fs::path pb = b.path();
  const std::size_t fds = tftest::open_fd_count();
  a = std::move(b);
  EXPECT_FALSE(fs::exists(pa));
  EXPECT_TRUE(fs::exists(pb));
  EXPECT_EQ(a.path(), pb);
  EXPECT_TRUE(b.closed());
  EXPECT_TRUE(b.path().empty());
  EXPECT_EQ(tftest::open_fd_count(), fds - 1);
  EXPECT_EQ(entries(), std::vector<std::string>{pb.filename().string()});
}

TEST_P(NamedTemporaryFile, MoveAssignmentDeletesAClosedButUndeletedTarget) {
  named_temporary_file a({.dir = dir(), .delete_on_close = false});
  named_temporary_file b(in_dir());
  const fs::path pa = a.path();
  a.close();
  ASSERT_TRUE(fs::exists(pa));
  a = std::move(b);
  EXPECT_FALSE(fs::exists(pa));
}

TEST_P(NamedTemporaryFile, MoveAssignmentOverAKeptFileKeepsIt) {
  named_temporary_file a({.dir = dir(), .keep = true});
  named_temporary_file b(in_dir());
  const fs::path pa = a.path();
  a = std::move(b);
  EXPECT_TRUE(fs::exists(pa));
}

TEST_P(NamedTemporaryFile, MovedIntoAPlainFileStillDeletes) {
  fs::path p;
  {
    named_temporary_file f(in_dir());
    p = f.path();
    tempfile::file g(std::move(f));
    EXPECT_TRUE(fs::exists(p));
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST_P(NamedTemporaryFile, NoDescriptorLeaks) {
  const std::size_t fds = tftest::open_fd_count();
  for (int i = 0; i < 50; ++i) {
    named_temporary_file f(in_dir());
    f.write("x");
    if (i % 2 == 0) f.close();
    if (i % 3 == 0 && !f.closed()) (void)f.reopen();
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Roots, NamedTemporaryFile, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
