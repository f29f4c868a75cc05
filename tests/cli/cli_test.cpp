// The `tempfile` command in-process, through tempfile::cli::run(): dispatch, help, the getopt
// equivalent, mktemp, sponge and dir. (GNU compatibility is checked side by side by
// mktemp_compat.sh; `run` is checked through the executable by run_test.cpp.)
#include "cli.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "getopt.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

struct result {
  int status;
  std::string out;
  std::string err;
};

result run(std::initializer_list<std::string> args, const std::string& input = "") {
  const std::vector<std::string> argv(args);
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  const int status = tempfile::cli::run(argv, in, out, err);
  return {status, out.str(), err.str()};
}

// A stream whose every write fails, as stdout on a full disk.
class failing_buf : public std::streambuf {
 protected:
  int_type overflow(int_type) override { return traits_type::eof(); }
  std::streamsize xsputn(const char*, std::streamsize) override { return 0; }
};

// Sets an environment variable for its lifetime.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string chomp(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// --- dispatch and help ---------------------------------------------------------------------------

TEST(Cli, HelpListsEverySubcommand) {
  const result r = run({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.err.empty());
  for (const char* command : {"mktemp", "run", "sponge", "dir"}) {
    EXPECT_NE(r.out.find(std::string("  ") + command + " "), std::string::npos) << command;
  }
}

TEST(Cli, EverySubcommandHasHelpAndVersion) {
  for (const char* command : {"mktemp", "run", "sponge", "dir"}) {
    const result help = run({command, "--help"});
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_NE(help.out.find(std::string("Usage: tempfile ") + command), std::string::npos)
        << help.out;
    EXPECT_TRUE(help.err.empty()) << command;
    const result version = run({command, "--version"});
    EXPECT_EQ(version.status, 0) << command;
    EXPECT_NE(version.out.find("(tempfile)"), std::string::npos) << version.out;
  }
  EXPECT_EQ(run({"--version"}).status, 0);
}

TEST(Cli, MissingOrUnknownCommandFails) {
  const result none = run({});
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("Try 'tempfile --help'"), std::string::npos) << none.err;
  const result unknown = run({"frobnicate"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("'frobnicate'"), std::string::npos) << unknown.err;
  EXPECT_TRUE(unknown.out.empty());
}

TEST(Cli, HelpThatCannotBeWrittenIsAnError) {
  failing_buf buf;
  std::ostream out(&buf);
  std::istringstream in;
  std::ostringstream err;
  const std::vector<std::string> args{"--help"};
  EXPECT_EQ(tempfile::cli::run(args, in, out, err), 1);
  EXPECT_NE(err.str().find("write error"), std::string::npos) << err.str();
}

// --- the getopt equivalent -------------------------------------------------------------------

using tempfile::cli::long_option;
using tempfile::cli::parse_args;
using tempfile::cli::takes;

constexpr long_option kLong[] = {
    {"directory", takes::none, 'd'},
    {"dry-run", takes::none, 'u'},
    {"suffix", takes::required, 1},
    {"tmpdir", takes::optional, 2},
};

tempfile::cli::parsed_args parse(std::initializer_list<std::string> args,
                                 const char* shorts = "dp:u") {
  const std::vector<std::string> v(args);
  return parse_args(v, shorts, kLong);
}

TEST(Getopt, PermutesOperandsAndOptions) {
  const auto p = parse({"a", "-d", "b", "--", "-u"});
  ASSERT_TRUE(p.error.empty()) << p.error;
  ASSERT_EQ(p.options.size(), 1u);
  EXPECT_EQ(p.options[0].id, 'd');
  EXPECT_EQ(p.operands, (std::vector<std::string>{"a", "b", "-u"}));
}

TEST(Getopt, PlusStopsAtTheFirstOperand) {
  const auto p = parse({"-d", "cmd", "-u"}, "+dp:u");
  ASSERT_TRUE(p.error.empty());
  EXPECT_EQ(p.options.size(), 1u);
  EXPECT_EQ(p.operands, (std::vector<std::string>{"cmd", "-u"}));
}

TEST(Getopt, PosixlyCorrectStopsAtTheFirstOperand) {
  scoped_env env("POSIXLY_CORRECT", "1");
  const auto p = parse({"x", "-d"});
  EXPECT_TRUE(p.options.empty());
  EXPECT_EQ(p.operands, (std::vector<std::string>{"x", "-d"}));
}

TEST(Getopt, ShortOptionArguments) {
  auto p = parse({"-dpDIR", "-p", "OTHER", "-"});
  ASSERT_TRUE(p.error.empty());
  ASSERT_EQ(p.options.size(), 3u);
  EXPECT_EQ(*p.options[1].value, "DIR");
  EXPECT_EQ(*p.options[2].value, "OTHER");
  EXPECT_EQ(p.operands, (std::vector<std::string>{"-"}));
  p = parse({"-p"});
  EXPECT_EQ(p.error, "option requires an argument -- 'p'");
  p = parse({"-dz"});
  EXPECT_EQ(p.error, "invalid option -- 'z'");
  EXPECT_EQ(p.options.size(), 1u);  // what came before the error
}

TEST(Getopt, LongOptionsAndAbbreviations) {
  auto p = parse({"--dir", "--suf", ".x", "--suffix=.y", "--tmp", "--tmpdir=/t"});
  ASSERT_TRUE(p.error.empty()) << p.error;
  ASSERT_EQ(p.options.size(), 5u);
  EXPECT_EQ(p.options[0].id, 'd');
  EXPECT_EQ(*p.options[1].value, ".x");
  EXPECT_EQ(*p.options[2].value, ".y");
  EXPECT_FALSE(p.options[3].value.has_value());  // optional argument only with '='
  EXPECT_EQ(*p.options[4].value, "/t");
  EXPECT_EQ(parse({"--d"}).error,
            "option '--d' is ambiguous; possibilities: '--directory' '--dry-run'");
  EXPECT_EQ(parse({"--nope=1"}).error, "unrecognized option '--nope=1'");
  EXPECT_EQ(parse({"--directory=1"}).error, "option '--directory' doesn't allow an argument");
  EXPECT_EQ(parse({"--suffix"}).error, "option '--suffix' requires an argument");
}

// --- mktemp
// ----------------------------------------------------------------------------------------

class Mktemp : public ::testing::Test {
 protected:
  tftest::scratch dir_{tftest::roots().front().path};
};

TEST_F(Mktemp, CreatesAFileInTheGivenDirectory) {
  tftest::scoped_umask mask(022);
  const result r = run({"mktemp", "-p", dir_.path().string(), "fooXXXXXX.txt"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty());
  const fs::path made = chomp(r.out);
  EXPECT_EQ(made.parent_path(), dir_.path());
  EXPECT_EQ(made.filename().string().size(), std::string("fooXXXXXX.txt").size());
  EXPECT_TRUE(fs::is_regular_file(made));
  EXPECT_EQ(tftest::mode_of(made), 0600u);
}

TEST_F(Mktemp, DirectoryAndDryRun) {
  const result d = run({"mktemp", "-d", "--tmpdir=" + dir_.path().string()});
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_TRUE(fs::is_directory(chomp(d.out)));
  const result u = run({"mktemp", "-u", "-p", dir_.path().string()});
  ASSERT_EQ(u.status, 0) << u.err;
  EXPECT_FALSE(fs::exists(chomp(u.out)));
  EXPECT_EQ(dir_.entries().size(), 1u);
}

TEST_F(Mktemp, TmpdirFromTheEnvironment) {
  scoped_env env("TMPDIR", dir_.path().c_str());
  const result r = run({"mktemp"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(fs::path(chomp(r.out)).parent_path(), dir_.path());
  EXPECT_EQ(fs::path(chomp(r.out)).filename().string().substr(0, 4), "tmp.");
}

TEST_F(Mktemp, FailuresAndQuiet) {
  const std::string missing = (dir_.path() / "missing").string();
  const result loud = run({"mktemp", "-p", missing});
  EXPECT_EQ(loud.status, 1);
  EXPECT_TRUE(loud.out.empty());
  EXPECT_NE(loud.err.find("failed to create file via template '" + missing + "/tmp.XXXXXXXXXX'"),
            std::string::npos)
      << loud.err;
  const result quiet = run({"mktemp", "-q", "-p", missing});
  EXPECT_EQ(quiet.status, 1);
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
  // -q silences only creation failures.
  const result few = run({"mktemp", "-q", "fooXX"});
  EXPECT_EQ(few.status, 1);
  EXPECT_EQ(few.err, "tempfile mktemp: too few X's in template 'fooXX'\n");
  const result many = run({"mktemp", "aXXX", "bXXX"});
  EXPECT_EQ(many.status, 1);
  EXPECT_NE(many.err.find("too many templates"), std::string::npos);
  EXPECT_NE(many.err.find("Try 'tempfile mktemp --help'"), std::string::npos);
}

TEST_F(Mktemp, NameThatCannotBeWrittenIsRemoved) {
  for (const char* kind : {"-q", "-d"}) {
    failing_buf buf;
    std::ostream out(&buf);
    std::istringstream in;
    std::ostringstream err;
    const std::vector<std::string> args{"mktemp", kind, "-p", dir_.path().string()};
    EXPECT_EQ(tempfile::cli::run(args, in, out, err), 1) << kind;
    EXPECT_TRUE(dir_.entries().empty()) << kind;
    EXPECT_EQ(err.str().empty(), std::string(kind) == "-q") << err.str();
  }
}

TEST_F(Mktemp, RepeatedInProcessCallsParseAfresh) {
  // No getopt state survives a call: the same arguments give the same answer every time.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run({"mktemp", "-z"}).status, 1);
    const result r = run({"mktemp", "-u", "-p", dir_.path().string(), "xXXX"});
    EXPECT_EQ(r.status, 0) << r.err;
  }
}

// --- sponge
// ----------------------------------------------------------------------------------------

class Sponge : public ::testing::Test {
 protected:
  tftest::scratch dir_{tftest::roots().front().path};
};

TEST_F(Sponge, WritesANewFile) {
  tftest::scoped_umask mask(022);
  const fs::path target = dir_.path() / "out";
  const result r = run({"sponge", target.string()}, "hello\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(tftest::slurp(target), "hello\n");
  EXPECT_EQ(tftest::mode_of(target), 0644u);
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{"out"});
}

TEST_F(Sponge, KeepsTheModeAndAppends) {
  const fs::path target = dir_.path() / "out";
  tftest::spit(target, "old\n");
  fs::permissions(target, fs::perms(0640));
  ASSERT_EQ(run({"sponge", "-a", target.string()}, "new\n").status, 0);
  EXPECT_EQ(tftest::slurp(target), "old\nnew\n");
  EXPECT_EQ(tftest::mode_of(target), 0640u);
  ASSERT_EQ(run({"sponge", "--append", target.string()}, "").status, 0);
  EXPECT_EQ(tftest::slurp(target), "old\nnew\n");
  ASSERT_EQ(run({"sponge", target.string()}, "").status, 0);
  EXPECT_EQ(tftest::slurp(target), "");
  EXPECT_EQ(tftest::mode_of(target), 0640u);
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{"out"});
}

TEST_F(Sponge, InputPastTheMemoryLimitSpillsAndNothingIsLeft) {
  std::string big(20u << 20, 'x');
  big += "end";
  const fs::path target = dir_.path() / "out";
  ASSERT_EQ(run({"sponge", target.string()}, big).status, 0);
  EXPECT_EQ(fs::file_size(target), big.size());
  EXPECT_EQ(dir_.entries(), std::vector<std::string>{"out"});
}

TEST_F(Sponge, NoFileCopiesToStdout) {
  const result r = run({"sponge"}, std::string("a\0b", 3));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, std::string("a\0b", 3));
}

TEST_F(Sponge, ErrorsNameTheFile) {
  const fs::path target = dir_.path() / "missing" / "out";
  const result r = run({"sponge", target.string()}, "x");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(target.string()), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("filesystem error"), std::string::npos) << r.err;
  EXPECT_EQ(run({"sponge", "a", "b"}).status, 1);
}

// --- dir
// -------------------------------------------------------------------------------------------

TEST(Dir, PrintsGettempdir) {
  const result r = run({"dir"});
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path printed = chomp(r.out);
  EXPECT_TRUE(printed.is_absolute());
  EXPECT_TRUE(fs::is_directory(printed));
  EXPECT_EQ(run({"dir", "extra"}).status, 1);
}

}  // namespace
