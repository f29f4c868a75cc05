// Tests of tempfile::atomic_file (include/tempfile/atomic_file.hpp), in every test root.
#include "tempfile/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using tempfile::atomic_file;

static_assert(std::is_nothrow_move_constructible_v<atomic_file>);
static_assert(std::is_nothrow_move_assignable_v<atomic_file>);
static_assert(!std::is_copy_constructible_v<atomic_file>);
static_assert(std::is_base_of_v<tempfile::file, atomic_file>);

struct stat_result {
  ino_t inode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

stat_result stat_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) throw std::runtime_error("stat failed: " + p.string());
  return {st.st_ino, st.st_uid, st.st_gid};
}

}  // namespace

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs `fn`, which must throw filesystem_error, and returns the exception.
template <class Fn>
fs::filesystem_error expect_fs_error(Fn&& fn) {
  try {
    fn();
  } catch (const fs::filesystem_error& e) {
    return e;
  }
  ADD_FAILURE() << "no filesystem_error thrown";
  return fs::filesystem_error("none", std::error_code());
}

class AtomicFile : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    fault::reset();
    scratch_ = std::make_unique<tftest::scratch>(GetParam().path);
    // Whether this file system gives O_TMPFILE files (TEMPFILE_TEST_DIRS may point elsewhere):
    // the temporary of a probe then shows no name.
    atomic_file probe(dir() / "probe");
    o_tmpfile_ = entries().empty();
  }
  void TearDown() override {
    fault::reset();
    scratch_.reset();
  }
  const fs::path& dir() const { return scratch_->path(); }
  std::vector<std::string> entries() const { return scratch_->entries(); }
  // The next atomic_file is made as if the file system had no O_TMPFILE: the first open() of
  // its construction (the O_TMPFILE one) fails with EOPNOTSUPP, so it uses a named temporary.
  static void refuse_o_tmpfile() { fault::fail(fault::call::open, 1, EOPNOTSUPP); }

  std::unique_ptr<tftest::scratch> scratch_;
  bool o_tmpfile_ = true;
};

INSTANTIATE_TEST_SUITE_P(Roots, AtomicFile, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

// --- content and permissions ----------------------------------------------------------------

// The file part of an atomic_file may be moved into a plain tempfile::file that outlives it; its
// errors still name the target (the state keeps its own copy of the name).
TEST_P(AtomicFile, MovedIntoAPlainFileItsErrorsStillNameTheTarget) {
  const fs::path target = dir() / "target";
  tempfile::file plain;
  {
    atomic_file f(target);
    f.write("pending");
    plain = std::move(f);
  }
  fault::fail(fault::call::write, 1, ENOSPC);
  try {
    plain.flush();
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::errc::no_space_on_device) << e.what();
    EXPECT_NE(std::string(e.what()).find("'" + target.string() + "'"), std::string::npos)
        << e.what();
  }
  plain.close();
  EXPECT_FALSE(fs::exists(target)) << "never committed";
}

TEST_P(AtomicFile, NewTargetUnderUmask022) {
  tftest::scoped_umask mask(022);
  const fs::path target = dir() / "new.txt";
  atomic_file f(target);
  EXPECT_EQ(f.target(), target);
  f.write("hello, ");
  f.write("world");
  EXPECT_FALSE(fs::exists(target)) << "nothing appears before commit()";
  f.commit();
  EXPECT_TRUE(f.committed());
  EXPECT_TRUE(f.closed());
  EXPECT_EQ(tftest::slurp(target), "hello, world");
  EXPECT_EQ(tftest::mode_of(target), 0644u);
  EXPECT_EQ(entries(), std::vector<std::string>{"new.txt"});
}

TEST_P(AtomicFile, NewTargetUnderUmask077) {
  tftest::scoped_umask mask(077);
  const fs::path target = dir() / "new.txt";
  atomic_file f(target);
  f.write("secret");
  f.commit();
  EXPECT_EQ(tftest::slurp(target), "secret");
  EXPECT_EQ(tftest::mode_of(target), 0600u);
  EXPECT_EQ(entries(), std::vector<std::string>{"new.txt"});
}

TEST_P(AtomicFile, NewTargetUnderUmask027WithoutOTmpfile) {
  tftest::scoped_umask mask(027);
  const fs::path target = dir() / "new.txt";
  refuse_o_tmpfile();
  atomic_file f(target);
  f.write("x");
  f.commit();
  EXPECT_EQ(tftest::mode_of(target), 0640u);
  EXPECT_EQ(entries(), std::vector<std::string>{"new.txt"});
}

TEST_P(AtomicFile, ExistingTargetKeepsMode0640) {
  tftest::scoped_umask mask(077);
  const fs::path target = dir() / "config";
  tftest::spit(target, "old");
  fs::permissions(target, static_cast<fs::perms>(0640));
  const auto before = stat_of(target);
  atomic_file f(target);
  f.write("new content");
  EXPECT_EQ(tftest::slurp(target), "old") << "the target is untouched until commit()";
  f.commit();
  EXPECT_EQ(tftest::slurp(target), "new content");
  EXPECT_EQ(tftest::mode_of(target), 0640u);
  EXPECT_NE(stat_of(target).inode, before.inode) << "replaced by rename, not rewritten";
  EXPECT_EQ(entries(), std::vector<std::string>{"config"});
}

TEST_P(AtomicFile, ExistingTargetKeepsWiderModeUnderStrictUmask) {
  tftest::scoped_umask mask(077);
  for (unsigned mode : {0755u, 0604u, 0444u, 0600u}) {
    const fs::path target = dir() / ("t" + std::to_string(mode));
    tftest::spit(target, "old");
    fs::permissions(target, static_cast<fs::perms>(mode));
    atomic_file f(target);
    f.write("new");
    f.commit();
    EXPECT_EQ(tftest::mode_of(target), mode);
    EXPECT_EQ(tftest::slurp(target), "new");
  }
}

TEST_P(AtomicFile, ExistingTargetKeepsModeWithoutOTmpfile) {
  const fs::path target = dir() / "config";
  tftest::spit(target, "old");
  fs::permissions(target, static_cast<fs::perms>(0640));
  refuse_o_tmpfile();
  atomic_file f(target);
  // While it is written, the temporary that will replace a 0640 file is the owner's only.
  const auto names = entries();
  ASSERT_EQ(names.size(), 2u);
  const std::string temp = names[0] == "config" ? names[1] : names[0];
  EXPECT_EQ(tftest::mode_of(dir() / temp), 0600u);
  f.write("new");
  f.commit();
  EXPECT_EQ(tftest::mode_of(target), 0640u);
  EXPECT_EQ(tftest::slurp(target), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"config"});
}

TEST_P(AtomicFile, ExplicitModeWins) {
  tftest::scoped_umask mask(077);
  const fs::path fresh = dir() / "fresh";
  atomic_file a(fresh, {.mode = static_cast<fs::perms>(0644)});
  a.write("a");
  a.commit();
  EXPECT_EQ(tftest::mode_of(fresh), 0644u) << "options::mode is not narrowed by the umask";

  const fs::path existing = dir() / "existing";
  tftest::spit(existing, "old");
  fs::permissions(existing, static_cast<fs::perms>(0600));
  atomic_file b(existing, {.mode = static_cast<fs::perms>(0640)});
  b.write("b");
  b.commit();
  EXPECT_EQ(tftest::mode_of(existing), 0640u);
}

TEST_P(AtomicFile, ExistingTargetKeepsOwnerAndGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the target another owner";
  // 06750: a chown clears the set-user-ID and set-group-ID bits, so the mode must be set after it.
  for (const unsigned mode : {0640u, 06750u}) {
    SCOPED_TRACE(mode);
    const fs::path target = dir() / "owned";
    tftest::spit(target, "old");
    ASSERT_EQ(::chown(target.c_str(), 12345, 23456), 0);
    fs::permissions(target, static_cast<fs::perms>(mode));
    atomic_file f(target);
    f.write("new");
    f.commit();
    const auto after = stat_of(target);
    EXPECT_EQ(after.uid, 12345u);
    EXPECT_EQ(after.gid, 23456u);
    EXPECT_EQ(tftest::mode_of(target), mode);
  }
}

TEST_P(AtomicFile, UnchangedPermissionsCostNoFchownOrFchmod) {
  // The usual case: the process's own file, with a mode the umask leaves whole. An unnamed
  // temporary is made with that mode, so commit() only has to look (fstatat, fstat).
  if (!o_tmpfile_) GTEST_SKIP() << "no O_TMPFILE here: a named temporary starts owner-only";
  tftest::scoped_umask mask(022);
  const fs::path target = dir() / "plain";
  tftest::spit(target, "old");
  fs::permissions(target, static_cast<fs::perms>(0644));
  atomic_file f(target);
  f.write("new");
  fault::reset();
  f.commit();
  EXPECT_EQ(fault::calls(fault::call::fchown), 0u);
  EXPECT_EQ(fault::calls(fault::call::fchmod), 0u);
  EXPECT_EQ(fault::calls(fault::call::fstat), 1u) << "what the temporary has, looked at once";
  EXPECT_EQ(tftest::mode_of(target), 0644u);
  EXPECT_EQ(stat_of(target).uid, ::geteuid());
  EXPECT_EQ(tftest::slurp(target), "new");

  // A mode the umask narrows at creation still comes out whole, by an fchmod.
  fs::permissions(target, static_cast<fs::perms>(0666));
  atomic_file g(target);
  g.write("newer");
  fault::reset();
  g.commit();
  EXPECT_EQ(fault::calls(fault::call::fchmod), 1u);
  EXPECT_EQ(tftest::mode_of(target), 0666u);
  EXPECT_EQ(tftest::slurp(target), "newer");
}

TEST_P(AtomicFile, TemporaryThatCannotBeLookedAtIsGivenOwnerAndModeAnyway) {
  const fs::path target = dir() / "plain";
  tftest::spit(target, "old");
  fs::permissions(target, static_cast<fs::perms>(0640));
  atomic_file f(target);
  f.write("new");
  fault::reset();
  fault::fail(fault::call::fstat, 1, EIO);
  f.commit();
  EXPECT_EQ(fault::calls(fault::call::fchown), 1u);
  EXPECT_EQ(fault::calls(fault::call::fchmod), 1u);
  EXPECT_EQ(tftest::mode_of(target), 0640u);
  EXPECT_EQ(tftest::slurp(target), "new");
}

TEST_P(AtomicFile, OwnerOfNewTargetIsTheProcess) {
  const fs::path target = dir() / "mine";
  atomic_file f(target);
  f.commit();
  const auto after = stat_of(target);
  EXPECT_EQ(after.uid, ::geteuid());
  EXPECT_EQ(tftest::slurp(target), "");
}

TEST_P(AtomicFile, RelativeTargetIsMadeAbsolute) {
  const fs::path target = dir() / "relative";
  const fs::path relative = fs::relative(target);
  ASSERT_TRUE(relative.is_relative());
  atomic_file f(relative);
  EXPECT_TRUE(f.target().is_absolute());
  f.write("found");
  f.commit();
  EXPECT_EQ(tftest::slurp(target), "found");
}

TEST_P(AtomicFile, StreamAndMemberFunctionsMix) {
  const fs::path target = dir() / "mixed";
  atomic_file f(target);
  f.stream() << "answer=" << 42 << '\n';
  f.write("tail");
  f.seek(0);
  EXPECT_EQ(f.read(7), "answer=");
  f.seek(0, tempfile::whence::end);
  f.write("!");
  f.commit();
  EXPECT_EQ(tftest::slurp(target), "answer=42\ntail!");
}

TEST_P(AtomicFile, LargeContent) {
  const fs::path target = dir() / "large";
  std::string payload(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 % 251);
  atomic_file f(target);
  f.write(payload.substr(0, 100));
  f.write(payload.substr(100));
  f.commit();
  EXPECT_EQ(tftest::slurp(target), payload);
}

// --- symbolic links --------------------------------------------------------------------------

TEST_P(AtomicFile, SymlinkTargetReplacesThePointee) {
  const fs::path real = dir() / "real.txt";
  const fs::path link = dir() / "link";
  tftest::spit(real, "old");
  fs::permissions(real, static_cast<fs::perms>(0604));
  fs::create_symlink(real, link);
  atomic_file f(link);
  EXPECT_EQ(f.target(), link) << "target() is the path as given";
  f.write("new");
  f.commit();
  EXPECT_TRUE(fs::is_symlink(link)) << "the link stays a link";
  EXPECT_EQ(fs::read_symlink(link), real);
  EXPECT_EQ(tftest::slurp(real), "new");
  EXPECT_EQ(tftest::mode_of(real), 0604u);
  EXPECT_EQ(entries(), (std::vector<std::string>{"link", "real.txt"}));
}

TEST_P(AtomicFile, RelativeSymlinkChain) {
  fs::create_directory(dir() / "sub");
  fs::create_directory(dir() / "other");
  const fs::path real = dir() / "other" / "real";
  tftest::spit(real, "old");
  // first -> sub/second -> ../other/real: each relative to the directory of its own link.
  fs::create_symlink("../other/real", dir() / "sub" / "second");
  fs::create_symlink("sub/second", dir() / "first");
  for (const auto& via : {dir() / "first", dir() / "sub" / "second"}) {
    atomic_file f(via);
    f.write("via " + via.filename().string());
    f.commit();
    EXPECT_EQ(tftest::slurp(real), "via " + via.filename().string());
  }
  EXPECT_EQ(fs::read_symlink(dir() / "first"), "sub/second");
  EXPECT_EQ(fs::read_symlink(dir() / "sub" / "second"), "../other/real");
  EXPECT_EQ(entries(), (std::vector<std::string>{"first", "other", "sub"}));
  std::vector<std::string> in_other;
  for (const auto& e : fs::directory_iterator(dir() / "other")) {
    in_other.push_back(e.path().filename().string());
  }
  EXPECT_EQ(in_other, std::vector<std::string>{"real"}) << "the temporary lived beside the pointee";
}

TEST_P(AtomicFile, DanglingSymlinkCreatesThePointee) {
  const fs::path link = dir() / "link";
  fs::create_symlink("missing.txt", link);
  atomic_file f(link);
  f.write("made");
  f.commit();
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(tftest::slurp(dir() / "missing.txt"), "made");
}

TEST_P(AtomicFile, SymlinkLoopIsRefused) {
  fs::create_symlink("b", dir() / "a");
  fs::create_symlink("a", dir() / "b");
  const auto before = entries();
  const auto e = expect_fs_error([&] { atomic_file f(dir() / "a"); });
  EXPECT_EQ(e.code(), std::errc::too_many_symbolic_link_levels);
  EXPECT_EQ(e.path1(), dir() / "a");
  EXPECT_EQ(entries(), before);
}

TEST_P(AtomicFile, TargetThroughSymlinkedDirectory) {
  fs::create_directory(dir() / "real_dir");
  fs::create_directory_symlink("real_dir", dir() / "dir_link");
  const fs::path target = dir() / "dir_link" / "file";
  atomic_file f(target);
  f.write("through a linked directory");
  f.commit();
  EXPECT_EQ(tftest::slurp(dir() / "real_dir" / "file"), "through a linked directory");
}

// --- what is refused -----------------------------------------------------------------------

TEST_P(AtomicFile, DirectoryTargetIsRefused) {
  fs::create_directory(dir() / "d");
  const auto before = entries();
  const auto e = expect_fs_error([&] { atomic_file f(dir() / "d"); });
  EXPECT_EQ(e.code(), std::errc::is_a_directory);
  EXPECT_EQ(e.path1(), dir() / "d");
  const auto trailing = expect_fs_error([&] { atomic_file f(dir() / "d" / ""); });
  EXPECT_EQ(trailing.code(), std::errc::is_a_directory);
  EXPECT_EQ(entries(), before);
}

TEST_P(AtomicFile, MissingDirectoryNamesTheTarget) {
  const fs::path target = dir() / "no" / "such" / "file";
  const auto e = expect_fs_error([&] { atomic_file f(target); });
  EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(e.path1(), target);
  EXPECT_TRUE(contains(e.what(), target.string())) << e.what();
}

TEST_P(AtomicFile, TheLongestRandomPartStillMakesANameThatFits) {
  // random_length may be 255, but "." + "." + 255 random + ".tmp" would pass NAME_MAX: the
  // temporary's random part is cut to what fits.
  for (bool named : {false, true}) {
    SCOPED_TRACE(named ? "named temporary" : "O_TMPFILE");
    const fs::path target = dir() / std::string(200, 't');
    tftest::spit(target, "old");
    if (named) refuse_o_tmpfile();
    atomic_file f(target, {.random_length = 255});
    if (named) {
      const auto names = entries();
      ASSERT_EQ(names.size(), 2u);
      const std::string temp = names[0] == target.filename() ? names[1] : names[0];
      EXPECT_EQ(temp.size(), 255u) << temp;
    }
    f.write("new");
    f.commit();
    EXPECT_EQ(tftest::slurp(target), "new");
    EXPECT_EQ(entries(), std::vector<std::string>{target.filename().string()});
  }
}

TEST_P(AtomicFile, BadOptionsAreRejectedBeforeTouchingTheDisk) {
  EXPECT_THROW(atomic_file(dir() / "t", {.random_length = 3}), std::invalid_argument);
  EXPECT_TRUE(entries().empty());
}

// --- discard, destruction, lifecycle ---------------------------------------------------------

TEST_P(AtomicFile, DiscardLeavesDirectoryIdentical) {
  for (bool named : {false, true}) {
    SCOPED_TRACE(named ? "named temporary" : "O_TMPFILE");
    const fs::path target = dir() / "target";
    tftest::spit(target, "old");
    tftest::spit(dir() / "neighbour", "n");
    const auto before = entries();
    if (named) refuse_o_tmpfile();
    atomic_file f(target);
    f.write(std::string(200000, 'x'));
    f.write("pending in the buffer");
    f.discard();
    EXPECT_TRUE(f.closed());
    EXPECT_FALSE(f.committed());
    EXPECT_EQ(entries(), before);
    EXPECT_EQ(tftest::slurp(target), "old");
    EXPECT_NO_THROW(f.discard()) << "discard() is idempotent";
    EXPECT_THROW(f.commit(), std::logic_error);
    EXPECT_THROW(f.write("x"), std::logic_error);
    EXPECT_EQ(entries(), before);
  }
}

TEST_P(AtomicFile, DestructionLeavesDirectoryIdentical) {
  for (bool named : {false, true}) {
    SCOPED_TRACE(named ? "named temporary" : "O_TMPFILE");
    const fs::path target = dir() / "target";
    tftest::spit(target, "old");
    const auto before = entries();
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("never committed");
      f.flush();
    }
    EXPECT_EQ(entries(), before);
    EXPECT_EQ(tftest::slurp(target), "old");
  }
}

TEST_P(AtomicFile, DiscardOfNewTargetCreatesNothing) {
  for (bool named : {false, true}) {
    if (named) refuse_o_tmpfile();
    atomic_file f(dir() / "never");
    f.write("x");
    f.discard();
    EXPECT_TRUE(entries().empty());
  }
}

TEST_P(AtomicFile, CloseWithoutCommitIsADiscard) {
  for (bool named : {false, true}) {
    SCOPED_TRACE(named ? "named temporary" : "O_TMPFILE");
    const fs::path target = dir() / "target";
    tftest::spit(target, "old");
    const auto before = entries();
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("x");
      f.close();
      EXPECT_THROW(f.commit(), std::logic_error);
      EXPECT_EQ(tftest::slurp(target), "old");
    }
    EXPECT_EQ(entries(), before);
  }
}

TEST_P(AtomicFile, CommitTwiceIsALogicError) {
  const fs::path target = dir() / "target";
  atomic_file f(target);
  f.write("once");
  f.commit();
  EXPECT_THROW(f.commit(), std::logic_error);
  EXPECT_NO_THROW(f.discard()) << "discard() after commit() does nothing";
  EXPECT_TRUE(f.committed());
  EXPECT_THROW(f.write("more"), std::logic_error);
  EXPECT_THROW((void)f.read(), std::logic_error);
  EXPECT_EQ(tftest::slurp(target), "once");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_P(AtomicFile, MoveKeepsTheTemporaryAndEmptiesTheSource) {
  const fs::path target = dir() / "target";
  atomic_file a(target);
  a.write("moved ");
  atomic_file b(std::move(a));
  EXPECT_TRUE(a.closed());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_TRUE(a.target().empty());
  EXPECT_FALSE(a.committed());
  EXPECT_THROW(a.commit(), std::logic_error);
  EXPECT_NO_THROW(a.discard());
  b.write("content");
  EXPECT_EQ(b.target(), target);
  b.commit();
  EXPECT_EQ(tftest::slurp(target), "moved content");
}

TEST_P(AtomicFile, MoveAssignmentDiscardsTheOverwrittenObject) {
  const fs::path first = dir() / "first";
  const fs::path second = dir() / "second";
  tftest::spit(first, "old first");
  refuse_o_tmpfile();  // a named temporary, so a leftover would show in the listing
  atomic_file f(first);
  f.write("never");
  const auto with_f = entries();
  ASSERT_EQ(with_f.size(), 2u);
  const fs::path f_temp = dir() / (with_f[0] == "first" ? with_f[1] : with_f[0]);
  atomic_file g(second);
  g.write("second");
  f = std::move(g);
  EXPECT_FALSE(fs::exists(f_temp)) << "the overwritten object was discarded";
  EXPECT_EQ(f.target(), second);
  f.commit();
  EXPECT_EQ(tftest::slurp(first), "old first");
  EXPECT_EQ(tftest::slurp(second), "second");
  EXPECT_EQ(entries(), (std::vector<std::string>{"first", "second"}));
}

TEST_P(AtomicFile, SlicedMoveLeavesNoName) {
  refuse_o_tmpfile();
  {
    atomic_file a(dir() / "target");
    tempfile::file sliced = std::move(a);
    sliced.write("still writable");
  }
  EXPECT_TRUE(entries().empty());
}

// --- the named fallback ----------------------------------------------------------------------

TEST_P(AtomicFile, WithoutOTmpfileUsesARelatedNameAndLeavesNoStrayFile) {
  const fs::path target = dir() / "data.json";
  tftest::spit(target, "{}");
  refuse_o_tmpfile();
  atomic_file f(target);
  const auto during = entries();
  ASSERT_EQ(during.size(), 2u);
  const std::string temp = during[0] == "data.json" ? during[1] : during[0];
  EXPECT_EQ(temp.rfind(".data.json.", 0), 0u) << temp;
  EXPECT_EQ(temp.substr(temp.size() - 4), ".tmp") << temp;
  f.write(R"({"a": 1})");
  f.commit();
  EXPECT_EQ(tftest::slurp(target), R"({"a": 1})");
  EXPECT_EQ(entries(), std::vector<std::string>{"data.json"});
}

TEST_P(AtomicFile, LongTargetNameStillFitsATemporaryName) {
  const std::string name(250, 'n');
  for (bool named : {false, true}) {
    if (named) refuse_o_tmpfile();
    atomic_file f(dir() / name);
    f.write(named ? "named" : "unnamed");
    f.commit();
    EXPECT_EQ(tftest::slurp(dir() / name), named ? "named" : "unnamed");
  }
  // A multi-byte UTF-8 name is cut on a character boundary.
  std::string utf8;
  while (utf8.size() < 246) utf8 += "\xC3\xA9";  // U+00E9, two bytes
  refuse_o_tmpfile();
  atomic_file g(dir() / utf8);
  g.write("accent");
  g.commit();
  EXPECT_EQ(tftest::slurp(dir() / utf8), "accent");
  EXPECT_EQ(entries(), (std::vector<std::string>{name, utf8}));
}

TEST_P(AtomicFile, LinkThroughProcWhenAtEmptyPathIsRefused) {
  const fs::path target = dir() / "target";
  atomic_file f(target);
  f.write("via /proc/self/fd");
  // The first linkat (AT_EMPTY_PATH) is refused as for a process without CAP_DAC_READ_SEARCH.
  fault::fail(fault::call::link, 1, ENOENT);
  f.commit();
  EXPECT_EQ(tftest::slurp(target), "via /proc/self/fd");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_P(AtomicFile, UnreadableDirectoryStillCommits) {
  const fs::path target = dir() / "target";
  atomic_file f(target);
  f.write("content");
  // The directory open for the final fsync is refused (a write-only directory).
  fault::fail(fault::call::open, 1, EACCES);
  f.commit();
  EXPECT_EQ(tftest::slurp(target), "content");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_P(AtomicFile, CommitSyncsFileAndDirectory) {
  const fs::path target = dir() / "target";
  atomic_file f(target);
  f.write("durable");
  const auto syncs = fault::calls(fault::call::fsync);
  const auto opens = fault::calls(fault::call::open);
  f.commit();
  EXPECT_EQ(fault::calls(fault::call::fsync) - syncs, 2u) << "the file, then the directory";
  EXPECT_EQ(fault::calls(fault::call::open) - opens, 1u) << "the directory, once";
}

// --- readers during commits -----------------------------------------------------------------

TEST_P(AtomicFile, ReaderSeesOnlyCompleteOldOrNewContent) {
  constexpr std::size_t kSize = 64 * 1024;
  constexpr int kCommits = 200;
  const fs::path target = dir() / "shared";
  tftest::spit(target, std::string(kSize, 'a'));
  std::atomic<bool> done{false};
  std::atomic<long> reads{0};
  std::atomic<long> bad{0};
  std::string first_bad;
  std::thread reader([&] {
    while (!done.load()) {
      const std::string got = tftest::slurp(target);
      bool ok = got.size() == kSize;
      for (std::size_t i = 1; ok && i < got.size(); ++i) ok = got[i] == got[0];
      if (!ok && bad.fetch_add(1) == 0) {
        first_bad = "size " + std::to_string(got.size()) +
                    (got.empty() ? "" : ", first byte " + std::string(1, got[0]));
      }
      reads.fetch_add(1);
    }
  });
  for (int i = 0; i < kCommits; ++i) {
    atomic_file f(target);
    f.write(std::string(kSize, static_cast<char>('b' + i % 20)));
    f.commit();
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0) << first_bad;
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(tftest::slurp(target),
            std::string(kSize, static_cast<char>('b' + (kCommits - 1) % 20)));
  EXPECT_EQ(entries(), std::vector<std::string>{"shared"});
}

// --- failures --------------------------------------------------------------------------------

struct fault_case {
  const char* name;
  fault::call call;
  int error;
  bool at_commit;      // false: the failure surfaces in write()
  bool on_named_path;  // the call is made when the temporary is a named file
};

// Each failure, injected on the first matching call after construction.
const fault_case kFaults[] = {
    {"write_enospc_in_write", fault::call::write, ENOSPC, false, true},
    {"write_enospc_at_commit", fault::call::write, ENOSPC, true, true},
    {"fsync_eio", fault::call::fsync, EIO, true, true},
    {"rename_eio", fault::call::rename, EIO, true, true},
    {"link_eio", fault::call::link, EIO, true, false},
    {"fchmod_eio", fault::call::fchmod, EIO, true, true},
    {"fchown_eio", fault::call::fchown, EIO, true, true},
    {"open_directory_eio", fault::call::open, EIO, true, true},
};

// A target whose replacement needs an fchmod at commit (under umask 077, which narrows what the
// temporary is made with) and, as root, an fchown too (another owner): so that the failures of
// both can be injected. Without root the process cannot own a file it would have to chown.
bool skip_without_root(const fault_case& c) {
  return c.call == fault::call::fchown && ::geteuid() != 0;
}
void make_demanding_target(const fs::path& target) {
  tftest::spit(target, "old");
  fs::permissions(target, static_cast<fs::perms>(0640));
  if (::geteuid() == 0 && ::chown(target.c_str(), 12345, 23456) != 0) {
    throw std::system_error(errno, std::generic_category(), "chown " + target.string());
  }
}

TEST_P(AtomicFile, FailuresLeaveTargetUntouchedAndNoStrayFile) {
  tftest::scoped_umask mask(077);
  for (bool named : {false, true}) {
    for (const fault_case& c : kFaults) {
      if ((named || !o_tmpfile_) && !c.on_named_path) continue;
      if (skip_without_root(c)) continue;
      SCOPED_TRACE(std::string(c.name) + (named ? ", named temporary" : ", O_TMPFILE"));
      const fs::path target = dir() / "target";
      make_demanding_target(target);
      const auto before = entries();
      const auto fds = tftest::open_fd_count();
      {
        if (named) refuse_o_tmpfile();
        atomic_file f(target);
        fault::reset();
        // Big writes go straight to the OS; small ones wait in the buffer until commit().
        const std::string payload = c.at_commit ? std::string("new") : std::string(1 << 20, 'n');
        fault::fail(c.call, 1, c.error);
        const auto e = expect_fs_error([&] {
          f.write(payload);
          f.commit();
        });
        EXPECT_EQ(e.code().value(), c.error);
        if (c.call == fault::call::open) {
          EXPECT_EQ(e.path1(), dir());
        } else {
          EXPECT_EQ(e.path1(), target);
          EXPECT_TRUE(contains(e.what(), target.string())) << e.what();
        }
        EXPECT_FALSE(f.committed());
        EXPECT_EQ(tftest::slurp(target), "old");
        EXPECT_NO_THROW(f.discard());
        EXPECT_TRUE(f.closed());
      }
      EXPECT_EQ(entries(), before);
      EXPECT_EQ(tftest::slurp(target), "old");
      EXPECT_EQ(tftest::open_fd_count(), fds);
      fault::reset();
    }
  }
}

TEST_P(AtomicFile, FailedCommitCanBeRetried) {
  tftest::scoped_umask mask(077);
  for (bool named : {false, true}) {
    for (const fault_case& c : kFaults) {
      if (!c.at_commit || ((named || !o_tmpfile_) && !c.on_named_path)) continue;
      if (skip_without_root(c)) continue;
      SCOPED_TRACE(std::string(c.name) + (named ? ", named temporary" : ", O_TMPFILE"));
      const fs::path target = dir() / "target";
      make_demanding_target(target);
      {
        if (named) refuse_o_tmpfile();
        atomic_file f(target);
        fault::reset();
        f.write("new");
        fault::fail(c.call, 1, c.error);
        EXPECT_THROW(f.commit(), fs::filesystem_error);
        EXPECT_EQ(tftest::slurp(target), "old");
        fault::reset();
        f.commit();
        EXPECT_TRUE(f.committed());
      }
      EXPECT_EQ(tftest::slurp(target), "new");
      EXPECT_EQ(tftest::mode_of(target), 0640u);
      EXPECT_EQ(entries(), std::vector<std::string>{"target"});
    }
  }
}

TEST_P(AtomicFile, FailedDestructionCleanupDoesNotThrow) {
  refuse_o_tmpfile();
  const auto before = entries();
  {
    atomic_file f(dir() / "target");
    f.write("x");
    fault::fail(fault::call::unlink, 1, EIO, 0);
  }  // the temporary cannot be removed: the destructor swallows the error
  fault::reset();
  const auto after = entries();
  ASSERT_EQ(after.size(), before.size() + 1);
  for (const auto& n : after) fs::remove(dir() / n);
}

TEST_P(AtomicFile, DiscardReportsAFailedRemoval) {
  refuse_o_tmpfile();
  atomic_file f(dir() / "target");
  fault::fail(fault::call::unlink, 1, EACCES);
  const auto e = expect_fs_error([&] { f.discard(); });
  EXPECT_EQ(e.code(), std::errc::permission_denied);
  EXPECT_TRUE(f.closed());
  fault::reset();
  for (const auto& n : entries()) fs::remove(dir() / n);
}

TEST_P(AtomicFile, CreationFailureNamesTheTarget) {
  const fs::path target = dir() / "target";
  fault::fail(fault::call::open, 1, EACCES);
  const auto e = expect_fs_error([&] { atomic_file f(target); });
  EXPECT_EQ(e.code(), std::errc::permission_denied);
  EXPECT_EQ(e.path1(), target);
  EXPECT_TRUE(contains(e.what(), target.string())) << e.what();
  // Without O_TMPFILE, a failure of the named creation too (both opens fail).
  fault::reset();
  fault::fail(fault::call::open, 1, EOPNOTSUPP, 2);
  const auto named = expect_fs_error([&] { atomic_file f(target); });
  EXPECT_EQ(named.code(), std::errc::operation_not_supported);
  EXPECT_EQ(named.path1(), target);
  EXPECT_TRUE(entries().empty());
}

// --- reuse ---------------------------------------------------------------------------------------

// Each thread keeps the state of the last atomic_file it disposed of for its next one (with its
// strings' memory). Whatever the one before was and did (a link followed, a mode given, a long
// random part, a named temporary, a failed commit, its target() asked for, discarded), the next
// one starts as new: its own target, directory, mode, random length and kind of temporary.
TEST_P(AtomicFile, EveryAtomicFileStartsAsNewWhateverTheOneBeforeWasAndDid) {
  tftest::scoped_umask mask(022);
  fs::create_directory(dir() / "before");
  fs::create_directory(dir() / "before" / "real");
  fs::create_directory(dir() / "after");
  const fs::path real = dir() / "before" / "real" / "file";
  const fs::path link = dir() / "before" / "link";
  const fs::path plain = dir() / "before" / "plain";
  fs::create_symlink(real, link);
  struct kind {
    const char* name;
    std::function<void()> run;
  };
  const std::vector<kind> befores = {
      {"committed through a link, with a mode and a long random part",
       [&] {
         tftest::spit(real, "old");
         atomic_file f(link, {.random_length = 40, .mode = static_cast<fs::perms>(0604)});
         f.write("linked");
         f.commit();
       }},
      {"discarded, named temporary",
       [&] {
         refuse_o_tmpfile();
         atomic_file f(plain, {.random_length = 12});
         f.write("dropped");
       }},
      {"failed commit, then destroyed",
       [&] {
         tftest::spit(plain, "old");
         fs::permissions(plain, static_cast<fs::perms>(0640));
         atomic_file f(plain);
         f.write("never");
         fault::fail(fault::call::rename, 1, EIO);
         EXPECT_THROW(f.commit(), fs::filesystem_error);
         fault::reset();
       }},
      {"committed after its target() was asked for",
       [&] {
         atomic_file f(plain);
         EXPECT_EQ(f.target(), plain);
         f.write("asked");
         f.commit();
       }},
      {"moved from",
       [&] {
         atomic_file f(plain);
         atomic_file g(std::move(f));
         g.discard();
       }},
      {"its construction failed after it had looked at the target",
       [&] {
         tftest::spit(plain, "old");
         fs::permissions(plain, static_cast<fs::perms>(0640));
         fault::fail(fault::call::open, 1, EACCES);
         EXPECT_THROW(atomic_file f(plain, {.mode = static_cast<fs::perms>(0604)}),
                      fs::filesystem_error);
         fault::reset();
       }},
      {"its named temporary could not be removed (that state is freed, not kept)",
       [&] {
         {
           refuse_o_tmpfile();
           atomic_file f(plain, {.random_length = 20});
           fault::reset();
           fault::fail(fault::call::unlink, 1, EIO, 0);
         }
         fault::reset();
         for (const auto& n : tftest::names_in(dir() / "before")) {
           if (n.rfind(".plain.", 0) == 0) fs::remove(dir() / "before" / n);
         }
       }},
      {"assigned over",
       [&] {
         atomic_file f(plain);
         f.write("dropped");
         atomic_file g(link);
         f = std::move(g);
         f.discard();
       }},
  };
  for (const bool named_after : {false, true}) {
    for (const kind& before : befores) {
      SCOPED_TRACE(std::string(before.name) + (named_after ? ", then named" : ", then O_TMPFILE"));
      before.run();
      fault::reset();
      const fs::path target = dir() / "after" / "new.txt";
      {
        if (named_after) refuse_o_tmpfile();
        atomic_file f(target);
        fault::reset();
        EXPECT_EQ(f.target(), target);
        EXPECT_FALSE(f.committed());
        const std::vector<std::string> during = tftest::names_in(dir() / "after");
        if (named_after || !o_tmpfile_) {
          // A named temporary beside this target, with the default random part of 8.
          ASSERT_EQ(during.size(), 1u);
          EXPECT_EQ(during[0].rfind(".new.txt.", 0), 0u) << during[0];
          EXPECT_EQ(during[0].size(), std::string(".new.txt.").size() + 8 + 4) << during[0];
        } else {
          EXPECT_TRUE(during.empty());
        }
        f.write("after");
        f.commit();
        EXPECT_TRUE(f.committed());
      }
      EXPECT_EQ(tftest::slurp(target), "after");
      EXPECT_EQ(tftest::mode_of(target), 0644u) << "a new target's mode: 0666 less the umask";
      EXPECT_EQ(tftest::names_in(dir() / "after"), std::vector<std::string>{"new.txt"});
      // Nothing of this one went where the one before wrote, and nothing was left there.
      for (const auto& n : tftest::names_in(dir() / "before")) {
        EXPECT_TRUE(n == "real" || n == "link" || n == "plain") << n;
      }
      for (const auto& n : tftest::names_in(dir() / "before" / "real")) {
        EXPECT_EQ(n, "file");
      }
      fs::remove(target);
    }
  }
  EXPECT_EQ(tftest::slurp(real), "linked");
  EXPECT_EQ(tftest::mode_of(real), 0604u);
}

// --- descriptors -----------------------------------------------------------------------------

TEST_P(AtomicFile, NoDescriptorLeaks) {
  const fs::path target = dir() / "target";
  const auto fds = tftest::open_fd_count();
  for (int i = 0; i < 20; ++i) {
    const bool named = i % 2 == 1;
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("commit " + std::to_string(i));
      f.commit();
    }
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("discard");
      f.discard();
    }
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("destroy");
    }
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("failed");
      fault::fail(fault::call::rename, 1, EIO);
      EXPECT_THROW(f.commit(), fs::filesystem_error);
      fault::reset();
    }
    {
      if (named) refuse_o_tmpfile();
      atomic_file f(target);
      f.write("dir sync fails after the rename");
      fault::fail(fault::call::fsync, 2, EIO);  // the file's fsync passes, the directory's fails
      const auto e = expect_fs_error([&] { f.commit(); });
      EXPECT_EQ(e.path1(), dir());
      EXPECT_TRUE(f.committed()) << "the rename happened; only durability is in doubt";
      fault::reset();
    }
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_EQ(tftest::slurp(target), "dir sync fails after the rename");
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

}  // namespace
