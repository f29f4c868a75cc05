// `tempfile run` through the executable: exit statuses, the environment and the directory the
// command gets, its removal in every case, --private-tmp, and signals sent to `tempfile` itself.
// Every wait is on a pipe, waitpid(), inotify or a pidfd: no sleeps, no timing assertions.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "process_support.hpp"
#include "tempfile/signals.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

using namespace tfcli;  // NOLINT(google-build-using-namespace): the helpers of these tests

class Run : public ::testing::Test {
 protected:
  // `tempfile run --dir <scratch>` + args: every directory is made where the test can see it.
  std::vector<std::string> run_args(std::initializer_list<std::string> args) const {
    std::vector<std::string> v{"run", "--dir", dir_.path().string()};
    v.insert(v.end(), args);
    return v;
  }
  void expect_nothing_left() const {
    EXPECT_TRUE(dir_.entries().empty()) << "left behind: " << dir_.entries().front();
  }

  tftest::scratch dir_{tftest::roots().front().path};
};

TEST_F(Run, ExitStatusIsPassedThrough) {
  for (const int code : {0, 1, 3, 42, 255}) {
    const finished f = tempfile_cmd(run_args({"--", "sh", "-c", "exit " + std::to_string(code)}));
    EXPECT_EQ(f.status, code) << f.err;
    EXPECT_TRUE(f.err.empty()) << f.err;
  }
  expect_nothing_left();
}

TEST_F(Run, ExitStatusIsKnownEvenWithSigchldIgnored) {
  // Started by a parent that ignores SIGCHLD (the children would be reaped unseen).
  start_options o;
  o.in_child = [] { ::signal(SIGCHLD, SIG_IGN); };
  const finished f = tempfile_cmd(run_args({"--", "sh", "-c", "exit 5"}), o);
  EXPECT_EQ(f.status, 5) << f.err;
  expect_nothing_left();
}

TEST_F(Run, TmpdirTmpAndTempAreTheDirectory) {
  const finished f = tempfile_cmd(run_args(
      {"--", "sh", "-c",
       "printf '%s\\n%s\\n%s\\n' \"$TMPDIR\" \"$TMP\" \"$TEMP\"; test -d \"$TMPDIR\" && "
       "test -w \"$TMPDIR\" && echo usable; stat -c %a \"$TMPDIR\"; echo x > \"$TMPDIR/f\""}));
  ASSERT_EQ(f.status, 0) << f.err;
  const auto lines = lines_of(f.out);
  ASSERT_EQ(lines.size(), 5u) << f.out;
  const fs::path dir = lines[0];
  EXPECT_EQ(lines[1], lines[0]);
  EXPECT_EQ(lines[2], lines[0]);
  EXPECT_EQ(dir.parent_path(), dir_.path());
  EXPECT_EQ(dir.filename().string().rfind("tempfile-run.", 0), 0u) << dir;
  EXPECT_EQ(lines[3], "usable");
  EXPECT_EQ(lines[4], "700");
  EXPECT_FALSE(fs::exists(dir));
  expect_nothing_left();
}

TEST_F(Run, ChildKilledBySignalGives128PlusN) {
  EXPECT_EQ(tempfile_cmd(run_args({"--", "sh", "-c", "kill -TERM $$"})).status, 128 + SIGTERM);
  EXPECT_EQ(tempfile_cmd(run_args({"--", "sh", "-c", "kill -KILL $$"})).status, 128 + SIGKILL);
  EXPECT_EQ(tempfile_cmd(run_args({"--", "sh", "-c", "kill -USR1 $$"})).status, 128 + SIGUSR1);
  expect_nothing_left();
}

TEST_F(Run, CommandNotFoundIs127) {
  const finished f = tempfile_cmd(run_args({"--", "tempfile-no-such-command"}));
  EXPECT_EQ(f.status, 127);
  EXPECT_NE(f.err.find("'tempfile-no-such-command'"), std::string::npos) << f.err;
  EXPECT_TRUE(f.out.empty());
  const finished g = tempfile_cmd(run_args({"--", (dir_.path() / "missing").string()}));
  EXPECT_EQ(g.status, 127) << g.err;
  expect_nothing_left();
}

TEST_F(Run, CommandThatCannotBeExecutedIs126) {
  tftest::scratch other(tftest::roots().front().path);
  const fs::path not_executable = other.path() / "script";
  tftest::spit(not_executable, "#!/bin/sh\nexit 0\n");
  fs::permissions(not_executable, fs::perms(0644));
  const finished f = tempfile_cmd(run_args({"--", not_executable.string()}));
  EXPECT_EQ(f.status, 126);
  EXPECT_NE(f.err.find(not_executable.string()), std::string::npos) << f.err;
  EXPECT_EQ(tempfile_cmd(run_args({"--", other.path().string()})).status, 126);  // a directory
  expect_nothing_left();
}

TEST_F(Run, ReadOnlyLeftoversAreRemoved) {
  const finished f = tempfile_cmd(run_args(
      {"--", "sh", "-c",
       "mkdir -p \"$TMPDIR/a/b\" && echo x > \"$TMPDIR/a/b/f\" && chmod 0400 \"$TMPDIR/a/b/f\" "
       "&& chmod 0 \"$TMPDIR/a/b\" && chmod 0500 \"$TMPDIR/a\" \"$TMPDIR\""}));
  EXPECT_EQ(f.status, 0) << f.err;
  EXPECT_TRUE(f.err.empty()) << f.err;
  expect_nothing_left();
}

TEST_F(Run, NonZeroExitStillRemoves) {
  const finished f = tempfile_cmd(
      run_args({"--", "sh", "-c", "echo x > \"$TMPDIR/f\"; mkdir \"$TMPDIR/d\"; exit 9"}));
  EXPECT_EQ(f.status, 9);
  expect_nothing_left();
}

TEST_F(Run, CdRunsInsideTheDirectory) {
  const finished f = tempfile_cmd(run_args({"--cd", "--", "sh", "-c", "pwd -P; echo \"$TMPDIR\""}));
  ASSERT_EQ(f.status, 0) << f.err;
  const auto lines = lines_of(f.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(fs::path(lines[0]), fs::canonical(dir_.path()) / fs::path(lines[1]).filename());
  expect_nothing_left();
}

TEST_F(Run, KeepLeavesTheDirectoryAndPrintsItOnStderr) {
  const finished f = tempfile_cmd(
      run_args({"--keep", "--", "sh", "-c", "echo kept > \"$TMPDIR/f\"; echo \"$TMPDIR\""}));
  ASSERT_EQ(f.status, 0) << f.err;
  const fs::path dir = lines_of(f.out).at(0);
  EXPECT_EQ(lines_of(f.err).at(0), dir.string());
  EXPECT_EQ(tftest::slurp(dir / "f"), "kept\n");
  fs::remove_all(dir);
}

TEST_F(Run, PrefixNamesTheDirectory) {
  const finished f =
      tempfile_cmd(run_args({"--prefix", "mine-", "--", "sh", "-c", "echo \"$TMPDIR\""}));
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(fs::path(lines_of(f.out).at(0)).filename().string().rfind("mine-", 0), 0u) << f.out;
  expect_nothing_left();
}

TEST_F(Run, OptionsStopAtTheCommand) {
  // Without "--", and with the command's own options looking like ours.
  const finished f = tempfile_cmd(
      {"run", "--dir=" + dir_.path().string(), "sh", "-c", "echo \"$1\"", "sh", "--keep"});
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out, "--keep\n");
  expect_nothing_left();
}

TEST_F(Run, OwnFailuresAre125AndRunNothing) {
  const fs::path sentinel = dir_.path() / "ran";
  const std::string touch = "touch " + sentinel.string();
  finished f = tempfile_cmd({"run"});
  EXPECT_EQ(f.status, 125);
  EXPECT_NE(f.err.find("Try 'tempfile run --help'"), std::string::npos) << f.err;
  f = tempfile_cmd(run_args({"--bogus", "--", "sh", "-c", touch}));
  EXPECT_EQ(f.status, 125);
  f = tempfile_cmd(run_args({"--prefix", "a/b", "--", "sh", "-c", touch}));
  EXPECT_EQ(f.status, 125);
  EXPECT_FALSE(f.err.empty());
  f = tempfile_cmd({"run", "--dir", (dir_.path() / "missing").string(), "--", "sh", "-c", touch});
  EXPECT_EQ(f.status, 125);
  EXPECT_NE(f.err.find((dir_.path() / "missing").string()), std::string::npos) << f.err;
  EXPECT_EQ(f.err.find("filesystem error"), std::string::npos) << f.err;
  EXPECT_FALSE(fs::exists(sentinel));
  expect_nothing_left();
}

// --- --private-tmp
// ---------------------------------------------------------------------------------

std::string unique_name(const char* what) {
  return std::string("tempfile-run-test-") + what + "-" + std::to_string(::getpid());
}

TEST_F(Run, PrivateTmpMountsTheDirectoryOnTmp) {
  const std::string name = unique_name("x");
  const fs::path real = fs::path("/tmp") / name;
  ASSERT_FALSE(fs::exists(real));
  const std::string script = "echo hi > /tmp/" + name + " && echo \"$TMPDIR\" && pwd";
  finished f =
      tempfile_cmd(run_args({"--private-tmp", "--keep", "--cd", "--", "sh", "-c", script}));
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out, "/tmp\n/tmp\n");
  const fs::path kept = lines_of(f.err).at(0);
  EXPECT_EQ(tftest::slurp(kept / name), "hi\n");  // it landed in the private directory
  EXPECT_FALSE(fs::exists(real));                 // and not in the real /tmp
  fs::remove_all(kept);

  f = tempfile_cmd(run_args({"--private-tmp", "--", "sh", "-c", script}));
  EXPECT_EQ(f.status, 0) << f.err;
  EXPECT_FALSE(fs::exists(real));
  expect_nothing_left();
}

// A copy of the executable that any user may run, in a directory any user may enter.
class RunAsAnotherUser : public Run {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
    fs::permissions(bin_.path(), fs::perms(0755));
    fs::copy_file(kBinary, binary());
    fs::permissions(binary(), fs::perms(0755));
    fs::permissions(dir_.path(), fs::perms(0777));
  }
  fs::path binary() const { return bin_.path() / "tempfile"; }

  // Options that make the started process nobody, after `before` (if any) ran.
  static start_options as_nobody(std::function<void()> before = {}) {
    start_options o;
    o.in_child = [before = std::move(before)] {
      if (before) before();
      if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
        ::_exit(98);
      }
    };
    return o;
  }

  static constexpr uid_t kNobody = 65534;
  tftest::scratch bin_{tftest::roots().front().path};
};

TEST_F(RunAsAnotherUser, PrivateTmpWorksUnprivileged) {
  const std::string name = unique_name("nobody");
  started s = start(binary(),
                    run_args({"--private-tmp", "--keep", "--", "sh", "-c",
                              "echo hi > /tmp/" + name + " && id -u"}),
                    as_nobody());
  const finished f = finish(s);
  ASSERT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out, std::to_string(kNobody) + "\n");
  const fs::path kept = lines_of(f.err).at(0);
  EXPECT_EQ(tftest::slurp(kept / name), "hi\n");
  EXPECT_FALSE(fs::exists(fs::path("/tmp") / name));
  fs::remove_all(kept);
}

TEST_F(RunAsAnotherUser, PrivateTmpWithoutNamespacesFailsClearlyAndRunsNothing) {
  // An unprivileged user inside a user namespace that allows no nested one: what a system with
  // unprivileged namespaces disabled looks like to `tempfile run`.
  const fs::path sentinel = dir_.path() / "ran";
  int ready[2];
  int go[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  started s =
      start(binary(), run_args({"--private-tmp", "--", "sh", "-c", "touch " + sentinel.string()}),
            as_nobody([&] {
              // A new user namespace whose maps the test writes from outside (root may
              // map several ids), and which then forbids nested namespaces.
              char c = 0;
              if (::unshare(CLONE_NEWUSER) != 0) ::_exit(90);
              if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(91);
              if (!write_file("/proc/sys/user/max_user_namespaces", "0")) ::_exit(92);
            }));
  ::close(ready[1]);
  ::close(go[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::string proc = "/proc/" + std::to_string(s.pid);
  const std::string map = "0 0 1\n65534 65534 1\n";
  EXPECT_TRUE(write_file((proc + "/uid_map").c_str(), map.c_str()));
  EXPECT_TRUE(write_file((proc + "/gid_map").c_str(), map.c_str()));
  ASSERT_EQ(::write(go[1], &c, 1), 1);
  ::close(go[1]);
  ::close(ready[0]);
  const finished f = finish(s);
  EXPECT_EQ(f.status, 125) << f.err;
  EXPECT_NE(f.err.find("--private-tmp"), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("nothing was run"), std::string::npos) << f.err;
  EXPECT_FALSE(fs::exists(sentinel));
  expect_nothing_left();
}

// --- signals sent to `tempfile` itself
// --------------------------------------------------------------

class RunSignal : public Run, public ::testing::WithParamInterface<int> {};

TEST_P(RunSignal, IsForwardedAndTheDirectoryRemoved) {
  const int sig = GetParam();
  // The command says where it is, then becomes a process that dies of the signal.
  started s = start(kBinary, run_args({"--", "sh", "-c", "echo \"$TMPDIR\"; exec sleep 100000"}));
  const fs::path dir = read_line(s.out.get());
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  // `echo` ran, so the command is running; sh may still be about to exec sleep, which is fine:
  // either dies of the default action.
  ASSERT_EQ(::kill(s.pid, sig), 0);
  const finished f = finish(s);
  // tempfile itself exits (it is not killed) with the status of a command killed by `sig`.
  EXPECT_TRUE(WIFEXITED(f.raw)) << "tempfile was killed by the signal instead of forwarding it";
  EXPECT_EQ(f.status, 128 + sig) << f.err;
  EXPECT_FALSE(fs::exists(dir));
  expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Signals, RunSignal, ::testing::Values(SIGTERM, SIGINT, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return std::string(sigabbrev_np(param.param));
                         });

TEST_F(Run, SigkillOfTempfileKillsTheCommandAndTheGuardianRemovesTheDirectory) {
  started s =
      start(kBinary, run_args({"--", "sh", "-c", "echo \"$TMPDIR\"; echo $$; exec sleep 100000"}));
  const fs::path dir = read_line(s.out.get());
  const pid_t command = static_cast<pid_t>(std::stol(read_line(s.out.get())));
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  ASSERT_EQ(::kill(s.pid, SIGKILL), 0);
  EXPECT_EQ(wait_status(s.pid), 128 + SIGKILL);
  EXPECT_TRUE(wait_for_exit_of(command)) << "the command outlived tempfile";
  EXPECT_TRUE(wait_until_gone(dir)) << dir << " was not removed";
  expect_nothing_left();
}

}  // namespace
