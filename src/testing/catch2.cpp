// tmp_path() for Catch2 2.x: a listener fed to the framework-neutral session (session.hpp).
//
// CATCH_REGISTER_LISTENER is a static registrar in this file, which defines tmp_path() too: a
// program that calls tmp_path() links this object and so registers the listener. The
// implementation of Catch2 comes from the program's own CATCH_CONFIG_MAIN (or RUNNER) file.
//
// Catch2 runs a test case once for each leaf section, starting each pass with a section named
// after the test case; every pass gets a directory of its own, and all of them are kept or
// removed together when the test case ends.
// The listener and reporter interfaces are only declared with this.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include "tempfile/catch2.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "testing/session.hpp"

namespace tempfile::testing {

namespace {

class tmp_path_listener final : public Catch::TestEventListenerBase {
 public:
  explicit tmp_path_listener(Catch::ReporterConfig const& config) : TestEventListenerBase(config) {
    detail::session::instance();  // remembers this process as the one whose tests these are
  }

  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    TestEventListenerBase::testCaseStarting(info);
    depth_ = 0;
    detail::session::instance().test_started(info.name);
  }

  void sectionStarting(Catch::SectionInfo const& info) override {
    TestEventListenerBase::sectionStarting(info);
    if (depth_++ == 0) detail::session::instance().run_started();
  }

  void sectionEnded(Catch::SectionStats const& stats) override {
    TestEventListenerBase::sectionEnded(stats);
    if (depth_ > 0) --depth_;
  }

  void testCaseEnded(Catch::TestCaseStats const& stats) override {
    TestEventListenerBase::testCaseEnded(stats);
    // A [!shouldfail] test case that passed is counted as failed here; failures that are
    // allowed ([!mayfail], or expected by [!shouldfail]) are not.
    const bool failed = stats.totals.assertions.failed > 0;
    const auto left = detail::session::instance().test_ended(failed);
    if (!failed) return;
    for (const auto& dir : left) {
      // Standard error, not the reporter's stream, which may be an XML or JUnit report.
      Catch::cerr() << "tmp_path() of '" << stats.testInfo.name << "' kept: " << dir.string()
                    << std::endl;
    }
  }

  void testRunEnded(Catch::TestRunStats const& stats) override {
    TestEventListenerBase::testRunEnded(stats);
    detail::session::instance().program_ended();
  }

 private:
  int depth_ = 0;
};

}  // namespace

CATCH_REGISTER_LISTENER(tmp_path_listener)

std::filesystem::path tmp_path() { return detail::session::instance().tmp_path(); }

}  // namespace tempfile::testing
