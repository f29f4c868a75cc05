// GNU mktemp templates (src/mktemp_template.hpp): the rules, in GNU's order and wording, the
// joining with the directory, and the creation with GNU's alphabet and modes.
#include "mktemp_template.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>

#include "names.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using tempfile::detail::create_from_template;
using tempfile::detail::mktemp_kind;
using tempfile::detail::mktemp_request;
using tempfile::detail::mktemp_template;
using tempfile::detail::mktemp_template_error;
using tempfile::detail::parse_mktemp_template;

mktemp_request with_template(std::string t) {
  mktemp_request r;
  r.template_arg = std::move(t);
  return r;
}

// The message of the mktemp_template_error that parsing `r` throws, or "" if it succeeds.
std::string refusal(const mktemp_request& r, const char* env = nullptr) {
  try {
    (void)parse_mktemp_template(r, env);
  } catch (const mktemp_template_error& e) {
    return e.what();
  }
  return "";
}

TEST(MktempTemplate, DefaultTemplateImpliesTmpdir) {
  const mktemp_template t = parse_mktemp_template(mktemp_request{}, nullptr);
  EXPECT_EQ(t.text, "/tmp/tmp.XXXXXXXXXX");
  EXPECT_EQ(t.x_count, 10u);
  EXPECT_EQ(t.suffix_length, 0u);
  EXPECT_EQ(parse_mktemp_template(mktemp_request{}, "/var/x").text, "/var/x/tmp.XXXXXXXXXX");
  EXPECT_EQ(parse_mktemp_template(mktemp_request{}, "").text, "/tmp/tmp.XXXXXXXXXX");
}

TEST(MktempTemplate, RelativeTemplateStaysRelative) {
  const mktemp_template t = parse_mktemp_template(with_template("a//fooXXXX"), "/env");
  EXPECT_EQ(t.text, "a//fooXXXX");
  EXPECT_EQ(t.x_count, 4u);
}

TEST(MktempTemplate, ImpliedSuffixIsWhatFollowsTheLastX) {
  const mktemp_template t = parse_mktemp_template(with_template("fooXXXXbar.txt"), nullptr);
  EXPECT_EQ(t.x_count, 4u);
  EXPECT_EQ(t.suffix_length, 7u);
}

TEST(MktempTemplate, SuffixOptionIsAppended) {
  mktemp_request r = with_template("fooXXX");
  r.suffix = "XX.d";
  const mktemp_template t = parse_mktemp_template(r, nullptr);
  EXPECT_EQ(t.text, "fooXXXXX.d");
  EXPECT_EQ(t.x_count, 3u);  // the suffix's own X's are kept
  EXPECT_EQ(t.suffix_length, 4u);
}

TEST(MktempTemplate, RefusalsUseGnuWording) {
  EXPECT_EQ(refusal(with_template("fooXX")), "too few X's in template 'fooXX'");
  EXPECT_EQ(refusal(with_template("")), "too few X's in template ''");
  EXPECT_EQ(refusal(with_template("fooXXX/bar")),
            "invalid suffix '/bar', contains directory separator");
  EXPECT_EQ(refusal(with_template("fooXXX/")), "invalid suffix '/', contains directory separator");
  mktemp_request r = with_template("foo");
  r.suffix = ".txt";
  EXPECT_EQ(refusal(r), "with --suffix, template 'foo' must end in X");
  r = with_template("fooXXX");
  r.suffix = "a/b";
  EXPECT_EQ(refusal(r), "invalid suffix 'a/b', contains directory separator");
  r = with_template("/abs/fooXXX");
  r.use_tmpdir = true;
  EXPECT_EQ(refusal(r), "invalid template, '/abs/fooXXX'; with --tmpdir, it may not be absolute");
  r = with_template("sub/fooXXX");
  r.use_tmpdir = r.t_option = true;
  EXPECT_EQ(refusal(r), "invalid template, 'sub/fooXXX', contains directory separator");
}

TEST(MktempTemplate, RefusalsComeInGnuOrder) {
  // Too few X's and absolute with --tmpdir: the X's are checked first.
  mktemp_request r = with_template("/abs/fooXX");
  r.use_tmpdir = true;
  EXPECT_EQ(refusal(r), "too few X's in template '/abs/fooXX'");
}

TEST(MktempTemplate, SuffixEndingInASlashIsAllowedAsInGnu) {
  // gnulib's last_component("a/") is "a/" itself, so GNU lets it through (mkdir accepts it).
  EXPECT_EQ(refusal(with_template("fooXXXa/")), "");
}

TEST(MktempTemplate, QuotingEscapesWhatWouldConfuse) {
  EXPECT_EQ(tempfile::detail::mktemp_quote("a'b\\c\n"), "'a\\'b\\\\c\\n'");
  EXPECT_EQ(tempfile::detail::mktemp_quote(std::string("\x01", 1)), "'\\001'");
}

TEST(MktempTemplate, TmpdirChoice) {
  mktemp_request r = with_template("fXXX");
  r.use_tmpdir = true;
  EXPECT_EQ(parse_mktemp_template(r, "/env").text, "/env/fXXX");
  r.tmpdir = "/arg";
  EXPECT_EQ(parse_mktemp_template(r, "/env").text, "/arg/fXXX");
  r.tmpdir = "";
  EXPECT_EQ(parse_mktemp_template(r, "/env").text, "/env/fXXX");
  // -t: $TMPDIR first, then -p, then /tmp.
  r.t_option = true;
  r.tmpdir = "/arg";
  EXPECT_EQ(parse_mktemp_template(r, "/env").text, "/env/fXXX");
  EXPECT_EQ(parse_mktemp_template(r, "").text, "/arg/fXXX");
  r.tmpdir.reset();
  EXPECT_EQ(parse_mktemp_template(r, nullptr).text, "/tmp/fXXX");
}

TEST(MktempTemplate, DirectoryJoinsAsFileNameConcat) {
  mktemp_request r = with_template("sub/fXXX");
  r.use_tmpdir = true;
  const auto joined = [&](const char* dir) {
    r.tmpdir = dir;
    return parse_mktemp_template(r, nullptr).text;
  };
  EXPECT_EQ(joined("/tmp"), "/tmp/sub/fXXX");
  EXPECT_EQ(joined("/tmp//"), "/tmp/sub/fXXX");
  EXPECT_EQ(joined("/"), "/sub/fXXX");
  EXPECT_EQ(joined("//"), "//sub/fXXX");
  EXPECT_EQ(joined("a/./"), "a/./sub/fXXX");
  EXPECT_EQ(joined("rel"), "rel/sub/fXXX");
}

class MktempCreate : public ::testing::TestWithParam<tftest::root> {
 protected:
  mktemp_template in_scratch(const std::string& name, std::size_t xs, std::size_t suffix) const {
    return {(dir_.path() / name).string(), xs, suffix};
  }
  tftest::scratch dir_{GetParam().path};
};

bool alnum_only(const std::string& s) {
  for (const char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

TEST_P(MktempCreate, FileReplacesTheXsWithGnuAlphabetAndKeepsTheRest) {
  tftest::scoped_umask mask(022);
  std::error_code ec;
  const std::string name =
      create_from_template(in_scratch("aXXbXXXXXX.x", 6, 2), mktemp_kind::file, ec);
  ASSERT_FALSE(ec) << ec.message();
  const std::string prefix = (dir_.path() / "aXXb").string();
  ASSERT_EQ(name.size(), prefix.size() + 8);
  EXPECT_EQ(name.substr(0, prefix.size()), prefix);
  EXPECT_EQ(name.substr(name.size() - 2), ".x");
  EXPECT_TRUE(alnum_only(name.substr(prefix.size(), 6))) << name;
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(name)));
  EXPECT_EQ(tftest::mode_of(name), 0600u);
}

TEST_P(MktempCreate, ModesAreGnusMinusTheUmask) {
  tftest::scoped_umask mask(0277);
  std::error_code ec;
  const std::string file = create_from_template(in_scratch("fXXX", 3, 0), mktemp_kind::file, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(tftest::mode_of(file), 0400u);
  const std::string dir =
      create_from_template(in_scratch("dXXX", 3, 0), mktemp_kind::directory, ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(tftest::mode_of(dir), 0500u);
  fs::permissions(dir, fs::perms::owner_all);
}

TEST_P(MktempCreate, DryRunCreatesNothingEvenInAMissingDirectory) {
  std::error_code ec;
  const std::string name =
      create_from_template(in_scratch("missing/fXXXXXX", 6, 0), mktemp_kind::dry_run, ec);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(fs::exists(fs::symlink_status(name)));
  EXPECT_TRUE(dir_.entries().empty());
}

TEST_P(MktempCreate, FailureReportsTheErrnoAndLeavesNothing) {
  std::error_code ec;
  const std::string name =
      create_from_template(in_scratch("missing/fXXX", 3, 0), mktemp_kind::file, ec);
  EXPECT_TRUE(name.empty());
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  EXPECT_TRUE(dir_.entries().empty());
}

TEST_P(MktempCreate, TakenNamesAreRetried) {
  // The first name tried exists already: the next one is used.
  tempfile::detail::push_test_names({"AAA", "BBB"});
  tftest::spit(dir_.path() / "fAAA", "");
  std::error_code ec;
  const std::string name = create_from_template(in_scratch("fXXX", 3, 0), mktemp_kind::file, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(name, (dir_.path() / "fBBB").string());
}

TEST_P(MktempCreate, RemoveCreatedRemovesFilesAndDirectories) {
  std::error_code ec;
  const std::string file = create_from_template(in_scratch("fXXX", 3, 0), mktemp_kind::file, ec);
  const std::string dir =
      create_from_template(in_scratch("dXXX", 3, 0), mktemp_kind::directory, ec);
  tempfile::detail::remove_created(file, mktemp_kind::file, ec);
  EXPECT_FALSE(ec);
  tempfile::detail::remove_created(dir, mktemp_kind::directory, ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(dir_.entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Roots, MktempCreate, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

}  // namespace
