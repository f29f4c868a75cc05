/// @file
/// tempfile::testing::tmp_path() for GoogleTest: a directory for each test, kept when it fails.
///
/// Link the target `tempfile::gtest` (with `GTest::gtest_main` or your own main()); nothing needs
/// to be registered: linking tmp_path() brings in a listener appended to
/// `testing::UnitTest::GetInstance()->listeners()` before main() runs.
///
/// Python equivalent: pytest's `tmp_path` fixture.
///
/// ```cpp
/// #include <gtest/gtest.h>
/// #include <tempfile/gtest.hpp>
///
/// TEST(Report, WritesCsv) {
///   const std::filesystem::path out = tempfile::testing::tmp_path() / "report.csv";
///   write_report(out);
///   EXPECT_TRUE(std::filesystem::exists(out));
/// }  // passed: the directory is removed; failed: it is kept and its path printed
/// ```
#pragma once

#include <filesystem>

/// @namespace tempfile::testing
/// Helpers for test programs: tmp_path(), a fresh directory for each test (tempfile/gtest.hpp,
/// tempfile/catch2.hpp).
namespace tempfile::testing {

/// The directory of the running test, created (mode 0700) on the first call within the test and
/// returned again on later calls.
///
/// It is `<gettempdir()>/tempfile-tests-<user>/<program>-<N>/<Suite>.<Test>`: one base
/// directory per run of the test program, `<N>` chosen by an exclusive mkdir (parallel runs never
/// share one), the name made of the suite and test names with every character but letters,
/// digits, '_', '.' and '-' replaced by '_' (parameterised and typed tests included), and "-2",
/// "-3"... appended when the name is taken (as with `--gtest_repeat`). When the test ends the
/// directory is removed if it passed (or was skipped); if it failed it is kept and its path
/// printed on standard output just above GoogleTest's `[  FAILED  ]` line (and recorded as the
/// test's property `tmp_path` in XML and JSON reports). TEMPFILE_TEST_KEEP=all keeps every
/// directory, =none removes every one, =failed is the default. At the creation of a base, the bases
/// of this program older than the last three runs are removed (not those of runs still going); a
/// base left empty at the end of its run is removed then. A fork()ed child gets the directory its
/// parent made, never creates or removes one. Thread-safe.
///
/// Errors: std::logic_error outside a test (e.g. in SetUpTestSuite()), or when first called in a
/// fork()ed child of the test (call it before fork()); std::filesystem::filesystem_error naming
/// the directory that cannot be created or used.
///
/// Security: the per-user directory must be owned by the user and not be a symbolic link, or it
/// is refused (group and other permissions found on it are removed); bases and test directories
/// are created 0700. Removal never follows a symbolic link out of the tree.
///
/// Python equivalent: pytest's `tmp_path` (with `tmp_path_retention_policy`).
///
/// Catch2: tempfile/catch2.hpp declares this same function; what differs there is said in that
/// header's description.
[[nodiscard]] std::filesystem::path tmp_path();

}  // namespace tempfile::testing
