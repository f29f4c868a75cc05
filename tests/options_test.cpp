// tempfile::options and validate(): bad options are rejected with std::invalid_argument by every
// creator, before anything touches the disk.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <tempfile/tempfile.hpp>
#include <type_traits>
#include <vector>

#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;

// One way of creating something from options; it cleans up whatever it made.
struct creator {
  std::string name;
  std::function<void(const tempfile::options&)> create;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
fs::path call_mktemp(const tempfile::options& o) { return tempfile::mktemp(o); }
#pragma GCC diagnostic pop

std::vector<creator> creators() {
  return {
      {"mkstemp",
       [](const tempfile::options& o) {
         auto r = tempfile::mkstemp(o);
         ::close(r.fd);
         fs::remove(r.path);
       }},
      {"mkdtemp", [](const tempfile::options& o) { fs::remove(tempfile::mkdtemp(o)); }},
      {"mktemp", [](const tempfile::options& o) { (void)call_mktemp(o); }},
      {"temporary_file", [](const tempfile::options& o) { tempfile::temporary_file f(o); }},
      {"named_temporary_file",
       [](const tempfile::options& o) { tempfile::named_temporary_file f(o); }},
      {"spooled_temporary_file",
       [](const tempfile::options& o) {
         tempfile::spooled_temporary_file f(o);
         f.rollover();
       }},
  };
}

// The disk calls a creator makes; all must stay at zero when the options are rejected.
std::uint64_t disk_calls() {
  std::uint64_t n = 0;
  for (call c : {call::open, call::mkdir, call::stat, call::unlink, call::link, call::rename}) {
    n += fault::calls(c);
  }
  return n;
}

struct bad_case {
  std::string label;
  std::function<void(tempfile::options&)> spoil;
};

std::vector<bad_case> bad_cases() {
  return {
      {"prefix with slash", [](tempfile::options& o) { o.prefix = "a/b"; }},
      {"prefix only a slash", [](tempfile::options& o) { o.prefix = "/"; }},
      {"prefix escaping upwards", [](tempfile::options& o) { o.prefix = "../"; }},
      {"prefix with NUL", [](tempfile::options& o) { o.prefix = std::string("a\0b", 3); }},
      {"suffix with slash", [](tempfile::options& o) { o.suffix = ".d/x"; }},
      {"suffix with trailing slash", [](tempfile::options& o) { o.suffix = "/"; }},
      {"suffix with NUL", [](tempfile::options& o) { o.suffix = std::string(".t\0xt", 5); }},
      {"random_length 5", [](tempfile::options& o) { o.random_length = 5; }},
      {"random_length 0", [](tempfile::options& o) { o.random_length = 0; }},
      {"random_length 256", [](tempfile::options& o) { o.random_length = 256; }},
      {"mode outside 07777", [](tempfile::options& o) { o.mode = static_cast<fs::perms>(010600); }},
  };
}

class OptionsValidation : public ::testing::TestWithParam<creator> {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }
  tftest::scratch dir_{tftest::roots().front().path};
};

TEST_P(OptionsValidation, RejectsBadOptionsBeforeTouchingTheDisk) {
  for (const bad_case& bad : bad_cases()) {
    SCOPED_TRACE(bad.label);
    tempfile::options o;
    o.dir = dir_.path();
    bad.spoil(o);
    fault::reset();
    EXPECT_THROW(GetParam().create(o), std::invalid_argument);
    EXPECT_EQ(disk_calls(), 0u);
    EXPECT_TRUE(dir_.entries().empty());
  }
}

TEST_P(OptionsValidation, MissingDirectoryStillGivesInvalidArgument) {
  for (const bad_case& bad : bad_cases()) {
    SCOPED_TRACE(bad.label);
    tempfile::options o;
    o.dir = dir_.path() / "missing" / "deeper";
    bad.spoil(o);
    fault::reset();
    EXPECT_THROW(GetParam().create(o), std::invalid_argument);
    EXPECT_EQ(disk_calls(), 0u);
    EXPECT_FALSE(fs::exists(dir_.path() / "missing"));
  }
}

TEST_P(OptionsValidation, NoDirectoryGivenStillValidatesFirst) {
  // With an empty dir the directory search is never started for bad options.
  tempfile::options o;
  o.prefix = "x/y";
  fault::reset();
  EXPECT_THROW(GetParam().create(o), std::invalid_argument);
  EXPECT_EQ(disk_calls(), 0u);
}

TEST_P(OptionsValidation, AcceptsTheLimitsAndOrdinaryText) {
  // The rejections above must not come from a creator that rejects everything.
  for (std::size_t len : {std::size_t{6}, std::size_t{8}, std::size_t{200}}) {
    tempfile::options o;
    o.dir = dir_.path();
    o.prefix = "a.b-c ";
    o.suffix = ".t~";
    o.random_length = len;
    EXPECT_NO_THROW(GetParam().create(o)) << "random_length " << len;
  }
  tempfile::options o;
  o.dir = dir_.path();
  o.prefix = "";
  o.suffix = "";
  o.random_length = 255;  // the longest name a file system takes
  EXPECT_NO_THROW(GetParam().create(o));
  EXPECT_TRUE(dir_.entries().empty());
}

std::string creator_name(const ::testing::TestParamInfo<creator>& p) { return p.param.name; }

INSTANTIATE_TEST_SUITE_P(AllCreators, OptionsValidation, ::testing::ValuesIn(creators()),
                         creator_name);

TEST(Options, Defaults) {
  const tempfile::options o;
  EXPECT_EQ(o.prefix, "tmp");
  EXPECT_EQ(o.prefix, tempfile::gettempprefix());
  EXPECT_EQ(o.suffix, "");
  EXPECT_TRUE(o.dir.empty());
  EXPECT_FALSE(o.keep);
  EXPECT_TRUE(o.delete_on_close);
  EXPECT_FALSE(o.ignore_cleanup_errors);
  EXPECT_EQ(o.max_size, 0u);
  EXPECT_EQ(o.random_length, 8u);
  EXPECT_FALSE(o.mode.has_value());
}

TEST(Options, DesignatedInitialisersInContractOrder) {
  const tempfile::options o{.prefix = "my_",
                            .suffix = ".txt",
                            .dir = "/tmp",
                            .keep = true,
                            .delete_on_close = false,
                            .ignore_cleanup_errors = true,
                            .max_size = 10,
                            .random_length = 12,
                            .mode = fs::perms::owner_read};
  EXPECT_EQ(o.prefix, "my_");
  EXPECT_EQ(o.suffix, ".txt");
  EXPECT_EQ(o.dir, fs::path("/tmp"));
  EXPECT_TRUE(o.keep);
  EXPECT_FALSE(o.delete_on_close);
  EXPECT_TRUE(o.ignore_cleanup_errors);
  EXPECT_EQ(o.max_size, 10u);
  EXPECT_EQ(o.random_length, 12u);
  EXPECT_EQ(o.mode, fs::perms::owner_read);
}

TEST(Options, ValidateDirectly) {
  EXPECT_NO_THROW(tempfile::validate({}));
  EXPECT_NO_THROW(tempfile::validate({.prefix = "", .suffix = "", .random_length = 6}));
  EXPECT_THROW(tempfile::validate({.prefix = "a/"}), std::invalid_argument);
  EXPECT_THROW(tempfile::validate({.suffix = "/b"}), std::invalid_argument);
  EXPECT_THROW(tempfile::validate({.prefix = std::string(1, '\0')}), std::invalid_argument);
  EXPECT_THROW(tempfile::validate({.suffix = std::string(1, '\0')}), std::invalid_argument);
  EXPECT_THROW(tempfile::validate({.random_length = 5}), std::invalid_argument);
  EXPECT_NO_THROW(tempfile::validate({.mode = fs::perms::all}));
  EXPECT_NO_THROW(tempfile::validate({.mode = static_cast<fs::perms>(07777)}));
}

TEST(Options, MessageNamesTheProblem) {
  try {
    tempfile::validate({.prefix = "bad/prefix"});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("prefix"), std::string::npos) << e.what();
  }
  try {
    tempfile::validate({.random_length = 3});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("random_length"), std::string::npos) << e.what();
  }
}

}  // namespace
