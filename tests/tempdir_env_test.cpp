// gettempdir(), set_tempdir() and gettempprefix(): process-global state (the environment, the
// cached directory, the working directory), so they live in their own executable.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <tempfile/tempfile.hpp>
#include <thread>
#include <vector>

#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;

constexpr const char* kVars[] = {"TMPDIR", "TEMP", "TMP"};

void set_env(const char* name, const std::optional<std::string>& value) {
  if (value) {
    ::setenv(name, value->c_str(), 1);
  } else {
    ::unsetenv(name);
  }
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

// Saves and restores TMPDIR, TEMP and TMP, and resets the cached directory and the fault seam
// around every test.
class TempdirEnv : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* value = std::getenv(v);
      saved_.push_back(value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(v);
    }
    fault::reset();
    tempfile::set_tempdir({});
  }
  void TearDown() override {
    fault::reset();
    for (std::size_t i = 0; i < saved_.size(); ++i) set_env(kVars[i], saved_[i]);
    tempfile::set_tempdir({});
  }

  // A fresh, empty directory in the root under test.
  fs::path make_dir(const std::string& name) {
    const fs::path p = base_.path() / name;
    fs::create_directory(p);
    return p;
  }
  const fs::path& base() const { return base_.path(); }

  static std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    return names;
  }

  tftest::scratch base_{GetParam().path};

 private:
  std::vector<std::optional<std::string>> saved_;
};

TEST_P(TempdirEnv, HonoursTmpdirAfterAReset) {
  const fs::path a = make_dir("a");
  ::setenv("TMPDIR", a.c_str(), 1);
  tempfile::set_tempdir({});
  const fs::path got = tempfile::gettempdir();
  EXPECT_TRUE(got.is_absolute());
  EXPECT_EQ(got, a);
}

TEST_P(TempdirEnv, IsCachedUntilSetTempdirResetsIt) {
  const fs::path a = make_dir("a");
  const fs::path b = make_dir("b");
  ::setenv("TMPDIR", a.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), a);
  ::setenv("TMPDIR", b.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), a);  // cached: the environment is not read again
  fault::reset();
  EXPECT_EQ(tempfile::gettempdir(), a);
  EXPECT_EQ(fault::calls(call::open), 0u);  // and not probed again
  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), b);
}

TEST_P(TempdirEnv, DefaultIsAbsolute) {
  const fs::path got = tempfile::gettempdir();
  EXPECT_TRUE(got.is_absolute()) << got;
  EXPECT_TRUE(fs::is_directory(got)) << got;
}

TEST_P(TempdirEnv, SkipsAMissingTmpdirThenTakesTempThenTmp) {
  const fs::path temp = make_dir("temp");
  const fs::path tmp = make_dir("tmp");
  ::setenv("TMPDIR", (base() / "missing").c_str(), 1);
  ::setenv("TEMP", temp.c_str(), 1);
  ::setenv("TMP", tmp.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), temp);

  ::setenv("TEMP", (base() / "missing too").c_str(), 1);
  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), tmp);

  ::unsetenv("TMPDIR");
  ::unsetenv("TEMP");
  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), tmp);
  EXPECT_FALSE(fs::exists(base() / "missing"));
  EXPECT_FALSE(fs::exists(base() / "missing too"));
}

TEST_P(TempdirEnv, EmptyVariablesAreIgnored) {
  const fs::path tmp = make_dir("tmp");
  ::setenv("TMPDIR", "", 1);
  ::setenv("TEMP", "", 1);
  ::setenv("TMP", tmp.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), tmp);
}

TEST_P(TempdirEnv, SkipsAnUnwritableTmpdir) {
  const fs::path ro = make_dir("ro");
  const fs::path temp = make_dir("temp");
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  // Root bypasses permission checks, so a 0500 directory would still be writable: as root the
  // EACCES the kernel would give the probe of TMPDIR (the first open) is injected instead.
  if (::geteuid() == 0) fault::fail(call::open, 1, EACCES);
  ::setenv("TMPDIR", ro.c_str(), 1);
  ::setenv("TEMP", temp.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), temp);
  EXPECT_TRUE(entries(ro).empty());
  EXPECT_TRUE(entries(temp).empty());
}

TEST_P(TempdirEnv, SkipsATmpdirThatIsAPlainFile) {
  const fs::path plain = base() / "plain";
  tftest::spit(plain, "not a directory");
  const fs::path temp = make_dir("temp");
  ::setenv("TMPDIR", plain.c_str(), 1);
  ::setenv("TEMP", temp.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), temp);
  EXPECT_EQ(tftest::slurp(plain), "not a directory");
}

TEST_P(TempdirEnv, TheProbeLeavesNothingBehind) {
  const fs::path a = make_dir("a");
  ::setenv("TMPDIR", a.c_str(), 1);
  fault::reset();
  EXPECT_EQ(tempfile::gettempdir(), a);
  EXPECT_TRUE(entries(a).empty());
  // It really created, wrote and removed a file.
  EXPECT_GE(fault::calls(call::open), 1u);
  EXPECT_GE(fault::calls(call::write), 1u);
  EXPECT_GE(fault::calls(call::unlink), 1u);
}

TEST_P(TempdirEnv, ADirectoryWhereWritingFailsIsSkippedAndCleanedUp) {
  const fs::path a = make_dir("a");
  const fs::path b = make_dir("b");
  ::setenv("TMPDIR", a.c_str(), 1);
  ::setenv("TEMP", b.c_str(), 1);
  fault::fail(call::write, 1, ENOSPC);
  EXPECT_EQ(tempfile::gettempdir(), b);
  EXPECT_TRUE(entries(a).empty());
  EXPECT_TRUE(entries(b).empty());

  fault::reset();
  fault::fail(call::close, 1, EIO);
  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), b);
  EXPECT_TRUE(entries(a).empty());
}

TEST_P(TempdirEnv, RelativeAndUnnormalisedVariablesGiveAnAbsoluteDirectory) {
  const fs::path a = make_dir("a");
  {
    cwd_guard guard;
    fs::current_path(base());
    ::setenv("TMPDIR", "a", 1);
    EXPECT_EQ(tempfile::gettempdir(), a);
  }
  ::setenv("TMPDIR", (a.string() + "/").c_str(), 1);
  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), a);
  ::setenv("TMPDIR", (base().string() + "/./a/../a").c_str(), 1);
  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), a);
}

TEST_P(TempdirEnv, SetTempdirOverridesEverything) {
  const fs::path env = make_dir("env");
  const fs::path x = make_dir("x");
  ::setenv("TMPDIR", env.c_str(), 1);
  tempfile::set_tempdir(x);
  EXPECT_EQ(tempfile::gettempdir(), x);

  {
    tempfile::named_temporary_file f;
    EXPECT_EQ(f.path().parent_path(), x);
  }
  auto r = tempfile::mkstemp();
  ::close(r.fd);
  EXPECT_EQ(r.path.parent_path(), x);
  EXPECT_EQ(tempfile::mkdtemp().parent_path(), x);
  {
    tempfile::temporary_file t;
    // An anonymous file still reports its directory through /proc.
    const fs::path link = fs::read_symlink("/proc/self/fd/" + std::to_string(t.native_handle()));
    EXPECT_EQ(link.string().rfind(x.string() + "/", 0), 0u) << link;
  }
  EXPECT_EQ(entries(x).size(), 2u);
  EXPECT_TRUE(entries(env).empty());

  tempfile::set_tempdir({});
  EXPECT_EQ(tempfile::gettempdir(), env);
  tempfile::named_temporary_file f;
  EXPECT_EQ(f.path().parent_path(), env);
}

TEST_P(TempdirEnv, SetTempdirMakesARelativePathAbsolute) {
  const fs::path x = make_dir("x");
  cwd_guard guard;
  fs::current_path(base());
  tempfile::set_tempdir("x");
  fs::current_path("/");
  const fs::path got = tempfile::gettempdir();
  EXPECT_TRUE(got.is_absolute());
  EXPECT_TRUE(fs::equivalent(got, x));
}

TEST_P(TempdirEnv, SetTempdirIsTakenAsGiven) {
  // Like Python's tempfile.tempdir: no probe, so creation reports the missing directory.
  const fs::path missing = base() / "missing";
  tempfile::set_tempdir(missing);
  EXPECT_EQ(tempfile::gettempdir(), missing);
  try {
    tempfile::named_temporary_file f;
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::errc::no_such_file_or_directory) << e.what();
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
}

TEST_P(TempdirEnv, NoUsableCandidateThrowsEnoentListingThemAll) {
  const fs::path m1 = base() / "missing1";
  const fs::path m2 = base() / "missing2";
  const fs::path m3 = base() / "missing3";
  ::setenv("TMPDIR", m1.c_str(), 1);
  ::setenv("TEMP", m2.c_str(), 1);
  ::setenv("TMP", m3.c_str(), 1);
  // /tmp, /var/tmp, /usr/tmp and the working directory really are writable here: make every
  // probe's open fail.
  fault::fail(call::open, 1, EACCES, 0);
  const fs::path cwd = fs::current_path();
  try {
    (void)tempfile::gettempdir();
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::errc::no_such_file_or_directory) << e.what();
    const std::string what = e.what();
    for (const fs::path& p :
         {m1, m2, m3, fs::path("/tmp"), fs::path("/var/tmp"), fs::path("/usr/tmp"), cwd}) {
      EXPECT_NE(what.find(p.string()), std::string::npos) << p << " not in: " << what;
    }
    // In the documented order.
    EXPECT_LT(what.find(m1.string()), what.find(m2.string()));
    EXPECT_LT(what.find(m2.string()), what.find(m3.string()));
    EXPECT_LT(what.find(m3.string()), what.find("/usr/tmp"));
  }
  // Creating without a directory fails the same way.
  EXPECT_THROW(tempfile::named_temporary_file f, fs::filesystem_error);
  EXPECT_THROW((void)tempfile::mkdtemp(), fs::filesystem_error);
  // A failure is not cached: once a candidate works again it is found.
  fault::reset();
  const fs::path good = make_dir("good");
  ::setenv("TMP", good.c_str(), 1);
  EXPECT_EQ(tempfile::gettempdir(), good);
}

TEST_P(TempdirEnv, ThreadsAgreeOnOneAnswer) {
  const fs::path a = make_dir("a");
  ::setenv("TMPDIR", a.c_str(), 1);
  constexpr int kThreads = 8;
  std::vector<fs::path> got(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&got, t] {
        for (int i = 0; i < 100; ++i) got[static_cast<std::size_t>(t)] = tempfile::gettempdir();
      });
    }
    for (auto& th : threads) th.join();
  }
  for (const fs::path& p : got) EXPECT_EQ(p, a);
  EXPECT_TRUE(entries(a).empty());
}

INSTANTIATE_TEST_SUITE_P(Roots, TempdirEnv, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

TEST(Gettempprefix, IsTmp) {
  EXPECT_EQ(tempfile::gettempprefix(), "tmp");
  EXPECT_EQ(tempfile::options{}.prefix, tempfile::gettempprefix());
}

}  // namespace
