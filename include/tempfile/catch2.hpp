/// @file
/// tempfile::testing::tmp_path() for Catch2 (2.x): a directory for each test case, kept when it
/// fails.
///
/// Link the target `tempfile::catch2`; nothing needs to be registered: linking tmp_path() brings
/// in a listener registered with CATCH_REGISTER_LISTENER.
///
/// This header declares the same function as tempfile/gtest.hpp, documented there; under Catch2
/// it differs in these points. The directory is named after the test case
/// (`<gettempdir()>/tempfile-tests-<user>/<program>-<N>/<test case name>`, sanitised the same
/// way). Each pass through a test case with sections gets a fresh directory, as it gets fresh
/// local variables, and all of them are kept or removed together when the test case ends. A
/// test case counts as failed when one of its assertions failed and was not allowed to
/// (`[!mayfail]`, or expected by `[!shouldfail]`); the paths it keeps are printed on standard
/// error, not in the reporter's output.
///
/// Python equivalent: pytest's `tmp_path` fixture.
#pragma once

#include <filesystem>

namespace tempfile::testing {

/// @cond TEMPFILE_DOXYGEN_SKIP
// The reference documents tmp_path() once, from tempfile/gtest.hpp: one function cannot carry two
// descriptions. The comment below is for readers of this header.

/// The directory of the running test case, created (mode 0700) on the first call within the run
/// of the test case and returned again on later calls.
///
/// It is `<gettempdir()>/tempfile-tests-<user>/<program>-<N>/<test case name>`: one base
/// directory per run of the test program, `<N>` chosen by an exclusive mkdir (parallel runs never
/// share one), the name made of the test case's with every character but letters, digits, '_',
/// '.' and '-' replaced by '_', and "-2", "-3"... appended when the name is taken. Each pass
/// through a test case with sections gets a fresh directory, as it gets fresh local variables.
/// When the test case ends its directories are removed if it passed; if it failed they are kept
/// and their paths printed on standard error. TEMPFILE_TEST_KEEP=all keeps every directory,
/// =none removes every one, =failed is the default. At the creation of a base, the bases of this
/// program older than the last three runs are removed (not those of runs still going); a base
/// left empty at the end of its run is removed then. A fork()ed child gets the directory its
/// parent made, never creates or removes one. Thread-safe.
///
/// Errors: std::logic_error outside a test case, or when first called in a fork()ed child (call
/// it before fork()); std::filesystem::filesystem_error naming the directory that cannot be
/// created or used.
///
/// Security: the per-user directory must be owned by the user and not be a symbolic link, or it
/// is refused (group and other permissions found on it are removed); bases and test directories
/// are created 0700. Removal never follows a symbolic link out of the tree.
///
/// Python equivalent: pytest's `tmp_path` (with `tmp_path_retention_policy`).
[[nodiscard]] std::filesystem::path tmp_path();

/// @endcond

}  // namespace tempfile::testing
