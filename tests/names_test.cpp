// Random names: their shape, where they go, collisions, uniqueness across threads and fork().
#include "names.hpp"

#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <tempfile/tempfile.hpp>
#include <thread>
#include <vector>

#include "create.hpp"
#include "platform/fault.hpp"
#include "root_test.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
fs::path call_mktemp(const tempfile::options& o) { return tempfile::mktemp(o); }
#pragma GCC diagnostic pop

fs::path make_file(const tempfile::options& o) {
  auto r = tempfile::mkstemp(o);
  ::close(r.fd);
  return r.path;
}

// Checks that `p` is prefix + [a-z0-9_]{length} + suffix in `dir`.
void expect_well_formed(const fs::path& p, const fs::path& dir, const std::string& prefix,
                        const std::string& suffix, std::size_t length) {
  SCOPED_TRACE(p.string());
  EXPECT_TRUE(p.is_absolute());
  EXPECT_TRUE(fs::equivalent(p.parent_path(), dir));
  const std::string name = p.filename().string();
  ASSERT_EQ(name.size(), prefix.size() + length + suffix.size());
  EXPECT_EQ(name.substr(0, prefix.size()), prefix);
  EXPECT_EQ(name.substr(name.size() - suffix.size()), suffix);
  const std::string random = name.substr(prefix.size(), length);
  // ^[a-z0-9_]{length}$ (checked by hand: <regex> trips -Wmaybe-uninitialized in sanitizer builds)
  EXPECT_EQ(random.size(), length);
  EXPECT_EQ(random.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string::npos)
      << random;
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

class Names : public tftest::root_test {};

TEST_P(Names, PrefixSuffixAndDirectoryCombinations) {
  struct combo {
    std::string prefix, suffix;
    std::size_t length;
  };
  const std::vector<combo> combos = {
      {"tmp", "", 8},
      {"", "", 8},
      {"pre_", "", 8},
      {"", ".txt", 8},
      {"a.", ".b.c", 8},
      {"x y-", " (1)", 8},
      {"tmp", "", 12},
      {"p", ".s", 6},
      {"\xc3\xa9t\xc3\xa9", ".\xc3\xa9", 8},  // UTF-8 bytes pass through untouched
  };
  for (const combo& c : combos) {
    tempfile::options o{
        .prefix = c.prefix, .suffix = c.suffix, .dir = dir(), .random_length = c.length};
    expect_well_formed(make_file(o), dir(), c.prefix, c.suffix, c.length);
    expect_well_formed(tempfile::mkdtemp(o), dir(), c.prefix, c.suffix, c.length);
    expect_well_formed(call_mktemp(o), dir(), c.prefix, c.suffix, c.length);
    tempfile::named_temporary_file f(o);
    expect_well_formed(f.path(), dir(), c.prefix, c.suffix, c.length);
  }
}

TEST_P(Names, DefaultPrefixIsTmpAndLengthEight) {
  const fs::path p = make_file({.dir = dir()});
  expect_well_formed(p, dir(), "tmp", "", 8);
}

TEST_P(Names, TrailingSlashOnTheDirectoryIsHarmless) {
  const fs::path p = make_file({.dir = dir().string() + "/"});
  EXPECT_TRUE(p.is_absolute());
  EXPECT_TRUE(fs::equivalent(p.parent_path(), dir()));
  EXPECT_EQ(p.string().find("//"), std::string::npos) << p;
}

TEST_P(Names, RelativeDirectoryIsMadeAbsoluteAtCreation) {
  fs::create_directory(dir() / "sub");
  cwd_guard guard;
  fs::current_path(dir());
  const fs::path from_mkstemp = make_file({.dir = "sub"});
  const fs::path from_mkdtemp = tempfile::mkdtemp({.dir = "sub"});
  const fs::path from_mktemp = call_mktemp({.dir = "sub"});
  tempfile::named_temporary_file f({.dir = "sub"});
  const fs::path named = f.path();
  for (const fs::path& p : {from_mkstemp, from_mkdtemp, from_mktemp, named}) {
    EXPECT_TRUE(p.is_absolute()) << p;
    EXPECT_TRUE(fs::equivalent(p.parent_path(), dir() / "sub")) << p;
  }
  // A later chdir changes neither the name nor what close() deletes.
  fs::current_path("/");
  EXPECT_EQ(f.path(), named);
  EXPECT_TRUE(fs::exists(named));
  fs::create_directory(dir() / "decoy");
  fs::current_path(dir() / "decoy");
  fs::create_directory("sub");
  tftest::spit(fs::path("sub") / named.filename(), "decoy");
  f.close();
  EXPECT_FALSE(fs::exists(named));
  EXPECT_EQ(tftest::slurp(dir() / "decoy" / "sub" / named.filename()), "decoy");
}

TEST_P(Names, CollisionWithAnExistingFileIsSkipped) {
  tftest::spit(dir() / "tmpaaaaaaaa", "keep me");
  tempfile::detail::push_test_names({"aaaaaaaa", "bbbbbbbb"});
  const fs::path p = make_file({.dir = dir()});
  EXPECT_EQ(p, dir() / "tmpbbbbbbbb");
  EXPECT_EQ(tftest::slurp(dir() / "tmpaaaaaaaa"), "keep me");
  EXPECT_EQ(entries(), (std::vector<std::string>{"tmpaaaaaaaa", "tmpbbbbbbbb"}));
}

TEST_P(Names, CollisionWithAnExistingDirectoryIsSkipped) {
  fs::create_directory(dir() / "tmpcccccccc");
  tempfile::detail::push_test_names({"cccccccc", "dddddddd"});
  EXPECT_EQ(make_file({.dir = dir()}), dir() / "tmpdddddddd");

  fs::create_directory(dir() / "tmpeeeeeeee");
  tempfile::detail::push_test_names({"eeeeeeee", "ffffffff"});
  EXPECT_EQ(tempfile::mkdtemp({.dir = dir()}), dir() / "tmpffffffff");

  tftest::spit(dir() / "tmpgggggggg", "");
  tempfile::detail::push_test_names({"gggggggg", "hhhhhhhh"});
  EXPECT_EQ(tempfile::mkdtemp({.dir = dir()}), dir() / "tmphhhhhhhh");

  tempfile::detail::push_test_names({"cccccccc", "iiiiiiii"});
  EXPECT_EQ(call_mktemp({.dir = dir()}), dir() / "tmpiiiiiiii");
  EXPECT_FALSE(fs::exists(dir() / "tmpiiiiiiii"));

  tempfile::detail::push_test_names({"cccccccc", "jjjjjjjj"});
  tempfile::named_temporary_file f({.dir = dir()});
  EXPECT_EQ(f.path(), dir() / "tmpjjjjjjjj");
  EXPECT_TRUE(fs::is_directory(dir() / "tmpcccccccc"));
}

TEST_P(Names, CollisionWithADanglingSymlinkIsSkippedNotFollowed) {
  fs::create_symlink(dir() / "target", dir() / "tmpkkkkkkkk");
  tempfile::detail::push_test_names({"kkkkkkkk", "llllllll"});
  EXPECT_EQ(make_file({.dir = dir()}), dir() / "tmpllllllll");
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir() / "target")));
  EXPECT_TRUE(fs::is_symlink(dir() / "tmpkkkkkkkk"));
}

TEST_P(Names, EveryAttemptCollidingThrowsEexistNamingTheDirectory) {
  using tempfile::detail::kMaxAttempts;
  tftest::spit(dir() / "tmpzzzzzzzz", "");
  auto exhaust = [&] {
    for (unsigned i = 0; i < kMaxAttempts; ++i) tempfile::detail::push_test_names({"zzzzzzzz"});
  };
  auto check = [&](const std::function<void()>& create, call syscall) {
    exhaust();
    fault::reset();
    try {
      create();
      ADD_FAILURE() << "no exception";
    } catch (const fs::filesystem_error& e) {
      EXPECT_TRUE(e.code() == std::errc::file_exists) << e.what();
      EXPECT_NE(std::string(e.what()).find("'" + dir().string() + "'"), std::string::npos)
          << e.what();
      EXPECT_EQ(e.path1(), dir());
    }
    // Exactly kMaxAttempts names were tried: the queue is drained and the next name is random.
    EXPECT_EQ(fault::calls(syscall), kMaxAttempts);
    EXPECT_NE(make_file({.dir = dir()}), dir() / "tmpzzzzzzzz");
  };
  {
    SCOPED_TRACE("mkstemp");
    check([&] { (void)make_file({.dir = dir()}); }, call::open);
  }
  {
    SCOPED_TRACE("mkdtemp");
    check([&] { (void)tempfile::mkdtemp({.dir = dir()}); }, call::mkdir);
  }
  {
    SCOPED_TRACE("mktemp");
    check([&] { (void)call_mktemp({.dir = dir()}); }, call::stat);
  }
  {
    SCOPED_TRACE("named_temporary_file");
    check([&] { tempfile::named_temporary_file f({.dir = dir()}); }, call::open);
  }
}

TEST_P(Names, ALastAttemptThatSucceedsIsNotAnError) {
  using tempfile::detail::kMaxAttempts;
  tftest::spit(dir() / "tmpyyyyyyyy", "");
  for (unsigned i = 0; i + 1 < kMaxAttempts; ++i) tempfile::detail::push_test_names({"yyyyyyyy"});
  tempfile::detail::push_test_names({"xxxxxxxx"});
  EXPECT_EQ(make_file({.dir = dir()}), dir() / "tmpxxxxxxxx");
}

TEST_P(Names, EightThreadsMakeSixteenThousandDistinctNames) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::array<std::vector<std::string>, kThreads> names;
  std::array<int, kThreads> failures{};
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto& mine = names[static_cast<std::size_t>(t)];
        mine.reserve(kPerThread);
        for (int i = 0; i < kPerThread; ++i) {
          try {
            auto r = tempfile::mkstemp({.dir = dir()});
            ::close(r.fd);
            mine.push_back(r.path.filename().string());
          } catch (...) {
            ++failures[static_cast<std::size_t>(t)];
          }
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  std::set<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0) << "thread " << t;
    all.insert(names[static_cast<std::size_t>(t)].begin(),
               names[static_cast<std::size_t>(t)].end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(entries().size(), static_cast<std::size_t>(kThreads * kPerThread));
}

// Reads everything from `fd` until end of file.
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

TEST_P(Names, ParentAndForkedChildDrawDifferentNames) {
  // Separate directories, so that an O_EXCL retry cannot hide a repeated name.
  const fs::path parent_dir = dir() / "parent";
  const fs::path child_dir = dir() / "child";
  fs::create_directory(parent_dir);
  fs::create_directory(child_dir);
  constexpr int kCount = 50;
  // Draw once first, so that this thread's random bytes are buffered when fork() copies them.
  (void)make_file({.dir = parent_dir});

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    ::close(fds[0]);
    int status = 0;
    try {
      for (int i = 0; i < kCount; ++i) {
        const std::string line = make_file({.dir = child_dir}).filename().string() + "\n";
        if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          status = 2;
        }
      }
    } catch (...) {
      status = 3;
    }
    ::close(fds[1]);
    ::_exit(status);
  }
  ::close(fds[1]);
  std::set<std::string> parent_names;
  for (int i = 0; i < kCount; ++i) parent_names.insert(make_file({.dir = parent_dir}).filename());
  const std::string child_output = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  std::set<std::string> child_names;
  std::size_t start = 0;
  for (std::size_t nl; (nl = child_output.find('\n', start)) != std::string::npos; start = nl + 1) {
    child_names.insert(child_output.substr(start, nl - start));
  }
  EXPECT_EQ(child_names.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(parent_names.size(), static_cast<std::size_t>(kCount));
  std::vector<std::string> common;
  std::set_intersection(parent_names.begin(), parent_names.end(), child_names.begin(),
                        child_names.end(), std::back_inserter(common));
  EXPECT_TRUE(common.empty()) << common.size() << " names repeated across fork(), e.g. "
                              << common.front();
}

INSTANTIATE_TEST_SUITE_P(Roots, Names, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

TEST(NameAlphabet, AllThirtySevenCharactersAppearAndNothingElse) {
  constexpr std::size_t kNames = 4000;
  constexpr std::size_t kLength = 8;
  std::map<char, std::size_t> counts;
  for (std::size_t i = 0; i < kNames; ++i) {
    std::string name;
    tempfile::detail::append_random_name(name, kLength);
    ASSERT_EQ(name.size(), kLength);
    for (char c : name) ++counts[c];
  }
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_";
  EXPECT_EQ(std::string(tempfile::detail::kNameAlphabet), alphabet);
  EXPECT_EQ(counts.size(), alphabet.size());
  // 32000 characters: about 865 of each. Bounds many standard deviations (about 29) wide, so
  // only a broken generator (a missing or doubled character) fails.
  for (char c : alphabet) {
    EXPECT_GT(counts[c], 600u) << "character '" << c << "'";
    EXPECT_LT(counts[c], 1150u) << "character '" << c << "'";
  }
}

// Each position on its own is uniform too, and independent of the others (a name is taken from a
// word eight characters at a time, so a mistake in that would show at some positions only), for
// lengths that are and are not a multiple of eight.
TEST(NameAlphabet, EveryPositionUsesEveryCharacterEvenly) {
  for (const std::size_t length : {8u, 13u}) {
    constexpr std::size_t kNames = 7400;  // about 200 of each character at each position
    std::vector<std::map<char, std::size_t>> counts(length);
    // same[a][b]: names with the same character at positions a and b (independent: 1 in 37,
    // about 200).
    std::vector<std::vector<std::size_t>> same(length, std::vector<std::size_t>(length));
    for (std::size_t i = 0; i < kNames; ++i) {
      std::string name;
      tempfile::detail::append_random_name(name, length);
      for (std::size_t at = 0; at < length; ++at) ++counts[at][name[at]];
      for (std::size_t a = 0; a < length; ++a) {
        for (std::size_t b = a + 1; b < length; ++b) same[a][b] += name[a] == name[b];
      }
    }
    for (std::size_t a = 0; a < length; ++a) {
      for (std::size_t b = a + 1; b < length; ++b) {
        EXPECT_LT(same[a][b], 300u) << "positions " << a << " and " << b << " of " << length;
      }
    }
    for (std::size_t at = 0; at < length; ++at) {
      EXPECT_EQ(counts[at].size(), 37u) << "position " << at << " of " << length;
      for (const auto& [c, n] : counts[at]) {  // 200 +- 14 (one standard deviation)
        EXPECT_GT(n, 110u) << "'" << c << "' at " << at << " of " << length;
        EXPECT_LT(n, 300u) << "'" << c << "' at " << at << " of " << length;
      }
    }
  }
}

TEST(NameAlphabet, MktempNamesUseAllSixtyTwoLettersAndDigits) {
  std::map<char, std::size_t> counts;
  for (std::size_t i = 0; i < 1000; ++i) {
    char name[23];
    tempfile::detail::fill_random_name(name, sizeof name, tempfile::detail::alphabet::mktemp);
    for (char c : name) ++counts[c];
  }
  ASSERT_EQ(counts.size(), 62u);  // 23000 characters: about 371 of each
  for (const auto& [c, n] : counts) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << "'" << c << "'";
    EXPECT_GT(n, 200u) << "'" << c << "'";
    EXPECT_LT(n, 550u) << "'" << c << "'";
  }
}

TEST(NameAlphabet, AppendsToWhatIsThere) {
  std::string name = "prefix";
  tempfile::detail::append_random_name(name, 12);
  EXPECT_EQ(name.size(), 18u);
  EXPECT_EQ(name.substr(0, 6), "prefix");
}

TEST(NameAlphabet, TestNamesAreUsedInOrder) {
  tempfile::detail::push_test_names({"abcdef", "ghijkl"});
  std::string a, b;
  tempfile::detail::append_random_name(a, 6);
  tempfile::detail::append_random_name(b, 6);
  EXPECT_EQ(a, "abcdef");
  EXPECT_EQ(b, "ghijkl");
}

}  // namespace
