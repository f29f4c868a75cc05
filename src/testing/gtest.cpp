// tmp_path() for GoogleTest: a listener fed to the framework-neutral session (session.hpp).
//
// The listener is appended to the framework's listeners by a static initialiser in this file,
// which defines tmp_path() too: a program that calls tmp_path() links this object, so it gets
// the listener with GTest::gtest_main as well as with its own main(). Appended after the
// default printer, its OnTestEnd runs before the printer's (GoogleTest calls end events in
// reverse order), so the kept path is printed just above the "[  FAILED  ]" line.
#include "tempfile/gtest.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "testing/session.hpp"

namespace tempfile::testing {

namespace {

/// True in the child process of a "threadsafe" death test, which runs the test again.
bool in_death_test_child() {
#ifdef GTEST_FLAG_GET
  const std::string flag = GTEST_FLAG_GET(internal_run_death_test);
#else
  const std::string flag = ::testing::GTEST_FLAG(internal_run_death_test);
#endif
  return !flag.empty();
}

std::string full_name(const ::testing::TestInfo& info) {
  return std::string(info.test_suite_name()) + "." + info.name();
}

class tmp_path_listener final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo& info) override {
    auto& s = detail::session::instance();
    // Such a child would otherwise prune bases as a run of its own; it still gets a base, as
    // the test it repeats may call tmp_path() before the statement that is to die.
    s.set_prune_old_bases(!in_death_test_child());
    s.test_started(full_name(info));
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    const bool failed = info.result()->Failed();
    const auto left = detail::session::instance().test_ended(failed);
    if (!failed) return;
    for (const auto& dir : left) {
      std::printf("tmp_path() of %s kept: %s\n", full_name(info).c_str(), dir.c_str());
      ::testing::Test::RecordProperty("tmp_path", dir.string());
    }
    std::fflush(stdout);
  }

  void OnTestProgramEnd(const ::testing::UnitTest& /*unit_test*/) override {
    detail::session::instance().program_ended();
  }
};

bool append_listener() {
  detail::session::instance();  // remembers this process as the one whose tests these are
  ::testing::UnitTest::GetInstance()->listeners().Append(new tmp_path_listener);
  return true;
}

[[maybe_unused]] const bool appended = append_listener();

}  // namespace

std::filesystem::path tmp_path() { return detail::session::instance().tmp_path(); }

}  // namespace tempfile::testing
