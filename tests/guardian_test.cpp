// start_guardian(): a child process (the "program") starts the guardian, makes named files, a
// spooled file that rolled over and directory trees, and is SIGKILLed; the guardian removes what
// it made (but not what it kept) and exits, which the test awaits on a pidfd. The guardian
// ignores the group signals, is nobody's child, holds none of the program's descriptors, is not
// held up or set off by a fork()ed worker, starts once, cleans up after a normal exit that left
// objects alive, and never removes a file made after it was told to forget that name.
#include "guardian.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <tempfile/tempfile.hpp>
#include <vector>

#include "child_process.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using tftest::child;

// The program's side: starts the guardian and says "guardian <pid>".
void start_and_report(int out) {
  tempfile::start_guardian();
  tftest::write_all(out, "guardian " + std::to_string(tempfile::detail::guardian::pid()) + "\n");
}

class Guardian : public ::testing::Test {
 protected:
  void SetUp() override {
    tftest::spit(outside(), "outside\n");
    tftest::spit(target(), "old\n");
  }
  const fs::path& dir() const { return dir_.path(); }
  fs::path outside() const { return dir() / "outside"; }
  fs::path target() const { return dir() / "target"; }

  // Reads "guardian <pid>" and opens a pidfd on it (while the program keeps it alive).
  void expect_guardian(child& c) {
    const std::string line = tftest::read_line(c.from.get());
    ASSERT_EQ(line.rfind("guardian ", 0), 0u)
        << "program said: '" << line << "' " << tftest::read_all(c.from.get());
    guardian_pid_ = static_cast<pid_t>(std::stol(line.substr(9)));
    ASSERT_GT(guardian_pid_, 0);
    guardian_ = tftest::pidfd_of(guardian_pid_);
    ASSERT_GE(guardian_.get(), 0) << "the guardian is not running";
  }
  // Reads "made <path>" lines up to "ready", checking that each exists now.
  std::vector<fs::path> read_made(child& c) const {
    std::vector<fs::path> made;
    for (;;) {
      const std::string line = tftest::read_line(c.from.get());
      if (line == "ready") return made;
      if (line.rfind("made ", 0) != 0) {
        ADD_FAILURE() << "program said: '" << line << "' " << tftest::read_all(c.from.get());
        return made;
      }
      made.emplace_back(line.substr(5));
      EXPECT_TRUE(fs::exists(fs::symlink_status(made.back()))) << made.back();
    }
  }
  // SIGKILLs the program, reaps it, and waits for the guardian to finish; returns how long that
  // took after the program was reaped.
  std::chrono::milliseconds kill_and_await_guardian(child& c) {
    EXPECT_EQ(::kill(c.pid, SIGKILL), 0);
    const int status = c.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << tftest::describe_status(status);
    return await_guardian();
  }
  std::chrono::milliseconds await_guardian() {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(tftest::wait_pidfd(guardian_.get()))
        << "the guardian did not finish within " << tftest::kEventTimeoutMs << " ms";
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::cout << "the guardian finished " << took.count() << " ms after the program died\n";
    return took;
  }
  void expect_left(std::vector<std::string> want) const {
    want.insert(want.end(), {"outside", "target"});
    std::sort(want.begin(), want.end());
    EXPECT_EQ(tftest::names_in(dir()), want);
    EXPECT_EQ(tftest::slurp(outside()), "outside\n");
    EXPECT_EQ(tftest::slurp(target()), "old\n");
  }

  tftest::scratch dir_{tftest::roots().front().path};
  pid_t guardian_pid_ = -1;
  tftest::unique_fd guardian_;
};

TEST_F(Guardian, RemovesWhatASigkilledProgramMadeAndKeepsWhatItKept) {
  child c = tftest::spawn([&](int out, int in) {
    // Made before the guardian exists: handed over by start_guardian().
    tempfile::named_temporary_file before({.prefix = "before_", .dir = dir()});
    before.write("before");
    before.flush();
    tempfile::temporary_directory tree_before({.prefix = "treeb_", .dir = dir()});
    tftest::populate_tree(tree_before.path(), outside());
    start_and_report(out);
    std::vector<tempfile::named_temporary_file> files;
    for (int i = 0; i < 3; ++i) {
      files.emplace_back(tempfile::options{.prefix = "named_", .dir = dir()});
      files.back().write("named");
      files.back().flush();
    }
    tempfile::named_temporary_file closed(
        {.prefix = "closed_", .dir = dir(), .delete_on_close = false});
    closed.close();
    tempfile::spooled_temporary_file spooled({.dir = dir(), .max_size = 8});
    spooled.write("more than eight bytes");
    if (!spooled.rolled_over()) throw std::runtime_error("the spooled file did not roll over");
    tempfile::temporary_directory tree({.prefix = "tree_", .dir = dir()});
    tftest::populate_tree(tree.path(), outside());
    tempfile::temporary_directory empty_dir({.prefix = "empty_", .dir = dir()});
    tempfile::atomic_file atomic(target());
    atomic.write("never committed");
    atomic.flush();
    tempfile::named_temporary_file kept({.prefix = "kept_", .dir = dir()});
    kept.keep();
    for (const fs::path& p :
         {before.path(), tree_before.path(), files[0].path(), files[1].path(), files[2].path(),
          closed.path(), tree.path(), empty_dir.path(), kept.path()}) {
      tftest::write_all(out, "made " + p.string() + "\n");
    }
    tftest::write_all(out, "ready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  const std::vector<fs::path> made = read_made(c);
  ASSERT_EQ(made.size(), 9u);
  const auto took = kill_and_await_guardian(c);
  EXPECT_LT(took, std::chrono::milliseconds(tftest::kEventTimeoutMs));
  expect_left({made.back().filename().string()});  // the kept file
}

TEST_F(Guardian, IgnoresTheSignalsSentToTheWholeProcessGroup) {
  child c = tftest::spawn([&](int out, int in) {
    ::setpgid(0, 0);  // a group of its own, as a shell gives a job; the guardian joins it
    start_and_report(out);
    tempfile::named_temporary_file f({.prefix = "named_", .dir = dir()});
    tempfile::temporary_directory d({.prefix = "dir_", .dir = dir()});
    tftest::write_all(out,
                      "made " + f.path().string() + "\nmade " + d.path().string() + "\nready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  ASSERT_EQ(read_made(c).size(), 2u);
  // Ignored, not just blocked or handled: the kernel shows it in SigIgn.
  std::ifstream status("/proc/" + std::to_string(guardian_pid_) + "/status");
  std::uint64_t ignored = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigIgn:", 0) == 0) ignored = std::stoull(line.substr(7), nullptr, 16);
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    EXPECT_NE(ignored & (std::uint64_t{1} << (sig - 1)), 0u) << sigabbrev_np(sig);
    // Had one of these killed it, nothing would be removed below.
    EXPECT_EQ(::kill(guardian_pid_, sig), 0);
  }
  // Ctrl-C: the whole group. The program dies of it; the guardian cleans up after it.
  ASSERT_EQ(::kill(-c.pid, SIGINT), 0);
  const int st = c.wait();
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) << tftest::describe_status(st);
  await_guardian();
  expect_left({});
}

TEST_F(Guardian, IsNobodysChildAndLeavesNoZombie) {
  child c = tftest::spawn([&](int out, int) {
    start_and_report(out);
    tempfile::named_temporary_file f({.dir = dir()});
    int status = 0;
    const pid_t reaped = ::waitpid(-1, &status, WNOHANG);
    if (reaped != -1 || errno != ECHILD) {
      tftest::write_all(out, "waitpid(-1) found a child: " + std::to_string(reaped) + "\n");
      return 1;
    }
    std::ifstream stat("/proc/" + std::to_string(tempfile::detail::guardian::pid()) + "/stat");
    std::string pid, comm, state;
    pid_t ppid = 0;
    stat >> pid >> comm >> state >> ppid;
    if (!stat || ppid == ::getpid()) {
      tftest::write_all(out, "the guardian's parent is " + std::to_string(ppid) + "\n");
      return 2;
    }
    tftest::write_all(out, "ok\n");
    return 0;  // a normal exit: f is removed by its destructor, the guardian then ends
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  EXPECT_EQ(tftest::read_line(c.from.get()), "ok");
  const int st = c.wait();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << tftest::describe_status(st);
  await_guardian();
  expect_left({});
  // Nor is it the test's child: nothing is left for this process to reap either.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

TEST_F(Guardian, HoldsNoneOfTheProgramsDescriptors) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);  // inherited by the program, and by anything it forks
  tftest::unique_fd read_end(pipe_fds[0]);
  child c = tftest::spawn([&](int out, int in) {
    ::close(pipe_fds[0]);
    const int extra = ::open(dir().c_str(), O_RDONLY | O_DIRECTORY);  // not close-on-exec
    (void)extra;
    start_and_report(out);
    tempfile::named_temporary_file f({.dir = dir()});
    tftest::write_all(out, "made " + f.path().string() + "\nready\n");
    tftest::block_on(in);
    return 0;
  });
  ::close(pipe_fds[1]);
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  ASSERT_EQ(read_made(c).size(), 1u);
  const fs::path proc = "/proc/" + std::to_string(guardian_pid_);
  std::vector<std::string> fds;
  for (const auto& e : fs::directory_iterator(proc / "fd")) {
    const std::string target = fs::read_symlink(e.path()).string();
    fds.push_back(e.path().filename().string() + " -> " +
                  (target.rfind("socket:", 0) == 0 ? "socket" : target));
  }
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0 -> /dev/null", "1 -> /dev/null", "2 -> /dev/null",
                                           "3 -> socket"}));
  EXPECT_EQ(fs::read_symlink(proc / "cwd"), fs::path("/")) << "it would pin the directory";
  kill_and_await_guardian(c);
  // The program's pipe: nobody holds its write end any more.
  EXPECT_EQ(tftest::read_all(read_end.get(), 0), "");
  pollfd p{read_end.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_TRUE(p.revents & POLLHUP);
  expect_left({});
}

TEST_F(Guardian, AWorkerThatExitsDoesNotSetItOff) {
  child c = tftest::spawn([&](int out, int in) {
    start_and_report(out);
    std::optional<tempfile::named_temporary_file> f(
        tempfile::options{.prefix = "named_", .dir = dir()});
    std::optional<tempfile::temporary_directory> d(
        tempfile::options{.prefix = "dir_", .dir = dir()});
    const pid_t worker = ::fork();
    if (worker == 0) {
      // Everything a worker might do with what it inherited, then its own objects; none of it
      // concerns the program's guardian.
      const bool forgot = tempfile::detail::guardian::pid() == -1;
      f->close();
      f.reset();
      d->cleanup();
      d.reset();
      {
        tempfile::named_temporary_file own({.prefix = "worker_", .dir = dir()});
        own.close();
        tempfile::temporary_directory own_dir({.prefix = "workerdir_", .dir = dir()});
      }
      std::_Exit(forgot ? 0 : 3);
    }
    int status = 0;
    ::waitpid(worker, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      tftest::write_all(out, "worker: " + tftest::describe_status(status) + "\n");
      return 1;
    }
    if (!fs::exists(f->path()) || !fs::exists(d->path())) {
      tftest::write_all(out, "the worker removed the program's objects\n");
      return 2;
    }
    tftest::write_all(out,
                      "made " + f->path().string() + "\nmade " + d->path().string() + "\nready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  ASSERT_EQ(read_made(c).size(), 2u);
  EXPECT_TRUE(tftest::is_running(guardian_.get())) << "the worker's exit ended the guardian";
  kill_and_await_guardian(c);
  expect_left({});  // the worker's own, and the program's: the worker told it to forget nothing
}

TEST_F(Guardian, AWorkerStillRunningDoesNotHoldItUp) {
  child c = tftest::spawn([&](int out, int in) {
    start_and_report(out);
    tempfile::named_temporary_file f({.prefix = "named_", .dir = dir()});
    tempfile::temporary_directory d({.prefix = "dir_", .dir = dir()});
    const pid_t worker = ::fork();
    if (worker == 0) {
      tftest::block_on(in);  // until the test closes its end
      std::_Exit(0);
    }
    tftest::write_all(out, "worker " + std::to_string(worker) + "\nmade " + f.path().string() +
                               "\nmade " + d.path().string() + "\nready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  const std::string line = tftest::read_line(c.from.get());
  ASSERT_EQ(line.rfind("worker ", 0), 0u) << line;
  tftest::unique_fd worker = tftest::pidfd_of(static_cast<pid_t>(std::stol(line.substr(7))));
  ASSERT_GE(worker.get(), 0);
  ASSERT_EQ(read_made(c).size(), 2u);
  kill_and_await_guardian(c);  // would time out if the worker held the program's channel
  EXPECT_TRUE(tftest::is_running(worker.get()));
  expect_left({});
  c.to.reset();  // the worker's poll() sees end of file
  EXPECT_TRUE(tftest::wait_pidfd(worker.get()));
}

TEST_F(Guardian, StartingItTwiceIsHarmless) {
  child c = tftest::spawn([&](int out, int in) {
    tempfile::start_guardian();
    const std::int64_t first = tempfile::detail::guardian::pid();
    tempfile::start_guardian();
    if (tempfile::detail::guardian::pid() != first) {
      tftest::write_all(out, "a second guardian\n");
      return 1;
    }
    tftest::write_all(out, "guardian " + std::to_string(first) + "\n");
    tempfile::named_temporary_file f({.dir = dir()});
    tempfile::start_guardian();
    tftest::write_all(out, "made " + f.path().string() + "\nready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  ASSERT_EQ(read_made(c).size(), 1u);
  kill_and_await_guardian(c);
  expect_left({});
}

// Objects that outlive the program's normal exit: the guardian sees the channel close at exit.
tempfile::named_temporary_file* g_leaked_file = nullptr;
tempfile::temporary_directory* g_leaked_dir = nullptr;

class GuardianAfterExit : public Guardian, public ::testing::WithParamInterface<bool> {};

TEST_P(GuardianAfterExit, RemovesObjectsStillAliveAtExit) {
  const bool quick_exit = GetParam();
  child c = tftest::spawn([&](int out, int in) -> int {
    start_and_report(out);
    g_leaked_file = new tempfile::named_temporary_file({.prefix = "static_", .dir = dir()});
    g_leaked_dir = new tempfile::temporary_directory({.prefix = "staticdir_", .dir = dir()});
    tftest::populate_tree(g_leaked_dir->path(), outside());
    tempfile::named_temporary_file local({.prefix = "local_", .dir = dir()});
    tftest::write_all(out, "made " + g_leaked_file->path().string() + "\nmade " +
                               g_leaked_dir->path().string() + "\nmade " + local.path().string() +
                               "\nready\n");
    tftest::block_on(in);           // until the test has seen them
    if (quick_exit) std::_Exit(0);  // no destructor runs at all
    std::exit(0);                   // static destructors run, the heap objects are never deleted
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  ASSERT_EQ(read_made(c).size(), 3u);
  ASSERT_TRUE(tftest::write_all(c.to.get(), "go\n"));
  const int st = c.wait();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << tftest::describe_status(st);
  await_guardian();
  expect_left({});
}

INSTANTIATE_TEST_SUITE_P(Exits, GuardianAfterExit, ::testing::Bool(), [](const auto& param_info) {
  return param_info.param ? "quick_exit" : "exit";
});

TEST_F(Guardian, NeverRemovesAFileMadeAfterItWasToldToForgetTheName) {
  child c = tftest::spawn([&](int out, int in) {
    start_and_report(out);
    std::vector<fs::path> reused;
    {
      tempfile::named_temporary_file closed({.prefix = "closed_", .dir = dir()});
      reused.push_back(closed.path());
      closed.close();  // deleted: forgotten
    }
    {
      tempfile::named_temporary_file destroyed({.prefix = "destroyed_", .dir = dir()});
      reused.push_back(destroyed.path());
    }
    tempfile::named_temporary_file persisted({.prefix = "persisted_", .dir = dir()});
    reused.push_back(persisted.path());
    persisted.persist(dir() / "persisted");
    tempfile::named_temporary_file kept({.prefix = "kept_", .dir = dir()});
    kept.keep();
    tempfile::temporary_directory cleaned({.prefix = "cleaned_", .dir = dir()});
    const fs::path cleaned_path = cleaned.path();
    cleaned.cleanup();
    fs::path destroyed_dir_path;
    {
      tempfile::temporary_directory destroyed_dir({.prefix = "destroyeddir_", .dir = dir()});
      destroyed_dir_path = destroyed_dir.path();
    }
    tempfile::atomic_file committed(dir() / "committed");
    committed.write("new");
    committed.commit();
    // Someone else now makes files under the names the program gave up.
    for (const fs::path& p : reused) tftest::spit(p, "someone else's\n");
    for (const fs::path& p : {cleaned_path, destroyed_dir_path}) {
      fs::create_directory(p);
      tftest::spit(p / "inside", "someone else's\n");
    }
    tempfile::named_temporary_file doomed({.prefix = "doomed_", .dir = dir()});
    tftest::write_all(out, "made " + doomed.path().string() + "\n");
    for (const fs::path& p : reused) tftest::write_all(out, "keep " + p.string() + "\n");
    tftest::write_all(out, "keep " + cleaned_path.string() + "\nkeep " +
                               destroyed_dir_path.string() + "\nkeep " + kept.path().string() +
                               "\nready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_guardian(c));
  std::vector<std::string> survivors = {"committed", "persisted"};
  for (std::string line; (line = tftest::read_line(c.from.get())) != "ready";) {
    if (line.rfind("made ", 0) == 0) continue;
    ASSERT_EQ(line.rfind("keep ", 0), 0u) << line << tftest::read_all(c.from.get());
    survivors.push_back(fs::path(line.substr(5)).filename().string());
  }
  ASSERT_EQ(survivors.size(), 8u);
  kill_and_await_guardian(c);
  expect_left(survivors);
}

}  // namespace
