// enable_signal_cleanup(): a child process makes named files, a spooled file that rolled over
// and directory trees, then dies of each handled signal in turn; nothing it made remains, it
// still dies of that signal, a handler the program installed earlier still runs, an ignored
// signal stays ignored, kept and persisted files survive. And a child SIGKILLed while holding
// only unnamed files leaves nothing. Every child runs in its own fork()ed process; the tests
// wait on pipes and pidfds, never sleep.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <tempfile/tempfile.hpp>
#include <vector>

#include "child_process.hpp"
#include "test_support.hpp"

// The fatal signals must reach the program, not a sanitizer runtime's own handler (which would
// report and exit(1)): AddressSanitizer and ThreadSanitizer are told not to install one. Each
// child also resets the signals to SIG_DFL (which the runtimes allow), so that what the cleanup
// handler re-raises into is the default action, as in a program that never touched them. Options
// given by the environment (ASAN_OPTIONS...) still override these defaults.
#define TFTEST_DEADLY_SIGNALS_TO_PROGRAM \
  "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0"
extern "C" const char* __asan_default_options() { return TFTEST_DEADLY_SIGNALS_TO_PROGRAM; }
extern "C" const char* __tsan_default_options() { return TFTEST_DEADLY_SIGNALS_TO_PROGRAM; }

namespace {

namespace fs = std::filesystem;
using tftest::child;

// How a child meets its signal.
enum class trigger {
  kill,        // the test sends it with kill() while the child waits
  raise,       // the child raises it
  fault,       // a real fault: SIGSEGV (PROT_NONE page), SIGBUS (mapping past end of file),
               // SIGILL (trap instruction), SIGFPE (integer division by zero, on x86-64)
  abort_call,  // std::abort()
};

struct signal_case {
  int sig;
  trigger how;
};

void PrintTo(const signal_case& c, std::ostream* os) {
  *os << "SIG" << sigabbrev_np(c.sig) << " " << static_cast<int>(c.how);
}

std::string case_name(const ::testing::TestParamInfo<signal_case>& info) {
  std::string name = sigabbrev_np(info.param.sig);
  switch (info.param.how) {
    case trigger::kill: return name + "_kill";
    case trigger::raise: return name + "_raise";
    case trigger::fault: return name + "_fault";
    case trigger::abort_call: return name + "_abort";
  }
  return name;
}

// Makes `sig` happen in this process, as `how` says; returns only if it did not kill us.
void meet(const signal_case& c, int in) {
  switch (c.how) {
    case trigger::kill: tftest::block_on(in); break;
    case trigger::raise: ::raise(c.sig); break;
    case trigger::abort_call: std::abort();
    case trigger::fault:
      if (c.sig == SIGSEGV) {
        void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        *static_cast<volatile char*>(page) = 1;
      } else if (c.sig == SIGBUS) {
        // A mapping of an empty (unnamed) file: touching it is past the end of the file.
        tempfile::temporary_file empty;
        void* map =
            ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, empty.native_handle(), 0);
        *static_cast<volatile char*>(map) = 1;
      } else if (c.sig == SIGILL) {
        __builtin_trap();
      } else if (c.sig == SIGFPE) {
#if defined(__x86_64__)
        unsigned divisor = 0;
        asm volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\tdivl %0"
                     :
                     : "r"(divisor)
                     : "eax", "edx", "cc");
#else
        ::raise(SIGFPE);
#endif
      }
      break;
  }
}

class SignalCleanup : public ::testing::TestWithParam<signal_case> {
 protected:
  void SetUp() override {
    tftest::spit(outside(), "outside\n");
    tftest::spit(target(), "old\n");
  }
  const fs::path& dir() const { return dir_.path(); }
  fs::path outside() const { return dir() / "outside"; }  // a removal must not follow links
  fs::path target() const { return dir() / "target"; }    // an atomic_file's, never committed
  tempfile::options in_dir(const char* prefix) const {
    tempfile::options o;
    o.prefix = prefix;
    o.dir = dir();
    return o;
  }
  // After the child is gone: only what the test made itself is left, unchanged.
  void expect_only_test_files(const std::vector<std::string>& also = {}) const {
    std::vector<std::string> want = {"outside", "target"};
    want.insert(want.end(), also.begin(), also.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(tftest::names_in(dir()), want);
    EXPECT_EQ(tftest::slurp(target()), "old\n");
    EXPECT_EQ(tftest::slurp(outside()), "outside\n");
  }
  // Reads the child's "made <path>" lines up to "ready" and checks that each exists now.
  std::vector<std::string> read_made(child& c) const {
    std::vector<std::string> made;
    for (;;) {
      const std::string line = tftest::read_line(c.from.get());
      if (line == "ready") return made;
      if (line.rfind("made ", 0) != 0) {
        ADD_FAILURE() << "child said: '" << line << "' (" << tftest::read_all(c.from.get()) << ")";
        return made;
      }
      made.push_back(line.substr(5));
      EXPECT_TRUE(fs::exists(fs::symlink_status(made.back()))) << made.back();
    }
  }

  tftest::scratch dir_{tftest::roots().front().path};
};

// Everything signal cleanup is for, made partly before and partly after enabling it.
struct living_objects {
  tempfile::named_temporary_file before;
  tempfile::temporary_directory tree_before;
  std::optional<tempfile::named_temporary_file> after;
  std::optional<tempfile::named_temporary_file> closed_not_deleted;
  std::optional<tempfile::spooled_temporary_file> spooled;
  std::optional<tempfile::temporary_directory> tree;
  std::optional<tempfile::atomic_file> atomic;

  living_objects(const fs::path& dir, const fs::path& outside, const fs::path& target)
      : before({.prefix = "before_", .dir = dir}), tree_before({.prefix = "treeb_", .dir = dir}) {
    before.write("made before enable_signal_cleanup()");
    before.flush();
    tftest::populate_tree(tree_before.path(), outside);
    tempfile::enable_signal_cleanup();
    after.emplace(tempfile::options{.prefix = "after_", .dir = dir});
    after->write("made after");
    after->flush();
    closed_not_deleted.emplace(
        tempfile::options{.prefix = "closed_", .dir = dir, .delete_on_close = false});
    closed_not_deleted->close();  // still on disk, deleted only at destruction
    spooled.emplace(tempfile::options{.dir = dir, .max_size = 16});
    spooled->write(std::string(64, 's'));
    if (!spooled->rolled_over()) throw std::runtime_error("the spooled file did not roll over");
    tree.emplace(tempfile::options{.prefix = "tree_", .dir = dir});
    tftest::populate_tree(tree->path(), outside);
    atomic.emplace(target);
    atomic->write("new, never committed\n");
    atomic->flush();
  }
  void report(int out) const {
    for (const fs::path& p : {before.path(), tree_before.path(), after->path(),
                              closed_not_deleted->path(), tree->path()}) {
      tftest::write_all(out, "made " + p.string() + "\n");
    }
  }
};

TEST_P(SignalCleanup, DiesOfTheSignalAndNothingItMadeRemains) {
  const signal_case sc = GetParam();
  child c = tftest::spawn([&](int out, int in) {
    living_objects objects(dir(), outside(), target());
    objects.report(out);
    tftest::write_all(out, "ready\n");
    if (sc.how != trigger::kill) tftest::block_on(in);  // until the test says go
    meet(sc, in);
    return 0;  // survived the signal: a failure the test reports
  });
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(read_made(c).size(), 5u);
  if (sc.how == trigger::kill) {
    ASSERT_EQ(::kill(c.pid, sc.sig), 0);
  } else {
    ASSERT_TRUE(tftest::write_all(c.to.get(), "go\n"));
  }
  const int status = c.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sc.sig)
      << tftest::describe_status(status) << "; child said: " << tftest::read_all(c.from.get());
  expect_only_test_files();
}

INSTANTIATE_TEST_SUITE_P(
    EachHandledSignal, SignalCleanup,
    ::testing::Values(signal_case{SIGINT, trigger::kill}, signal_case{SIGTERM, trigger::kill},
                      signal_case{SIGHUP, trigger::kill}, signal_case{SIGQUIT, trigger::kill},
                      signal_case{SIGSEGV, trigger::fault}, signal_case{SIGSEGV, trigger::raise},
                      signal_case{SIGBUS, trigger::fault}, signal_case{SIGFPE, trigger::fault},
                      signal_case{SIGFPE, trigger::raise}, signal_case{SIGILL, trigger::fault},
                      signal_case{SIGABRT, trigger::abort_call},
                      signal_case{SIGTERM, trigger::raise}),
    case_name);

// The descriptor the program's own handlers report on (set in the child only).
int g_report_fd = -1;

void program_handler(int sig) {
  char line[32];
  const int n = std::snprintf(line, sizeof line, "handler %d\n", sig);
  if (::write(g_report_fd, line, static_cast<std::size_t>(n)) < 0) ::_exit(98);
  ::_exit(42);
}

void program_siginfo_handler(int sig, siginfo_t* info, void*) {
  char line[48];
  const int n = std::snprintf(line, sizeof line, "siginfo handler %d %d\n", sig, info->si_signo);
  if (::write(g_report_fd, line, static_cast<std::size_t>(n)) < 0) ::_exit(98);
  ::_exit(43);
}

// Dies of the signal after saying so: a handler that hands over to the default action.
void program_handler_then_default(int sig) {
  if (::write(g_report_fd, "handler\n", 8) < 0) ::_exit(98);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

class SignalCleanupWithProgramHandlers : public SignalCleanup {};

TEST_F(SignalCleanupWithProgramHandlers, AHandlerInstalledEarlierStillRuns) {
  child c = tftest::spawn([&](int out, int in) {
    g_report_fd = out;
    struct sigaction sa {};
    sa.sa_handler = &program_handler;
    ::sigaction(SIGTERM, &sa, nullptr);
    living_objects objects(dir(), outside(), target());
    objects.report(out);
    tftest::write_all(out, "ready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(read_made(c).size(), 5u);
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  EXPECT_EQ(tftest::read_line(c.from.get()), "handler 15");
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << tftest::describe_status(status);
  expect_only_test_files();
}

TEST_F(SignalCleanupWithProgramHandlers, ASiginfoHandlerOfARealFaultStillRuns) {
  child c = tftest::spawn([&](int out, int in) {
    g_report_fd = out;
    struct sigaction sa {};
    sa.sa_sigaction = &program_siginfo_handler;
    sa.sa_flags = SA_SIGINFO;
    ::sigaction(SIGSEGV, &sa, nullptr);
    living_objects objects(dir(), outside(), target());
    objects.report(out);
    tftest::write_all(out, "ready\n");
    tftest::block_on(in);
    meet({SIGSEGV, trigger::fault}, in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(read_made(c).size(), 5u);
  ASSERT_TRUE(tftest::write_all(c.to.get(), "go\n"));
  EXPECT_EQ(tftest::read_line(c.from.get()), "siginfo handler 11 11");
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 43) << tftest::describe_status(status);
  expect_only_test_files();
}

TEST_F(SignalCleanupWithProgramHandlers, EnablingTwiceIsHarmless) {
  // If the second call took the first one's handler for the program's, the cleanup handler would
  // re-raise into itself for ever instead of reaching the program's handler (the wait times out).
  child c = tftest::spawn([&](int out, int in) {
    g_report_fd = out;
    ::signal(SIGTERM, &program_handler_then_default);
    tempfile::enable_signal_cleanup();
    living_objects objects(dir(), outside(), target());  // enables it again
    tempfile::enable_signal_cleanup();
    objects.report(out);
    tftest::write_all(out, "ready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(read_made(c).size(), 5u);
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  const int status = c.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
      << tftest::describe_status(status);
  EXPECT_EQ(tftest::read_all(c.from.get()), "handler\n");  // once
  expect_only_test_files();
}

TEST_F(SignalCleanupWithProgramHandlers, AnIgnoredSignalStaysIgnored) {
  child c = tftest::spawn([&](int out, int) {
    ::signal(SIGHUP, SIG_IGN);
    tempfile::named_temporary_file f({.prefix = "ignored_", .dir = dir()});
    tempfile::enable_signal_cleanup();
    ::raise(SIGHUP);
    ::kill(::getpid(), SIGHUP);
    struct sigaction now {};
    ::sigaction(SIGHUP, nullptr, &now);
    if (now.sa_handler != SIG_IGN) {
      tftest::write_all(out, "SIGHUP is no longer ignored\n");
      return 1;
    }
    if (!fs::exists(f.path())) {
      tftest::write_all(out, "the file was removed by an ignored signal\n");
      return 2;
    }
    tftest::write_all(out, "alive\n");
    return 0;  // f's destructor removes it
  });
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(tftest::read_line(c.from.get()), "alive");
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << tftest::describe_status(status);
  expect_only_test_files();
}

TEST_F(SignalCleanupWithProgramHandlers, KeptAndPersistedFilesSurvive) {
  child c = tftest::spawn([&](int out, int in) {
    tempfile::enable_signal_cleanup();
    tempfile::named_temporary_file kept({.prefix = "kept_", .dir = dir()});
    kept.keep();
    tempfile::named_temporary_file kept_from_start(
        {.prefix = "keptopt_", .dir = dir(), .keep = true});
    tempfile::named_temporary_file persisted({.prefix = "p_", .dir = dir()});
    persisted.persist(dir() / "persisted");
    tempfile::named_temporary_file noclobber({.prefix = "n_", .dir = dir()});
    noclobber.persist_noclobber(dir() / "persisted_noclobber");
    tempfile::temporary_directory kept_dir({.prefix = "keptdir_", .dir = dir()});
    kept_dir.keep();
    tempfile::temporary_directory kept_dir_from_start(
        {.prefix = "keptdiropt_", .dir = dir(), .keep = true});
    tempfile::atomic_file committed(dir() / "committed");
    committed.write("committed\n");
    committed.commit();
    tempfile::named_temporary_file doomed({.prefix = "doomed_", .dir = dir()});
    tempfile::temporary_directory doomed_dir({.prefix = "doomeddir_", .dir = dir()});
    for (const fs::path& p :
         {kept.path(), kept_from_start.path(), kept_dir.path(), kept_dir_from_start.path()}) {
      tftest::write_all(out, "kept " + p.filename().string() + "\n");
    }
    tftest::write_all(out, "ready\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  std::vector<std::string> survivors = {"committed", "persisted", "persisted_noclobber"};
  for (std::string line; (line = tftest::read_line(c.from.get())) != "ready";) {
    ASSERT_EQ(line.rfind("kept ", 0), 0u) << line;
    survivors.push_back(line.substr(5));
  }
  ASSERT_EQ(tftest::names_in(dir()).size(), survivors.size() + 4);  // + doomed ones + ours
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  const int status = c.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
      << tftest::describe_status(status);
  expect_only_test_files(survivors);
  EXPECT_EQ(tftest::slurp(dir() / "committed"), "committed\n");
}

// Unnamed files need no cleanup at all: even SIGKILL, which no handler sees, leaves nothing.
class Sigkill : public ::testing::TestWithParam<tftest::root> {};

TEST_P(Sigkill, UnnamedFilesLeaveNothing) {
  tftest::scratch scratch(GetParam().path);
  const fs::path dir = scratch.path();
  tftest::spit(dir / "target", "old\n");
  child c = tftest::spawn([&](int out, int in) {
    tempfile::temporary_file a({.dir = dir});
    a.write(std::string(100'000, 'a'));
    a.flush();
    tempfile::temporary_file b({.dir = dir});
    b.write("b");
    b.sync();
    tempfile::atomic_file replacing(dir / "target");
    replacing.write(std::string(100'000, 'r'));
    replacing.sync();
    tempfile::atomic_file creating(dir / "new_target");
    creating.write("new");
    creating.flush();
    tempfile::spooled_temporary_file spooled({.dir = dir, .max_size = 10});
    spooled.write(std::string(1000, 's'));
    spooled.flush();
    tempfile::spooled_temporary_file in_memory({.dir = dir});
    in_memory.write("memory");
    tftest::write_all(out, spooled.rolled_over() ? "ready\n" : "not rolled over\n");
    tftest::block_on(in);
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  ASSERT_EQ(tftest::read_line(c.from.get()), "ready");
  EXPECT_EQ(tftest::names_in(dir), std::vector<std::string>{"target"}) << "while it runs";
  ASSERT_EQ(::kill(c.pid, SIGKILL), 0);
  const int status = c.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << tftest::describe_status(status);
  EXPECT_EQ(tftest::names_in(dir), std::vector<std::string>{"target"});
  EXPECT_EQ(tftest::slurp(dir / "target"), "old\n");
}

INSTANTIATE_TEST_SUITE_P(Roots, Sigkill, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
