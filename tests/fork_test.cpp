// fork(): every object remembers the process that made it. In a fork()ed child, destruction,
// close(), cleanup() and discard() close the child's descriptors but never delete the parent's
// files: a named file, a temporary_directory, an atomic_file's named temporary, a spooled file.
// The child's own objects behave as usual, and the child's signal cleanup removes only those.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <tempfile/tempfile.hpp>
#include <utility>
#include <vector>

#include "child_process.hpp"
#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using tftest::child;

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

class Fork : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    fault::reset();
    tftest::spit(target(), "old\n");
    tftest::spit(outside(), "outside\n");
  }
  void TearDown() override { fault::reset(); }
  const fs::path& dir() const { return dir_.path(); }
  fs::path target() const { return dir() / "target"; }
  fs::path outside() const { return dir() / "outside"; }

  tftest::scratch dir_{GetParam().path};
};

// The parent's objects, every kind that owns something on disk or a descriptor.
struct parents_objects {
  std::optional<tempfile::named_temporary_file> named;
  std::optional<tempfile::named_temporary_file> named_kept_open;  // delete_on_close = false
  std::optional<tempfile::temporary_directory> tree;
  std::optional<tempfile::atomic_file> atomic_named;  // a named temporary (no O_TMPFILE)
  std::optional<tempfile::atomic_file> atomic;        // O_TMPFILE
  std::optional<tempfile::spooled_temporary_file> spooled_disk;
  std::optional<tempfile::spooled_temporary_file> spooled_memory;
  std::optional<tempfile::temporary_file> unnamed;
  std::vector<int> fds;           // the descriptors the child inherits
  std::vector<fs::path> on_disk;  // the names that must survive the child
};

TEST_P(Fork, AChildClosesButNeverDeletesTheParentsFiles) {
  parents_objects p;
  p.named.emplace(tempfile::options{.prefix = "named_", .dir = dir()});
  p.named->write("named\n");
  p.named_kept_open.emplace(
      tempfile::options{.prefix = "open_", .dir = dir(), .delete_on_close = false});
  p.named_kept_open->write("open\n");
  p.tree.emplace(tempfile::options{.prefix = "tree_", .dir = dir()});
  tftest::populate_tree(p.tree->path(), outside());
  // The file system "has no O_TMPFILE" for this one: its temporary gets a name.
  fault::fail(fault::call::open, 1, EOPNOTSUPP);
  p.atomic_named.emplace(target());
  fault::reset();
  p.atomic_named->write("never committed\n");
  p.atomic.emplace(dir() / "other_target");
  p.atomic->write("never committed\n");
  p.spooled_disk.emplace(tempfile::options{.dir = dir(), .max_size = 4});
  p.spooled_disk->write("spooled on disk\n");
  ASSERT_TRUE(p.spooled_disk->rolled_over());
  p.spooled_memory.emplace(tempfile::options{.dir = dir()});
  p.spooled_memory->write("spooled in memory\n");
  p.unnamed.emplace(tempfile::options{.dir = dir()});
  p.unnamed->write("unnamed\n");
  for (tempfile::file* f :
       std::initializer_list<tempfile::file*>{&*p.named, &*p.named_kept_open, &*p.atomic_named,
                                              &*p.atomic, &*p.spooled_disk, &*p.unnamed}) {
    p.fds.push_back(f->native_handle());  // flushes, so the child has nothing to write
  }
  p.on_disk = {p.named->path(), p.named_kept_open->path(), p.tree->path(), target(), outside()};
  std::vector<std::string> before = tftest::names_in(dir());
  ASSERT_EQ(before.size(), 6u) << "the atomic_file's named temporary is missing";

  child c = tftest::spawn([&](int out, int) {
    int failures = 0;
    const auto fail = [&](const std::string& what) {
      tftest::write_all(out, what + "\n");
      ++failures;
    };
    try {
      p.named->close();  // delete_on_close: but not the parent's file
      p.named_kept_open->close();
      p.tree->cleanup();
      p.atomic_named->discard();
      p.spooled_disk->close();
      p.spooled_memory->close();
      // Moved, then destroyed.
      tempfile::atomic_file moved = std::move(*p.atomic);
      p.atomic.reset();
    } catch (const std::exception& e) {
      fail(std::string("threw: ") + e.what());
    }
    p.named.reset();
    p.named_kept_open.reset();
    p.tree.reset();
    p.atomic_named.reset();
    p.spooled_disk.reset();
    p.spooled_memory.reset();
    p.unnamed.reset();
    for (const fs::path& path : p.on_disk) {
      if (!fs::exists(fs::symlink_status(path))) fail("the child removed " + path.string());
    }
    if (tftest::names_in(dir()) != before) fail("the child changed the directory");
    for (int fd : p.fds) {
      if (is_open(fd)) fail("the child left descriptor " + std::to_string(fd) + " open");
    }
    // The child's own objects are its own to remove.
    fs::path own_file, own_dir;
    {
      tempfile::named_temporary_file own({.prefix = "own_", .dir = dir()});
      own_file = own.path();
      tempfile::temporary_directory own_tree({.prefix = "owntree_", .dir = dir()});
      own_dir = own_tree.path();
      tftest::populate_tree(own_dir, outside());
      tempfile::atomic_file own_atomic(dir() / "childs");
      own_atomic.write("the child's\n");
      own_atomic.commit();
    }
    if (fs::exists(own_file) || fs::exists(own_dir)) fail("the child's own objects remain");
    if (tftest::slurp(dir() / "childs") != "the child's\n") fail("the child's commit failed");
    fs::remove(dir() / "childs");
    tftest::write_all(out, "done\n");
    return failures;
  });
  ASSERT_GT(c.pid, 0);
  const std::string said = tftest::read_all(c.from.get());
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << tftest::describe_status(status) << ": " << said;
  EXPECT_EQ(said, "done\n");

  // The parent's objects are intact and still work.
  EXPECT_EQ(tftest::names_in(dir()), before);
  p.named->seek(0);
  EXPECT_EQ(p.named->read(), "named\n");
  p.spooled_disk->seek(0);
  EXPECT_EQ(p.spooled_disk->read(), "spooled on disk\n");
  p.spooled_memory->seek(0);
  EXPECT_EQ(p.spooled_memory->read(), "spooled in memory\n");
  p.unnamed->seek(0);
  EXPECT_EQ(p.unnamed->read(), "unnamed\n");
  p.atomic->commit();
  EXPECT_EQ(tftest::slurp(dir() / "other_target"), "never committed\n");
  fs::remove(dir() / "other_target");
  p = parents_objects{};
  EXPECT_EQ(tftest::names_in(dir()), (std::vector<std::string>{"outside", "target"}));
  EXPECT_EQ(tftest::slurp(target()), "old\n");
}

TEST_P(Fork, AChildsSignalCleanupRemovesOnlyItsOwn) {
  child c = tftest::spawn([&](int out, int) {
    tempfile::named_temporary_file f({.prefix = "parents_", .dir = dir()});
    tempfile::temporary_directory d({.prefix = "parentsdir_", .dir = dir()});
    tempfile::enable_signal_cleanup();
    int up[2];
    if (::pipe(up) != 0) return 90;
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::close(up[0]);
      tempfile::named_temporary_file g({.prefix = "childs_", .dir = dir()});
      tempfile::temporary_directory h({.prefix = "childsdir_", .dir = dir()});
      tftest::write_all(up[1], g.path().string() + "\n" + h.path().string() + "\n");
      ::raise(SIGTERM);
      std::_Exit(91);
    }
    ::close(up[1]);
    const std::string childs = tftest::read_all(up[0]);
    int status = 0;
    ::waitpid(grandchild, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM) {
      tftest::write_all(out, "grandchild: " + tftest::describe_status(status) + "\n");
      return 1;
    }
    if (childs.empty()) return 2;
    if (!fs::exists(f.path()) || !fs::exists(d.path())) {
      tftest::write_all(out, "the child's signal cleanup removed the parent's objects\n");
      return 3;
    }
    if (tftest::names_in(dir()).size() != 4) {
      tftest::write_all(out, "the child's own objects remain: " + childs);
      return 4;
    }
    tftest::write_all(out, "ok\n");
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  const std::string said = tftest::read_all(c.from.get());
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << tftest::describe_status(status) << ": " << said;
  EXPECT_EQ(said, "ok\n");
  EXPECT_EQ(tftest::names_in(dir()), (std::vector<std::string>{"outside", "target"}));
}

INSTANTIATE_TEST_SUITE_P(Roots, Fork, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
