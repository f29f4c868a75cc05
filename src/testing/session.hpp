// The part of tmp_path() that knows no test framework: the base directory of the run, the
// directories of the running test and what happens to them when it ends. The GoogleTest and
// Catch2 listeners (gtest.cpp, catch2.cpp) feed it their events.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testing/os.hpp"

namespace tempfile::testing::detail {

/// What becomes of a test's directories when it ends (TEMPFILE_TEST_KEEP).
enum class keep_policy { all, failed, none };

/// `text` with every character but letters, digits, '_', '.' and '-' replaced by '_', cut to at
/// most `max_size` bytes, never empty, never starting with '.' (so never "." or "..").
std::string sanitise(std::string_view text, std::size_t max_size);

/// The state of tmp_path() in this process: one instance, never destroyed (the listeners may
/// run after static destructors started, e.g. from Catch2's fatal signal handler).
class session {
 public:
  static session& instance();

  /// A test called `name` starts; in a fork()ed child this only forgets the previous test.
  void test_started(std::string_view name);
  /// The test starts over (a Catch2 test case runs again for its next section): the next
  /// tmp_path() gives a new directory.
  void run_started();
  /// The directory of the running test; see tmp_path() in tempfile/gtest.hpp.
  std::filesystem::path tmp_path();
  /// The test ended: removes its directories or keeps them. Returns the directories left on
  /// disk (every one when `failed` and the policy keeps failures).
  std::vector<std::filesystem::path> test_ended(bool failed);
  /// The run ends: removes its base if nothing was left in it.
  void program_ended() noexcept;

  /// False in a process that must not remove old bases (a GoogleTest death-test child, which
  /// runs the test again in a new process).
  void set_prune_old_bases(bool prune) noexcept;

 private:
  session();
  void ensure_base();
  std::filesystem::path make_test_directory();

  std::mutex mutex_;
  const std::int64_t owner_ = 0;  // the process whose tests these are; fork()ed children are not
  std::optional<keep_policy> policy_;  // read at the first test's end, so main() may set it
  bool prune_ = true;
  std::filesystem::path base_;     // empty until the first tmp_path() of the run
  os::unique_handle base_handle_;  // holds a shared lock on base_ while this run lives
  bool in_test_ = false;
  std::string name_;                         // the running test, sanitised
  std::filesystem::path current_;            // its directory for the current pass, if made
  std::vector<std::filesystem::path> made_;  // every directory made for the running test
};

}  // namespace tempfile::testing::detail
