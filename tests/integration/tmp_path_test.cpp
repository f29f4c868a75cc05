// Tests of tmp_path() for GoogleTest and Catch2, through the test programs gtest_child.cpp and
// catch2_child.cpp run as child processes with TMPDIR pointing at a scratch directory: which
// directories they leave behind, which they remove, what they print. Processes are waited for
// with pipes and waitpid(), never with sleeps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

// --- child processes ----------------------------------------------------------------------------

using env_list = std::vector<std::pair<std::string, std::string>>;

/// A running child: its stdin (when piped) and its stdout and stderr, merged in one pipe.
struct child {
  pid_t pid = -1;
  int in = -1;
  int out = -1;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// Starts `program` with `args`; the environment is ours without TMPDIR and TEMPFILE_TEST_KEEP,
/// plus `env`.
child spawn(const fs::path& program, const std::vector<std::string>& args, const env_list& env,
            bool pipe_stdin) {
  std::vector<std::string> strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (name == "TMPDIR" || name == "TEMPFILE_TEST_KEEP" || name == "TMP_PATH_VICTIM") continue;
    strings.push_back(entry);
  }
  for (const auto& [name, value] : env) strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out[2];
  int in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid == -1) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    if (pipe_stdin) ::dup2(in[0], 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pipe_stdin) ::close(in[0]);
  return {pid, in[1], out[0]};
}

/// One line of output without its '\n'; false at end of file.
bool read_line(int fd, std::string& line) {
  line.clear();
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return !line.empty();
    if (c == '\n') return true;
    line.push_back(c);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

/// The exit status, or 128 + the signal.
int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) == -1) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct result {
  int status = -1;
  std::string output;                          ///< stdout and stderr together
  std::multimap<std::string, fs::path> paths;  ///< "TMP_PATH <tag> <path>" lines
};

void parse_paths(result& r) {
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("TMP_PATH ", 0) != 0) continue;
    const std::string rest = line.substr(9);
    const auto space = rest.find(' ');
    r.paths.emplace(rest.substr(0, space), fs::path(rest.substr(space + 1)));
  }
}

/// Finishes a started child: its output to the end, then its status.
result finish(child& c) {
  close_fd(c.in);
  result r;
  r.output = read_all(c.out);
  close_fd(c.out);
  r.status = wait_for(c.pid);
  parse_paths(r);
  return r;
}

// --- the programs under test ------------------------------------------------------------------

/// One of the test programs, and how to choose its tests and name their directories.
struct framework {
  std::string name;
  fs::path program;
  /// The arguments that run the tests with these tags (pass, fail, block, forks, forkfirst).
  std::vector<std::string> (*select)(const std::vector<std::string>& tags);
  std::map<std::string, std::string> dir_names;  ///< tag -> expected directory name
};

void PrintTo(const framework& f, std::ostream* out) { *out << f.name; }

std::vector<std::string> gtest_select(const std::vector<std::string>& tags) {
  static const std::map<std::string, std::string> names{
      {"pass", "Child.Passing"},        {"fail", "Child.Failing"},
      {"block", "Child.Blocking"},      {"forks", "Child.Forks"},
      {"forkfirst", "Child.ForkFirst"}, {"forkreturns", "Child.ForkReturns"}};
  std::string filter = "--gtest_filter=";
  for (const auto& tag : tags) filter += names.at(tag) + ":";
  return {filter};
}

std::vector<std::string> catch2_select(const std::vector<std::string>& tags) {
  std::string spec;
  for (const auto& tag : tags) spec += (spec.empty() ? "[" : ",[") + tag + "]";
  return {spec};
}

std::vector<framework> frameworks() {
  std::vector<framework> all;
#ifdef TEMPFILE_GTEST_CHILD
  all.push_back({"gtest",
                 TEMPFILE_GTEST_CHILD,
                 gtest_select,
                 {{"pass", "Child.Passing"},
                  {"fail", "Child.Failing"},
                  {"forks", "Child.Forks"},
                  {"forkfirst", "Child.ForkFirst"}}});
#endif
#ifdef TEMPFILE_CATCH2_CHILD
  all.push_back({"catch2",
                 TEMPFILE_CATCH2_CHILD,
                 catch2_select,
                 {{"pass", "passing__writes_a_file"},
                  {"fail", "failing__writes_a_file"},
                  {"forks", "forks"},
                  {"forkfirst", "fork_first"}}});
#endif
  return all;
}

std::string user_name() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "uid" + std::to_string(::geteuid());
}

unsigned mode_of(const fs::path& p) { return tftest::mode_of(p); }

/// The single path a run announced for `tag`.
fs::path path_of(const result& r, const std::string& tag) {
  const auto n = r.paths.count(tag);
  EXPECT_EQ(n, 1U) << "announcements of '" << tag << "' in:\n" << r.output;
  return n == 0 ? fs::path() : r.paths.find(tag)->second;
}

/// Every path a run announced for `tag`, in order.
std::vector<fs::path> paths_of(const result& r, const std::string& tag) {
  std::vector<fs::path> out;
  for (auto [it, end] = r.paths.equal_range(tag); it != end; ++it) out.push_back(it->second);
  return out;
}

/// A scratch TMPDIR for the children, and the per-user directory they make in it.
class Runs : public ::testing::Test {
 protected:
  fs::path root() const { return tmp_.path() / ("tempfile-tests-" + user_name()); }
  static std::string base_name(const fs::path& program, int n) {
    return program.filename().string() + "-" + std::to_string(n);
  }
  env_list env(env_list more = {}) const {
    more.emplace_back("TMPDIR", tmp_.path().string());
    return more;
  }
  result run_program(const fs::path& program, const std::vector<std::string>& args,
                     const env_list& extra = {}) const {
    child c = spawn(program, args, env(extra), false);
    return finish(c);
  }

  tftest::scratch tmp_{tftest::roots().front().path};
};

/// The tests both frameworks pass, with GetParam() the framework.
class TmpPath : public Runs, public ::testing::WithParamInterface<framework> {
 protected:
  const framework& fw() const { return GetParam(); }
  std::string base_name(int n) const { return Runs::base_name(fw().program, n); }
  child start(const std::vector<std::string>& tags, const env_list& extra = {}) const {
    return spawn(fw().program, fw().select(tags), env(extra), true);
  }
  result run(const std::vector<std::string>& tags, const env_list& extra = {}) const {
    child c = start(tags, extra);
    return finish(c);
  }
};

/// Reads a child's output up to its "TMP_PATH <tag> <path>" line; returns the path.
fs::path wait_for_announcement(const child& c, const std::string& tag, std::string& seen) {
  std::string line;
  while (read_line(c.out, line)) {
    seen += line + "\n";
    if (line.rfind("TMP_PATH " + tag + " ", 0) == 0) return line.substr(10 + tag.size());
  }
  return {};
}

TEST_P(TmpPath, PassingTestsDirectoryIsRemovedFailingTestsIsKeptAndNamed) {
  const result r = run({"pass", "fail"});
  EXPECT_EQ(r.status, 1) << r.output;
  const fs::path passing = path_of(r, "pass");
  const fs::path failing = path_of(r, "fail");
  ASSERT_FALSE(passing.empty());
  ASSERT_FALSE(failing.empty());

  // One base per run, in the per-user directory, everything 0700, names from the tests.
  const fs::path base = root() / base_name(1);
  EXPECT_EQ(passing, base / fw().dir_names.at("pass"));
  EXPECT_EQ(failing, base / fw().dir_names.at("fail"));
  EXPECT_EQ(mode_of(root()), 0700U);
  EXPECT_EQ(mode_of(base), 0700U);
  EXPECT_EQ(mode_of(failing), 0700U);

  EXPECT_FALSE(fs::exists(passing));
  EXPECT_EQ(tftest::slurp(failing / "data.txt"), "failing");
  EXPECT_NE(r.output.find("kept: " + failing.string() + "\n"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("kept: " + passing.string()), std::string::npos) << r.output;
  // Nothing else anywhere.
  EXPECT_EQ(tmp_.entries(), std::vector<std::string>{root().filename().string()});
}

TEST_P(TmpPath, RemovalDoesNotFollowSymbolicLinks) {
  tftest::scratch victim(tmp_.path());
  tftest::spit(victim.path() / "precious", "keep me");
  const result r = run({"pass"}, {{"TMP_PATH_VICTIM", victim.path().string()}});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(path_of(r, "pass")));
  EXPECT_EQ(tftest::slurp(victim.path() / "precious"), "keep me");
}

TEST_P(TmpPath, AllPassingLeavesNoBase) {
  const result r = run({"pass"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(path_of(r, "pass").parent_path()));
  EXPECT_TRUE(fs::is_directory(root()));
}

TEST_P(TmpPath, FourthRunRemovesTheFirstRunsBase) {
  std::vector<fs::path> bases;
  for (int i = 1; i <= 4; ++i) {
    const result r = run({"fail"});
    EXPECT_EQ(r.status, 1) << r.output;
    bases.push_back(path_of(r, "fail").parent_path());
    EXPECT_EQ(bases.back(), root() / base_name(i));
    for (std::size_t j = 0; j < bases.size(); ++j) {
      const bool kept = j + 3 >= bases.size();  // the last three runs
      EXPECT_EQ(fs::exists(bases[j]), kept) << "after run " << i << ": " << bases[j];
    }
  }
}

TEST_P(TmpPath, TwoRunsAtOnceGetDifferentBases) {
  child a = start({"block"});
  std::string seen_a;
  const fs::path path_a = wait_for_announcement(a, "block", seen_a);
  child b = start({"block"});
  std::string seen_b;
  const fs::path path_b = wait_for_announcement(b, "block", seen_b);
  ASSERT_FALSE(path_a.empty()) << seen_a;
  ASSERT_FALSE(path_b.empty()) << seen_b;
  EXPECT_NE(path_a.parent_path(), path_b.parent_path());
  EXPECT_TRUE(fs::is_directory(path_a));
  EXPECT_TRUE(fs::is_directory(path_b));
  const result ra = finish(a);
  const result rb = finish(b);
  EXPECT_EQ(ra.status, 0) << seen_a << ra.output;
  EXPECT_EQ(rb.status, 0) << seen_b << rb.output;
}

TEST_P(TmpPath, ManyRunsAtOnceNeverShareABase) {
  std::vector<child> children;
  for (int i = 0; i < 6; ++i) children.push_back(start({"fail"}));
  std::set<fs::path> bases;
  for (child& c : children) {
    const result r = finish(c);
    EXPECT_EQ(r.status, 1) << r.output;
    bases.insert(path_of(r, "fail").parent_path());
  }
  EXPECT_EQ(bases.size(), children.size());
}

// A run still going keeps its base even when three newer runs would have removed it; the first
// run after it ended removes it.
TEST_P(TmpPath, BaseOfALiveRunIsNotRemoved) {
  child a = start({"block"});
  std::string seen;
  const fs::path live = wait_for_announcement(a, "block", seen);
  ASSERT_FALSE(live.empty()) << seen;
  fs::path newest;
  for (int i = 0; i < 3; ++i) newest = path_of(run({"fail"}), "fail").parent_path();
  EXPECT_EQ(newest, root() / base_name(4));
  EXPECT_TRUE(fs::is_directory(live));
  ASSERT_EQ(::write(a.in, "fail\n", 5), 5);
  const result ra = finish(a);
  EXPECT_EQ(ra.status, 1) << seen << ra.output;
  EXPECT_TRUE(fs::is_directory(live));  // kept: it failed
  (void)run({"fail"});
  EXPECT_FALSE(fs::exists(live.parent_path()));
}

TEST_P(TmpPath, ForkedChildSharesTheDirectoryAndRemovesNothing) {
  const result r = run({"forks", "forkfirst"});
  EXPECT_EQ(r.status, 1) << r.output;  // forks fails on purpose
  const fs::path forks = path_of(r, "forks");
  EXPECT_EQ(tftest::slurp(forks / "from_parent"), "parent");
  EXPECT_EQ(tftest::slurp(forks / "from_child"), "child");
  // The child of forkfirst created nothing; its parent's directory went when it passed.
  const fs::path forkfirst = path_of(r, "forkfirst");
  EXPECT_FALSE(fs::exists(forkfirst));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(forks.parent_path())) {
    left.push_back(e.path().filename().string());
  }
  EXPECT_EQ(left, std::vector<std::string>{forks.filename().string()});
}

TEST_P(TmpPath, ForkedChildGoingBackToTheFrameworkRemovesNothing) {
  const result r = run({"forkreturns"});
  EXPECT_EQ(r.status, 1) << r.output;  // fails on purpose, in the parent only
  const fs::path p = path_of(r, "forkreturns");
  EXPECT_EQ(tftest::slurp(p / "from_parent"), "parent");
  EXPECT_NE(r.output.find("kept: " + p.string() + "\n"), std::string::npos) << r.output;
}

TEST_P(TmpPath, KeepAllKeepsPassingTests) {
  const result r = run({"pass", "fail"}, {{"TEMPFILE_TEST_KEEP", "all"}});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(tftest::slurp(path_of(r, "pass") / "data.txt"), "passing");
  EXPECT_TRUE(fs::exists(path_of(r, "fail")));
}

TEST_P(TmpPath, KeepNoneRemovesFailingTests) {
  const result r = run({"pass", "fail"}, {{"TEMPFILE_TEST_KEEP", "none"}});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_FALSE(fs::exists(path_of(r, "pass")));
  EXPECT_FALSE(fs::exists(path_of(r, "fail")));
  EXPECT_EQ(r.output.find("kept:"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path_of(r, "fail").parent_path()));  // an empty base goes too
}

TEST_P(TmpPath, BadKeepValueWarnsAndKeepsFailures) {
  const result r = run({"pass", "fail"}, {{"TEMPFILE_TEST_KEEP", "sometimes"}});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("TEMPFILE_TEST_KEEP='sometimes'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path_of(r, "pass")));
  EXPECT_TRUE(fs::exists(path_of(r, "fail")));
}

TEST_P(TmpPath, SymbolicLinkAsUserDirectoryIsRefused) {
  tftest::scratch elsewhere(tmp_.path());
  fs::create_directory_symlink(elsewhere.path(), root());
  const result r = run({"fail"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("symbolic link"), std::string::npos) << r.output;
  EXPECT_TRUE(r.paths.empty()) << r.output;
  EXPECT_TRUE(elsewhere.entries().empty());
}

TEST_P(TmpPath, UserDirectoryOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  fs::create_directory(root());
  ASSERT_EQ(::chown(root().c_str(), 65534, 65534), 0);
  const result r = run({"fail"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("owned by uid 65534"), std::string::npos) << r.output;
  EXPECT_TRUE(r.paths.empty()) << r.output;
  EXPECT_TRUE(fs::is_empty(root()));
}

TEST_P(TmpPath, OpenUserDirectoryIsClosed) {
  fs::create_directory(root());
  fs::permissions(root(), fs::perms::all);
  const result r = run({"fail"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(mode_of(root()), 0700U);
}

// Old bases are only this user's directories: a symbolic link or another user's directory
// with an old run's name is left alone; a dead run's old base goes; a newer one stays.
TEST_P(TmpPath, OnlyOwnOldBasesAreRemoved) {
  tftest::scratch victim(tmp_.path());
  tftest::spit(victim.path() / "precious", "keep me");
  fs::create_directories(root());
  fs::create_directory_symlink(victim.path(), root() / base_name(1));
  const bool as_root = ::geteuid() == 0;
  fs::create_directory(root() / base_name(2));
  if (as_root) {
    ASSERT_EQ(::chown((root() / base_name(2)).c_str(), 65534, 65534), 0);
  }
  fs::create_directories(root() / base_name(5) / "old-test");
  tftest::spit(root() / base_name(5) / "old-test" / "file", "old");
  fs::create_directory(root() / base_name(9));
  fs::create_directory(root() / "other-program-1");

  const result r = run({"fail"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(path_of(r, "fail").parent_path(), root() / base_name(10));
  EXPECT_TRUE(fs::is_symlink(root() / base_name(1)));
  EXPECT_EQ(tftest::slurp(victim.path() / "precious"), "keep me");
  EXPECT_EQ(fs::exists(root() / base_name(2)), as_root);  // ours (not root): removed
  EXPECT_FALSE(fs::exists(root() / base_name(5)));
  EXPECT_TRUE(fs::exists(root() / base_name(9)));
  EXPECT_TRUE(fs::exists(root() / "other-program-1"));
}

std::string framework_name(const ::testing::TestParamInfo<framework>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Frameworks, TmpPath, ::testing::ValuesIn(frameworks()), framework_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TmpPath);

// --- what only one of the frameworks has ------------------------------------------------------

#ifdef TEMPFILE_GTEST_CHILD
const fs::path kGTestChild = TEMPFILE_GTEST_CHILD;

TEST_F(Runs, GTestRepeatedTestsGetOneDirectoryEach) {
  const result r =
      run_program(kGTestChild, {"--gtest_filter=Child.Passing:Child.Failing", "--gtest_repeat=2"});
  EXPECT_EQ(r.status, 1) << r.output;
  const std::vector<fs::path> failing = paths_of(r, "fail");
  ASSERT_EQ(failing.size(), 2U) << r.output;
  const fs::path base = root() / base_name(kGTestChild, 1);
  EXPECT_EQ(failing[0], base / "Child.Failing");
  EXPECT_EQ(failing[1], base / "Child.Failing-2");
  EXPECT_TRUE(fs::exists(failing[0]));
  EXPECT_TRUE(fs::exists(failing[1]));
  const std::vector<fs::path> passing = paths_of(r, "pass");
  ASSERT_EQ(passing.size(), 2U) << r.output;
  for (const fs::path& p : passing) EXPECT_FALSE(fs::exists(p));
}

TEST_F(Runs, GTestParameterisedAndTypedTestsAreNamedAfterSuiteAndTest) {
  const result r = run_program(kGTestChild, {"--gtest_filter=Inst/Param.*:Typed/*.*"},
                               {{"TEMPFILE_TEST_KEEP", "all"}});
  EXPECT_EQ(r.status, 0) << r.output;
  const fs::path base = root() / base_name(kGTestChild, 1);
  EXPECT_EQ(path_of(r, "param1"), base / "Inst_Param.Names_0");
  EXPECT_EQ(path_of(r, "param2"), base / "Inst_Param.Names_1");
  const std::vector<fs::path> typed = paths_of(r, "typed");
  EXPECT_EQ(typed, (std::vector<fs::path>{base / "Typed_0.Names", base / "Typed_1.Names"}));
  for (const fs::path& p : typed) EXPECT_TRUE(fs::is_directory(p));
}

TEST_F(Runs, GTestOutsideATestIsALogicError) {
  const result r = run_program(kGTestChild, {"--gtest_filter=Outside.*"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(root()));  // nothing made at all
}
#endif

#ifdef TEMPFILE_CATCH2_CHILD
const fs::path kCatch2Child = TEMPFILE_CATCH2_CHILD;

TEST_F(Runs, Catch2EachPassThroughSectionsGetsAFreshDirectory) {
  const result r = run_program(kCatch2Child, {"[sections]"});
  EXPECT_EQ(r.status, 2) << r.output;  // the number of failed assertions: one in each pass
  const fs::path base = root() / base_name(kCatch2Child, 1);
  const fs::path a = path_of(r, "section-a");
  const fs::path b = path_of(r, "section-b");
  EXPECT_EQ(a, base / "sections");
  EXPECT_EQ(b, base / "sections-2");
  // Both kept (each pass failed its CHECK(fs::is_empty(p)) otherwise) and both named.
  EXPECT_TRUE(fs::exists(a / "mark"));
  EXPECT_TRUE(fs::exists(b / "mark"));
  EXPECT_NE(r.output.find("kept: " + a.string() + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kept: " + b.string() + "\n"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("is_empty"), std::string::npos) << r.output;
}
#endif

}  // namespace
