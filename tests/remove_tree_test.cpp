// The tree walk behind temporary_directory::cleanup() (src/remove_tree.hpp): fast path, retries
// after fixing permissions, vanishing entries, errors, bounded descriptors, and directories
// swapped for symbolic links while the walk runs (through the walk's test seam).
#include "remove_tree.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
namespace seam = tempfile::detail::remove_tree_seam;
using tempfile::detail::remove_contents;
using tempfile::detail::remove_tree;
using tftest::make_dir_at;
using tftest::make_file_at;
using tftest::open_dir;

constexpr unsigned kHolderMode = 0755;  // not 0700: a chmod to owner rwx would show

std::error_code errc(int e) { return {e, std::generic_category()}; }

// `depth` nested directories named "d" below `top`, made relative to descriptors since their
// paths outgrow PATH_MAX. `at_each` may add entries to each level (before its "d").
void build_chain(const fs::path& top, int depth, const std::function<void(int)>& at_each = {}) {
  int fd = open_dir(top);
  for (int i = 0; i < depth; ++i) {
    if (at_each) at_each(fd);
    const int next = make_dir_at(fd, "d");
    ::close(fd);
    fd = next;
  }
  ::close(fd);
}

class RemoveTree : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    fault::reset();
    holder_ = std::make_unique<tftest::scratch>(GetParam().path);
    fs::permissions(holder(), static_cast<fs::perms>(kHolderMode));
    tree_ = holder() / "tree";
    fs::create_directory(tree_);
    fds_before_ = tftest::open_fd_count();
  }
  void TearDown() override {
    fault::reset();
    seam::set_hook(nullptr, nullptr);
    EXPECT_EQ(tftest::open_fd_count(), fds_before_) << "descriptor leak";
    EXPECT_EQ(tftest::mode_of(holder()), kHolderMode) << "the holding directory was changed";
  }
  const fs::path& holder() const { return holder_->path(); }

  std::unique_ptr<tftest::scratch> holder_;
  fs::path tree_;
  std::size_t fds_before_ = 0;
};

TEST_P(RemoveTree, EmptyDirectoryTakesOneRmdir) {
  std::error_code ec = errc(EIO);
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(fault::calls(fault::call::rmdir), 1u);
  EXPECT_EQ(fault::calls(fault::call::openat), 0u);
  EXPECT_EQ(fault::calls(fault::call::getdents), 0u);
  EXPECT_EQ(fault::calls(fault::call::unlinkat), 0u);
}

TEST_P(RemoveTree, RemovesAMixedTree) {
  tftest::spit(tree_ / "file", "x");
  fs::create_directories(tree_ / "a" / "b" / "c");
  tftest::spit(tree_ / "a" / "b" / "c" / "deep", "y");
  fs::create_directory(tree_ / "empty");
  fs::create_symlink("/", tree_ / "root_link");
  ASSERT_EQ(::mkfifo((tree_ / "fifo").c_str(), 0600), 0);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

TEST_P(RemoveTree, MissingPathIsNotAnError) {
  std::error_code ec;
  remove_tree(holder() / "missing", ec);
  EXPECT_FALSE(ec);
}

TEST_P(RemoveTree, ANonDirectoryIsReportedAndLeftAlone) {
  tftest::spit(holder() / "file", "keep me");
  fs::create_directory_symlink(tree_, holder() / "link");
  tftest::spit(tree_ / "inside", "keep me too");
  for (const char* name : {"file", "link"}) {
    std::error_code ec;
    fs::path where;
    remove_tree(holder() / name, ec, &where);
    EXPECT_EQ(ec, std::errc::not_a_directory) << name;
    EXPECT_EQ(where, holder() / name);
  }
  EXPECT_EQ(tftest::slurp(holder() / "file"), "keep me");
  EXPECT_TRUE(fs::is_symlink(holder() / "link"));
  EXPECT_EQ(tftest::slurp(tree_ / "inside"), "keep me too");
}

// Running as root bypasses permission checks, so the restoration path is driven by the seam.
TEST_P(RemoveTree, EaccesOnUnlinkIsRetriedAfterFixingTheDirectory) {
  tftest::spit(tree_ / "file", "x");
  fault::fail(fault::call::unlinkat, 1, EACCES);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(fault::calls(fault::call::unlinkat), 2u);
  EXPECT_EQ(fault::calls(fault::call::fchmod), 1u);  // the temporary directory's own descriptor
  EXPECT_EQ(fault::calls(fault::call::fchmodat), 0u);
}

TEST_P(RemoveTree, EaccesOnOpeningASubdirectoryFixesTheParentFirst) {
  fs::create_directory(tree_ / "sub");
  tftest::spit(tree_ / "sub" / "file", "x");
  fault::fail(fault::call::openat, 2, EACCES);  // the first openat opens the root
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(fault::calls(fault::call::openat), 3u);
  EXPECT_EQ(fault::calls(fault::call::fchmod), 1u);
  EXPECT_EQ(fault::calls(fault::call::fchmodat), 0u);
}

TEST_P(RemoveTree, EaccesOnOpeningASubdirectoryThenFixesTheSubdirectory) {
  fs::create_directory(tree_ / "sub");
  tftest::spit(tree_ / "sub" / "file", "x");
  fault::fail(fault::call::openat, 2, EACCES, 2);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(fault::calls(fault::call::openat), 4u);
  EXPECT_EQ(fault::calls(fault::call::fchmod), 1u);
  EXPECT_EQ(fault::calls(fault::call::fchmodat), 1u);
}

TEST_P(RemoveTree, EaccesOnOpeningTheRootFixesTheRootNotItsHolder) {
  tftest::spit(tree_ / "file", "x");
  fault::fail(fault::call::openat, 1, EACCES);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(fault::calls(fault::call::fchmodat), 1u);
  EXPECT_EQ(fault::calls(fault::call::fchmod), 0u);
}

TEST_P(RemoveTree, PersistentEaccesIsReportedWithoutLooping) {
  tftest::spit(tree_ / "a", "x");
  fs::create_directory(tree_ / "sub");
  tftest::spit(tree_ / "sub" / "b", "x");
  fault::fail(fault::call::unlinkat, 1, EACCES, 0);
  std::error_code ec;
  fs::path where;
  remove_tree(tree_, ec, &where);
  EXPECT_EQ(ec, std::errc::permission_denied);
  EXPECT_EQ(where.parent_path(), tree_);
  EXPECT_LT(fault::calls(fault::call::unlinkat), 20u);
  EXPECT_TRUE(fs::exists(tree_ / "a"));
  fault::reset();
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(fs::exists(tree_));
}

// A chmod that fails for a reason of its own is that reason, not a second "permission denied".
TEST_P(RemoveTree, AFailedFixIsReportedWithItsOwnError) {
  struct step {
    const char* what;
    fault::call refused;  // refused with EACCES first...
    unsigned nth;
    fault::call fix;  // ...then the chmod meant to get past it fails with EIO
  };
  for (const step& s :
       {step{"unlink, then fchmod", fault::call::unlinkat, 1, fault::call::fchmod},
        step{"open root, then fchmodat", fault::call::openat, 1, fault::call::fchmodat}}) {
    SCOPED_TRACE(s.what);
    fs::create_directories(tree_);
    tftest::spit(tree_ / "file", "x");
    fault::reset();
    fault::fail(s.refused, s.nth, EACCES);
    fault::fail(s.fix, 1, EIO);
    std::error_code ec;
    remove_tree(tree_, ec);
    EXPECT_EQ(ec, std::errc::io_error) << ec.message();
    EXPECT_EQ(fault::calls(s.fix), 1u);
    fault::reset();
    remove_tree(tree_, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(fs::exists(tree_));
  }
}

TEST_P(RemoveTree, EnoentOnUnlinkIsNotAnError) {
  for (const char* name : {"a", "b", "c"}) tftest::spit(tree_ / name, "x");
  fault::fail(fault::call::unlinkat, 1, ENOENT);  // that file stays: the final rmdir finds it
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

TEST_P(RemoveTree, EnoentOnOpeningASubdirectoryIsNotAnError) {
  fs::create_directories(tree_ / "sub" / "inner");
  tftest::spit(tree_ / "file", "x");
  fault::fail(fault::call::openat, 2, ENOENT);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

TEST_P(RemoveTree, EntriesVanishingDuringTheWalkAreNotErrors) {
  bool done = false;
  for (const char* name : {"s1", "s2", "s3"}) {
    fs::create_directories(tree_ / name / "inner");
    tftest::spit(tree_ / name / "inner" / "file", "x");
  }
  // Before the first subdirectory is opened, someone else removes all three.
  seam::set_hook(
      +[](seam::event e, int dir, const char*, void* context) noexcept {
        auto* fired = static_cast<bool*>(context);
        if (e != seam::event::open_child || *fired) return;
        *fired = true;
        std::error_code ec;
        const fs::path parent = tftest::fd_path(dir);
        for (const char* name : {"s1", "s2", "s3"}) fs::remove_all(parent / name, ec);
      },
      &done);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_TRUE(done);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

TEST_P(RemoveTree, EioIsReportedWithTheEntryAndTheRestIsRemoved) {
  fs::create_directory(tree_ / "sub");
  for (int i = 0; i < 5; ++i) tftest::spit(tree_ / "sub" / ("g" + std::to_string(i)), "x");
  // unlinkat #1: rmdir of "sub" (not empty); #2..#6: its files; the 2nd file fails.
  fault::fail(fault::call::unlinkat, 3, EIO);
  std::error_code ec;
  fs::path where;
  remove_tree(tree_, ec, &where);
  EXPECT_EQ(ec, errc(EIO));
  EXPECT_EQ(tftest::names_in(tree_), std::vector<std::string>{"sub"});
  const auto left = tftest::names_in(tree_ / "sub");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(where, tree_ / "sub" / left[0]);
}

TEST_P(RemoveTree, AnUnreadableDirectoryIsLeftAndTheRestRemoved) {
  for (int i = 0; i < 3; ++i) tftest::spit(tree_ / ("f" + std::to_string(i)), "x");
  for (const char* name : {"s1", "s2"}) {
    fs::create_directory(tree_ / name);
    tftest::spit(tree_ / name / "file", "x");
  }
  fault::fail(fault::call::getdents, 2, EIO);  // the listing of the first subdirectory
  std::error_code ec;
  fs::path where;
  remove_tree(tree_, ec, &where);
  EXPECT_EQ(ec, errc(EIO));
  const auto left = tftest::names_in(tree_);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(where, tree_ / left[0]);
  EXPECT_EQ(tftest::names_in(tree_ / left[0]), std::vector<std::string>{"file"});
}

struct fd_watch {
  std::size_t max_open = 0;
  unsigned parents_reopened = 0;
};

TEST_P(RemoveTree, DeepBranchyTreeKeepsFewDescriptorsOpen) {
  constexpr int kDepth = 1000;
  build_chain(tree_, kDepth, [](int fd) {
    make_file_at(fd, "f");
    ::close(make_dir_at(fd, "empty"));
    const int n = make_dir_at(fd, "n");
    make_file_at(n, "x");
    ::close(n);
  });
  fd_watch watch;
  seam::set_hook(
      +[](seam::event e, int, const char*, void* context) noexcept {
        auto* w = static_cast<fd_watch*>(context);
        if (e == seam::event::open_parent) ++w->parents_reopened;
        w->max_open = std::max(w->max_open, tftest::open_fd_count());
      },
      &watch);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_LE(watch.max_open, fds_before_ + 64);
  EXPECT_GT(watch.parents_reopened, 0u);
}

TEST_P(RemoveTree, WideTreeAcrossManyListingBatches) {
  const int dir = open_dir(tree_);
  for (int i = 0; i < 6000; ++i) {
    const std::string name = "a_rather_long_subdirectory_name_" + std::to_string(i);
    const int sub = make_dir_at(dir, name);
    make_file_at(sub, "x");
    ::close(sub);
    make_file_at(dir, "a_rather_long_file_name_" + std::to_string(i));
  }
  ::close(dir);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

// A directory listed in several batches whose subdirectories are deeper than the descriptor
// bound: it is closed while they are emptied, then reopened and listed on from where it was.
TEST_P(RemoveTree, ListingResumesOnAReopenedDirectory) {
  const fs::path x = tree_ / "x";
  fs::create_directory(x);
  const int dir = open_dir(x);
  for (int i = 0; i < 3000; ++i) make_file_at(dir, "a_rather_long_file_name_" + std::to_string(i));
  ::close(dir);
  for (const char* name : {"s0", "s1", "s2"}) {
    fs::create_directory(x / name);
    build_chain(x / name, 80, [](int fd) { make_file_at(fd, "f"); });
  }
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

struct swap_plan {
  swap_plan(fs::path outside_dir, fs::path elsewhere_dir)
      : outside(std::move(outside_dir)), elsewhere(std::move(elsewhere_dir)) {}
  fs::path outside;    // a directory outside the tree, full of things that must survive
  fs::path elsewhere;  // where the test moves pieces of the tree to (same file system)
  int ancestor_up = 0;
  bool done = false;
};

void fill_outside(const fs::path& outside) {
  fs::create_directory(outside);
  tftest::spit(outside / "canary", "alive");
  build_chain(outside, 300, [](int fd) { make_file_at(fd, "canary"); });
}

void expect_outside_intact(const fs::path& outside) {
  EXPECT_EQ(tftest::slurp(outside / "canary"), "alive");
  // Every level of the look-alike chain still has its file.
  int fd = open_dir(outside);
  for (int i = 0; i < 300; ++i) {
    struct stat st {};
    EXPECT_EQ(::fstatat(fd, "canary", &st, AT_SYMLINK_NOFOLLOW), 0) << "level " << i;
    const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    ASSERT_GE(next, 0) << "level " << i;
    fd = next;
  }
  ::close(fd);
}

TEST_P(RemoveTree, SubdirectorySwappedForASymlinkIsNotFollowed) {
  swap_plan plan{holder() / "outside", holder() / "elsewhere"};
  fill_outside(plan.outside);
  fs::create_directory(plan.elsewhere);
  fs::create_directories(tree_ / "sub" / "inner");
  tftest::spit(tree_ / "sub" / "inner" / "file", "ours");
  tftest::spit(tree_ / "file", "ours");
  // Just before "sub" is opened, it is moved away and a link to `outside` takes its name.
  seam::set_hook(
      +[](seam::event e, int dir, const char* name, void* context) noexcept {
        auto* p = static_cast<swap_plan*>(context);
        if (e != seam::event::open_child || p->done) return;
        p->done = true;
        std::error_code ec;
        const fs::path victim = tftest::fd_path(dir) / name;
        fs::rename(victim, p->elsewhere / "moved", ec);
        fs::create_directory_symlink(p->outside, victim, ec);
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_TRUE(plan.done);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  expect_outside_intact(plan.outside);
  EXPECT_EQ(tftest::slurp(plan.elsewhere / "moved" / "inner" / "file"), "ours");
}

// The walk holds few descriptors: on the way back up it reopens parents through "..", and
// accepts one only if it is the directory it saw there first.
TEST_P(RemoveTree, DirectoryMovedOutDuringTheWalkIsFoundAgainByName) {
  swap_plan plan{holder() / "outside", holder() / "elsewhere"};
  fs::create_directory(plan.elsewhere);
  tftest::spit(plan.elsewhere / "canary", "alive");
  build_chain(tree_, 200, [](int fd) { make_file_at(fd, "f"); });
  seam::set_hook(
      +[](seam::event e, int dir, const char*, void* context) noexcept {
        auto* p = static_cast<swap_plan*>(context);
        if (e != seam::event::open_parent || p->done) return;
        p->done = true;
        std::error_code ec;
        fs::rename(tftest::fd_path(dir), p->elsewhere / "moved", ec);  // ".." is now `elsewhere`
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_TRUE(plan.done);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(tftest::slurp(plan.elsewhere / "canary"), "alive");
  EXPECT_TRUE(fs::is_directory(plan.elsewhere / "moved"));
}

TEST_P(RemoveTree, AncestorSwappedForASymlinkStopsTheWalk) {
  swap_plan plan{holder() / "outside", holder() / "elsewhere"};
  plan.ancestor_up = 10;
  fill_outside(plan.outside);
  fs::create_directory(plan.elsewhere);
  build_chain(tree_, 200, [](int fd) { make_file_at(fd, "f"); });
  // The directory being left is moved out (so ".." fails the identity check) and an ancestor
  // on the way back from the root is replaced by a link to a look-alike chain outside.
  seam::set_hook(
      +[](seam::event e, int dir, const char*, void* context) noexcept {
        auto* p = static_cast<swap_plan*>(context);
        if (e != seam::event::open_parent || p->done) return;
        p->done = true;
        tftest::swap_ancestor_for_link(dir, p->ancestor_up, p->elsewhere, p->outside);
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_TRUE(plan.done);
  // O_NOFOLLOW|O_DIRECTORY on the link: ENOTDIR on Linux, ELOOP elsewhere.
  EXPECT_TRUE(ec == std::errc::not_a_directory || ec == std::errc::too_many_symbolic_link_levels)
      << ec.message();
  expect_outside_intact(plan.outside);
}

TEST_P(RemoveTree, RemoveContentsKeepsTheDirectory) {
  tftest::spit(tree_ / "file", "x");
  fs::create_directories(tree_ / "a" / "b");
  fs::create_directory_symlink(holder(), tree_ / "up");
  const int fd = open_dir(tree_);
  std::error_code ec;
  remove_contents(fd, ec);
  ::close(fd);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(fs::is_directory(tree_));
  EXPECT_TRUE(fs::is_empty(tree_));
}

INSTANTIATE_TEST_SUITE_P(Roots, RemoveTree, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
