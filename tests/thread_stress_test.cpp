// 16 threads creating and destroying every kind of object at once, for a number of iterations
// (TEMPFILE_STRESS_ITERATIONS, default 400 each), meant to run under ThreadSanitizer too, on tmpfs
// where there is one (the point is concurrency; a disk's fsyncs would only add waiting): every
// name made is distinct, each object works, nothing is left behind, and a thread that walks the
// crash-cleanup registry meanwhile (as a signal handler would) only ever reads whole paths. Then
// the same with the guardian started while the threads run, in a child process that exits
// leaving objects alive: the guardian removes exactly those.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <tempfile/tempfile.hpp>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "guardian.hpp"
#include "registry.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace registry = tempfile::detail::registry;

constexpr int kThreads = 16;

int iterations() {
  if (const char* env = std::getenv("TEMPFILE_STRESS_ITERATIONS"); env != nullptr && *env != '\0') {
    return std::atoi(env);
  }
  return 400;
}

// One thread's work: every kind of object, made, used and destroyed, `count` times. Returns the
// names it made, or throws with what went wrong.
std::vector<std::string> churn(const fs::path& dir, int thread, int count,
                               const std::function<void(int)>& after_iteration = {}) {
  std::vector<std::string> names;
  const std::string tag = std::to_string(thread);
  const fs::path target = dir / ("target" + tag);
  for (int i = 0; i < count; ++i) {
    const std::string text = tag + "/" + std::to_string(i);
    {
      tempfile::temporary_file f;  // gettempdir(), probed by many threads at once at first
      f.write(text);
      f.seek(0);
      if (f.read() != text) throw std::runtime_error("temporary_file read back wrong");
    }
    {
      tempfile::named_temporary_file f({.prefix = "st_f", .dir = dir});
      names.push_back(f.path().filename().string());
      f.write(text);
      f.flush();
      if (i % 2 == 0) {
        tempfile::file again = f.reopen();
        if (again.read() != text) throw std::runtime_error("reopen read back wrong");
      }
    }
    {
      tempfile::spooled_temporary_file s({.dir = dir, .max_size = i % 2 == 0 ? 4u : 0u});
      s.write(text);
      s.seek(0);
      if (s.read() != text) throw std::runtime_error("spooled read back wrong");
    }
    {
      tempfile::temporary_directory d({.prefix = "st_d", .dir = dir});
      names.push_back(d.path().filename().string());
      tftest::spit(d.path() / "inside", text);
      fs::create_directory(d.path() / "sub");
    }
    {
      tempfile::atomic_file a(target);
      a.write(text);
      a.commit();
    }
    {
      auto [fd, path] = tempfile::mkstemp({.prefix = "st_m", .dir = dir});
      names.push_back(path.filename().string());
      ::close(fd);
      fs::remove(path);
    }
    {
      const fs::path made = tempfile::mkdtemp({.prefix = "st_n", .dir = dir});
      names.push_back(made.filename().string());
      fs::remove(made);
    }
    if (tftest::slurp(target) != text) throw std::runtime_error("atomic_file lost a commit");
    if (after_iteration) after_iteration(i);
  }
  fs::remove(target);
  return names;
}

// Runs churn() on kThreads threads; fails the test for any exception; returns all names made.
std::vector<std::string> run_threads(const fs::path& dir, int count,
                                     const std::function<void(int)>& after_iteration = {}) {
  std::vector<std::vector<std::string>> names(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        names[static_cast<std::size_t>(t)] = churn(dir, t, count, after_iteration);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[static_cast<std::size_t>(t)], "") << "thread " << t;
    all.insert(all.end(), names[static_cast<std::size_t>(t)].begin(),
               names[static_cast<std::size_t>(t)].end());
  }
  return all;
}

void expect_distinct(std::vector<std::string> names, std::size_t expected) {
  EXPECT_EQ(names.size(), expected);
  std::sort(names.begin(), names.end());
  const auto dup = std::adjacent_find(names.begin(), names.end());
  EXPECT_TRUE(dup == names.end()) << "a name was made twice: " << *dup;
}

// Paths are stored eight bytes to a word: every length, whole words and a tail, comes back
// exactly as registered.
TEST(Registry, EveryPathLengthComesBackWhole) {
  for (std::size_t length = 1; length <= 80; ++length) {
    std::string path = "/";
    for (std::size_t i = 1; i < length; ++i) path += static_cast<char>('a' + (i * 7 + length) % 26);
    const registry::ticket t = registry::add(path, registry::kind::file);
    ASSERT_NE(t, 0u) << length;
    struct found_t {
      registry::ticket t;
      std::string path;
    } found{t, ""};
    registry::for_each(
        [](const char* p, registry::kind, registry::ticket tk, void* c) {
          auto* f = static_cast<found_t*>(c);
          if (tk == f->t) f->path = p;
        },
        &found);
    registry::remove(t);
    EXPECT_EQ(found.path, path) << "length " << length;
  }
}

TEST(ThreadStress, EveryKindFromSixteenThreads) {
  tftest::scratch scratch(tftest::roots().back().path);  // tmpfs when there is one
  const fs::path dir = scratch.path();
  const int count = iterations();

  // What the registry may hold while the threads run: their named files, directories, and
  // atomic_file temporaries while commit() names them.
  const std::regex whole(
      std::regex_replace(dir.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
      R"(/(st_[fd][a-z0-9_]{8}|\.target\d+\.[a-z0-9_]{8}\.tmp))");
  std::atomic<bool> done{false};
  std::atomic<unsigned long> seen{0};
  std::string torn;
  std::thread walker([&] {
    struct context {
      const std::regex* whole;
      std::string* torn;
      unsigned long seen = 0;
    } ctx{&whole, &torn};
    while (!done.load()) {
      registry::for_each(
          [](const char* path, registry::kind, registry::ticket, void* c) {
            auto* x = static_cast<context*>(c);
            ++x->seen;
            if (x->torn->empty() && !std::regex_match(path, *x->whole)) *x->torn = path;
          },
          &ctx);
    }
    seen = ctx.seen;
  });
  const std::vector<std::string> names = run_threads(dir, count);
  done = true;
  walker.join();

  expect_distinct(names, static_cast<std::size_t>(kThreads) * static_cast<std::size_t>(count) * 4);
  EXPECT_EQ(torn, "") << "the registry walk read a path that was never registered";
  EXPECT_EQ(scratch.entries(), std::vector<std::string>{});
  std::cout << "ThreadStress: " << names.size() << " distinct names from " << kThreads
            << " threads; the registry walk saw " << seen.load() << " live entries\n";
}

// A program whose threads churn while it starts the guardian, then exits with objects alive.
TEST(ThreadStress, TheGuardianStartedMidwayRemovesExactlyWhatIsLeftAlive) {
  tftest::scratch scratch(tftest::roots().back().path);  // tmpfs when there is one
  const fs::path dir = scratch.path();
  const int count = std::max(iterations() / 3, 4);
  tftest::child c = tftest::spawn([&](int out, int) {
    std::mutex m;
    std::vector<tempfile::named_temporary_file> alive_files;
    std::vector<tempfile::temporary_directory> alive_dirs;
    std::vector<std::string> kept;
    std::latch halfway(kThreads);
    std::thread starter([&] {
      halfway.wait();
      tempfile::start_guardian();  // hands over what exists, while more is being made
      tftest::write_all(out,
                        "guardian " + std::to_string(tempfile::detail::guardian::pid()) + "\n");
    });
    const std::vector<std::string> names = run_threads(dir, count, [&](int i) {
      // Every few iterations: one file and one directory left alive, one file kept.
      if (i % 4 == 0) {
        tempfile::named_temporary_file f({.prefix = "al_f", .dir = dir});
        tempfile::temporary_directory d({.prefix = "al_d", .dir = dir});
        tftest::spit(d.path() / "inside", "x");
        tempfile::named_temporary_file k({.prefix = "kept", .dir = dir});
        const std::lock_guard lock(m);
        kept.push_back(k.keep().filename().string());
        alive_files.push_back(std::move(f));
        alive_dirs.push_back(std::move(d));
      }
      if (i == count / 2) halfway.count_down();
    });
    starter.join();
    if (::testing::Test::HasFailure()) return 1;
    std::set<std::string> distinct(names.begin(), names.end());
    if (distinct.size() != names.size()) return 2;
    for (const std::string& k : kept) tftest::write_all(out, "kept " + k + "\n");
    tftest::write_all(out, "alive " + std::to_string(alive_files.size()) + "\n");
    std::_Exit(0);  // with every alive_* object still alive
  });
  ASSERT_GT(c.pid, 0);
  const std::string first = tftest::read_line(c.from.get(), 10 * tftest::kEventTimeoutMs);
  ASSERT_EQ(first.rfind("guardian ", 0), 0u) << first << tftest::read_all(c.from.get());
  tftest::unique_fd guardian = tftest::pidfd_of(static_cast<pid_t>(std::stol(first.substr(9))));
  ASSERT_GE(guardian.get(), 0);
  std::vector<std::string> kept;
  std::string line;
  while ((line = tftest::read_line(c.from.get(), 10 * tftest::kEventTimeoutMs)).rfind("kept ", 0) ==
         0) {
    kept.push_back(line.substr(5));
  }
  ASSERT_EQ(line.rfind("alive ", 0), 0u) << line;
  EXPECT_GT(std::stoul(line.substr(6)), 0u);
  const int status = c.wait(10 * tftest::kEventTimeoutMs);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << tftest::describe_status(status);
  EXPECT_TRUE(tftest::wait_pidfd(guardian.get()));
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept.size(),
            static_cast<std::size_t>(kThreads) * static_cast<std::size_t>((count + 3) / 4));
  EXPECT_EQ(scratch.entries(), kept);
}

}  // namespace
