// Parallel tree removal (src/remove_tree.cpp): a large tree is removed by several threads, each
// emptying subdirectories handed to it. Every promise of the single-threaded walk must hold on
// every thread: fd-relative calls with O_NOFOLLOW (links are removed, never followed, even when a
// directory is swapped for one mid-walk), identity checks on the way back up, a bounded number
// of descriptors (64, shared by all threads), permissions restored, vanishing entries tolerated,
// the first error reported. Helper threads are asked for through the walk's test seam (the test
// build has none by default); hooks run on any thread, so they only touch atomics.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "platform/fault.hpp"
#include "remove_tree.hpp"
#include "tempfile/temporary_directory.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
namespace seam = tempfile::detail::remove_tree_seam;
using tempfile::detail::remove_tree;
using tftest::make_dir_at;
using tftest::make_file_at;
using tftest::open_dir;

constexpr long kTmpfsMagic = 0x01021994;

// `width` directories under `top`, each holding `subdirs` directories of `files` files; at every
// level, `extra` may add more (links, say).
void build_wide(const fs::path& top, int width, int subdirs, int files,
                const std::function<void(int)>& extra = {}) {
  const int root = open_dir(top);
  for (int i = 0; i < width; ++i) {
    const int a = make_dir_at(root, "w" + std::to_string(i));
    if (extra) extra(a);
    for (int j = 0; j < subdirs; ++j) {
      const int b = make_dir_at(a, "s" + std::to_string(j));
      for (int k = 0; k < files; ++k) make_file_at(b, "f" + std::to_string(k));
      if (extra) extra(b);
      ::close(b);
    }
    ::close(a);
  }
  ::close(root);
}

// `depth` nested directories named "d" below the open directory `fd` (closed), each with a file
// and an empty directory beside its "d".
void build_chain_at(int fd, int depth) {
  for (int i = 0; i < depth; ++i) {
    make_file_at(fd, "f");
    ::close(make_dir_at(fd, "e"));
    const int next = make_dir_at(fd, "d");
    ::close(fd);
    fd = next;
  }
  ::close(fd);
}

bool on_tmpfs(const fs::path& p) {
  struct statfs st {};
  return ::statfs(p.c_str(), &st) == 0 && static_cast<long>(st.f_type) == kTmpfsMagic;
}

// What the outside of the tree holds: things the removal must never touch.
void fill_outside(const fs::path& outside) {
  fs::create_directories(outside / "sub");
  tftest::spit(outside / "canary", "alive");
  tftest::spit(outside / "sub" / "canary", "alive");
}

void expect_outside_intact(const fs::path& outside) {
  EXPECT_EQ(tftest::slurp(outside / "canary"), "alive");
  EXPECT_EQ(tftest::slurp(outside / "sub" / "canary"), "alive");
}

// Lowers RLIMIT_NOFILE for its lifetime so that exactly `extra` more descriptors can be open at
// once: a removal that needed more would fail with EMFILE. The limit bounds descriptor numbers,
// not their count, so it is set where exactly `extra` numbers below it are free (descriptors
// inherited with high numbers, as from a shell or a CI runner, would otherwise add room).
class descriptor_cap {
 public:
  explicit descriptor_cap(std::size_t extra) {
    if (::getrlimit(RLIMIT_NOFILE, &old_) != 0) throw std::runtime_error("getrlimit");
    std::size_t limit = extra;
    for (const int fd : tftest::open_descriptors()) {
      if (static_cast<std::size_t>(fd) < limit) ++limit;
    }
    rlimit capped = old_;
    capped.rlim_cur = static_cast<rlim_t>(limit);
    if (::setrlimit(RLIMIT_NOFILE, &capped) != 0) throw std::runtime_error("setrlimit");
  }
  ~descriptor_cap() { ::setrlimit(RLIMIT_NOFILE, &old_); }
  descriptor_cap(const descriptor_cap&) = delete;
  descriptor_cap& operator=(const descriptor_cap&) = delete;

 private:
  rlimit old_{};
};

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) return std::atol(line.c_str() + key.size());
  }
  return -1;
}

class ParallelRemove : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    fault::reset();
    // Threads from the first entry on, three of them even on fewer processors.
    seam::set_parallel(0, 3);
    holder_ = std::make_unique<tftest::scratch>(GetParam().path);
    tree_ = holder() / "tree";
    fs::create_directory(tree_);
    fds_before_ = tftest::open_fd_count();
    before_ = seam::stats();
  }
  void TearDown() override {
    seam::set_hook(nullptr, nullptr);
    seam::reset_parallel();
    fault::reset();
    EXPECT_EQ(tftest::open_fd_count(), fds_before_) << "descriptor leak";
  }
  const fs::path& holder() const { return holder_->path(); }
  std::uint64_t handed_off() const { return seam::stats().handed_off - before_.handed_off; }
  std::uint64_t threads_started() const {
    return seam::stats().threads_started - before_.threads_started;
  }

  std::unique_ptr<tftest::scratch> holder_;
  fs::path tree_;
  std::size_t fds_before_ = 0;
  seam::parallel_stats before_;
};

TEST_P(ParallelRemove, RemovesAWideTreeOnSeveralThreads) {
  build_wide(tree_, 6, 12, 20);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_GT(threads_started(), 0u);
  EXPECT_GT(handed_off(), 0u);
}

TEST_P(ParallelRemove, OffForSmallTreesOnForLargeOnes) {
  seam::set_parallel(1024, 3);  // the released library's threshold
  build_wide(tree_, 4, 4, 10);  // 180 entries
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_EQ(threads_started(), 0u) << "a small tree never pays for a thread";
  fs::create_directory(tree_);
  build_wide(tree_, 6, 12, 40);  // about 3,000 entries
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_GT(threads_started(), 0u);
}

TEST_P(ParallelRemove, SymbolicLinksAreRemovedNeverFollowed) {
  const fs::path outside = holder() / "outside";
  fill_outside(outside);
  struct links {
    fs::path outside;
  } plan{outside};
  // Every directory of the tree holds a link to the outside directory, one to a file in it and
  // a dangling one.
  build_wide(tree_, 6, 8, 10, [&](int fd) {
    ASSERT_EQ(::symlinkat(plan.outside.c_str(), fd, "to_dir"), 0);
    ASSERT_EQ(::symlinkat((plan.outside / "canary").c_str(), fd, "to_file"), 0);
    ASSERT_EQ(::symlinkat("/nonexistent/nowhere", fd, "dangling"), 0);
  });
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_GT(handed_off(), 0u);
  expect_outside_intact(outside);
}

// Makes sure helper threads get work in a test that needs them to: handed-off subdirectories
// that no helper has started yet are taken back by the walk that handed them off, which, on a
// busy machine, may be every one of them. So the main thread, at its third top-level
// subdirectory, waits (ten seconds at most) until a helper has been seen at work.
struct helper_gate {
  std::thread::id main = std::this_thread::get_id();
  std::atomic<int> foreign{0};
  std::atomic<int> top_level{0};

  // Call from the hook; true on a helper thread.
  bool on_helper(seam::event e, int dir) noexcept {
    if (std::this_thread::get_id() != main) {
      ++foreign;
      return true;
    }
    if (e == seam::event::open_child && is_top(dir) && top_level.fetch_add(1) == 2) {
      for (int i = 0; i < 10'000 && foreign.load() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return false;
  }
  static bool is_top(int dir) noexcept { return tftest::fd_path(dir).filename() == "tree"; }
};

struct swap_plan {
  fs::path outside;
  fs::path elsewhere;
  std::atomic<int> swaps{0};
  std::atomic<int> foreign_thread_swaps{0};
  std::thread::id main;
  int ancestor_up = 0;
  helper_gate gate;
};

TEST_P(ParallelRemove, SubdirectoriesSwappedForLinksOnAnyThreadAreNotFollowed) {
  swap_plan plan;
  plan.outside = holder() / "outside";
  plan.elsewhere = holder() / "elsewhere";
  plan.main = std::this_thread::get_id();
  fill_outside(plan.outside);
  fs::create_directory(plan.elsewhere);
  build_wide(tree_, 6, 10, 10);
  // Just before a subdirectory of the second level is opened (on whichever thread), it is moved
  // away and a link to the outside takes its name: the first twelve times.
  seam::set_hook(
      +[](seam::event e, int dir, const char* name, void* context) noexcept {
        auto* p = static_cast<swap_plan*>(context);
        if (e != seam::event::open_child || name[0] != 's') return;
        const int n = p->swaps.fetch_add(1);
        if (n >= 12) return;
        if (std::this_thread::get_id() != p->main) ++p->foreign_thread_swaps;
        std::error_code ec;
        const fs::path victim = tftest::fd_path(dir) / name;
        fs::rename(victim, p->elsewhere / ("moved" + std::to_string(n)), ec);
        fs::create_directory_symlink(p->outside, victim, ec);
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  seam::set_hook(nullptr, nullptr);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  expect_outside_intact(plan.outside);
  EXPECT_GT(handed_off(), 0u);
  // Whatever was moved away is outside the tree now, and untouched.
  std::size_t moved = 0;
  for (const auto& entry : fs::directory_iterator(plan.elsewhere)) {
    ++moved;
    EXPECT_TRUE(fs::is_directory(entry.path()));
  }
  EXPECT_EQ(moved, 12u);
}

// A helper's walk holds four descriptors, so on a deep subtree it reopens parents through "..";
// an ancestor swapped for a link on the way back up stops that walk (by the identity check and
// O_NOFOLLOW), and only that one.
TEST_P(ParallelRemove, AncestorSwappedUnderAHelperStopsItsWalk) {
  swap_plan plan;
  plan.outside = holder() / "outside";
  plan.elsewhere = holder() / "elsewhere";
  plan.main = std::this_thread::get_id();
  plan.ancestor_up = 3;
  fill_outside(plan.outside);
  fs::create_directory(plan.elsewhere);
  const int root = open_dir(tree_);
  for (int i = 0; i < 4; ++i) build_chain_at(make_dir_at(root, "c" + std::to_string(i)), 40);
  ::close(root);
  seam::set_hook(
      +[](seam::event e, int dir, const char*, void* context) noexcept {
        auto* p = static_cast<swap_plan*>(context);
        if (!p->gate.on_helper(e, dir) || e != seam::event::open_parent) return;
        if (p->swaps.fetch_add(1) != 0) return;
        tftest::swap_ancestor_for_link(dir, p->ancestor_up, p->elsewhere, p->outside);
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  seam::set_hook(nullptr, nullptr);
  EXPECT_GT(plan.swaps.load(), 0);
  // O_NOFOLLOW|O_DIRECTORY on the link: ENOTDIR on Linux, ELOOP elsewhere.
  EXPECT_TRUE(ec == std::errc::not_a_directory || ec == std::errc::too_many_symbolic_link_levels)
      << ec.message();
  expect_outside_intact(plan.outside);
  EXPECT_TRUE(fs::is_directory(plan.elsewhere / "ancestor"));
}

TEST_P(ParallelRemove, AllThreadsTogetherHoldAtMost64Descriptors) {
  // Wide at the top (work for every thread), deep below (every walk at its budget).
  const int root = open_dir(tree_);
  for (int i = 0; i < 8; ++i) build_chain_at(make_dir_at(root, "c" + std::to_string(i)), 120);
  ::close(root);
  std::error_code ec;
  {
    descriptor_cap cap(64);  // EMFILE, and an error, if the walks ever needed more
    remove_tree(tree_, ec);
  }
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_GT(handed_off(), 0u);
}

TEST_P(ParallelRemove, AHundredThousandLevelsHoldBoundedDescriptorsAndMemory) {
  // On a disk, every rmdir may cost a journal write: a shorter chain shows the same bound.
  const int depth = on_tmpfs(tree_) ? 100'000 : 3'000;
  int fd = open_dir(tree_);
  for (int i = 0; i < depth; ++i) {
    const int next = make_dir_at(fd, "d");
    ::close(fd);
    fd = next;
  }
  ::close(fd);
  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";  // the peak resident size (VmHWM) starts again from here
  }
  const long rss_before = status_kb("VmRSS");
  std::error_code ec;
  {
    descriptor_cap cap(64);
    remove_tree(tree_, ec);
  }
  const long peak_growth_kb = status_kb("VmHWM") - rss_before;
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  // What the walk keeps per level is a few dozen bytes (never the tree's paths): well below
  // 32 MiB for 100,000 levels. (Sanitizers add their own shadow memory.)
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(peak_growth_kb, 32 * 1024) << "peak growth " << peak_growth_kb << " KiB";
#else
  (void)peak_growth_kb;
#endif
}

// Running as root bypasses permission checks, so the retries are driven by the fault seam too;
// the real modes below matter when the tests run as another user.
TEST_P(ParallelRemove, PermissionsAreRestoredOnEveryThread) {
  build_wide(tree_, 6, 8, 10);
  for (int i = 0; i < 6; ++i) {
    const fs::path w = tree_ / ("w" + std::to_string(i));
    fs::permissions(w / "s1", static_cast<fs::perms>(0500));  // no write: files stay
    fs::permissions(w / "s2", static_cast<fs::perms>(0300));  // no read: cannot be listed
    fs::permissions(w / "s3", static_cast<fs::perms>(0000));
    fs::permissions(w, static_cast<fs::perms>(0500));
  }
  // Root passes over permission bits, so there a refusal is injected to make a walk fix a mode.
  // Without root the modes above refuse by themselves, and an injected refusal could land in a
  // directory already fixed, where a second EACCES is rightly an error.
  if (::geteuid() == 0) fault::fail(fault::call::unlinkat, 40, EACCES);
  std::error_code ec;
  remove_tree(tree_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
  EXPECT_GE(fault::calls(fault::call::fchmod), 1u);
  EXPECT_GT(handed_off(), 0u);
}

TEST_P(ParallelRemove, EntriesVanishingOnOtherThreadsAreNotErrors) {
  struct plan_t {
    std::atomic<int> removed{0};
  } plan;
  build_wide(tree_, 6, 10, 10);
  // Some subdirectories disappear just before they are opened, wherever that happens.
  seam::set_hook(
      +[](seam::event e, int dir, const char* name, void* context) noexcept {
        auto* p = static_cast<plan_t*>(context);
        if (e != seam::event::open_child || p->removed.fetch_add(1) % 3 != 0) return;
        std::error_code ec;
        fs::remove_all(tftest::fd_path(dir) / name, ec);
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  seam::set_hook(nullptr, nullptr);
  EXPECT_GT(plan.removed.load(), 0);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree_));
}

TEST_P(ParallelRemove, TheFirstErrorIsReportedAndTheRestRemoved) {
  build_wide(tree_, 6, 10, 10);
  // A listing fails with EIO once threads are at work: that directory stays, nothing else.
  fault::fail(fault::call::getdents, 30, EIO);
  std::error_code ec;
  fs::path failed;
  remove_tree(tree_, ec, &failed);
  EXPECT_EQ(ec, std::error_code(EIO, std::generic_category())) << ec.message();
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.native().rfind(tree_.native(), 0), 0u) << failed;
  // Left: at most the directory that could not be listed, what is in it, and its ancestors (a
  // listing that failed at its end leaves nothing, once the directory is found empty).
  if (!fs::exists(tree_)) return;
  for (auto it = fs::recursive_directory_iterator(tree_); it != fs::end(it); ++it) {
    const std::string& p = it->path().native();
    const bool inside = p.rfind(failed.native() + "/", 0) == 0;
    const bool ancestor = failed.native().rfind(p + "/", 0) == 0 || p == failed.native();
    EXPECT_TRUE(inside || ancestor) << p << " survived, but only " << failed << " failed";
  }
}

TEST_P(ParallelRemove, HelperThreadsBlockSignals) {
  struct plan_t {
    helper_gate gate;
    std::atomic<int> unblocked{0};
  } plan;
  build_wide(tree_, 6, 10, 10);
  seam::set_hook(
      +[](seam::event e, int dir, const char*, void* context) noexcept {
        auto* p = static_cast<plan_t*>(context);
        if (!p->gate.on_helper(e, dir)) return;
        sigset_t mask;
        ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
        for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1}) {
          if (::sigismember(&mask, sig) != 1) ++p->unblocked;
        }
      },
      &plan);
  std::error_code ec;
  remove_tree(tree_, ec);
  seam::set_hook(nullptr, nullptr);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GT(plan.gate.foreign.load(), 0) << "no helper thread opened anything";
  EXPECT_EQ(plan.unblocked.load(), 0);
}

TEST_P(ParallelRemove, TemporaryDirectoryCleanupUsesThreads) {
  std::filesystem::path where;
  {
    tempfile::temporary_directory d({.dir = holder()});
    where = d.path();
    build_wide(d.path(), 6, 10, 10);
    d.cleanup();
    EXPECT_FALSE(fs::exists(where));
  }
  EXPECT_GT(handed_off(), 0u);
  {
    tempfile::temporary_directory d({.dir = holder()});
    where = d.path();
    build_wide(d.path(), 6, 10, 10);
  }  // the destructor removes it the same way
  EXPECT_FALSE(fs::exists(where));
}

TEST_P(ParallelRemove, ManyRemovalsAtOnce) {
  std::vector<fs::path> trees;
  for (int i = 0; i < 4; ++i) {
    trees.push_back(holder() / ("t" + std::to_string(i)));
    fs::create_directory(trees.back());
    build_wide(trees.back(), 4, 8, 10);
  }
  std::vector<std::error_code> errors(trees.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < trees.size(); ++i) {
    threads.emplace_back([&, i] { remove_tree(trees[i], errors[i]); });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < trees.size(); ++i) {
    EXPECT_FALSE(errors[i]) << errors[i].message();
    EXPECT_FALSE(fs::exists(trees[i]));
  }
}

INSTANTIATE_TEST_SUITE_P(Roots, ParallelRemove, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
