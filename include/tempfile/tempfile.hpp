/// @file
/// The umbrella header of tempfile: include this one.
///
/// | Python `tempfile`              | C++                                   |
/// |--------------------------------|---------------------------------------|
/// | `TemporaryFile()`              | `tempfile::temporary_file`            |
/// | `NamedTemporaryFile()`         | `tempfile::named_temporary_file`      |
/// | `SpooledTemporaryFile()`       | `tempfile::spooled_temporary_file`    |
/// | `TemporaryDirectory()`         | `tempfile::temporary_directory`       |
/// | `mkstemp()` / `mkdtemp()`      | `tempfile::mkstemp` / `tempfile::mkdtemp` |
/// | `mktemp()` (unsafe)            | `tempfile::mktemp` (deprecated)       |
/// | `gettempdir()`, `gettempprefix()` | same names                         |
/// | `tempfile.tempdir = X`         | `tempfile::set_tempdir(X)`            |
/// | `delete=False`                 | `.keep = true`, or `keep()` later     |
/// | `f.name`                       | `f.path()`                            |
/// | `f.fileno()`                   | `f.native_handle()`                   |
/// | (none)                         | `tempfile::atomic_file`, `persist`, `reopen` |
/// | (none)                         | `enable_signal_cleanup`, `start_guardian` |
///
/// How names are made, what each kind of crash leaves behind, the fork and thread rules and the
/// differences from Python and Rust are in docs/design.md.
#pragma once

/// @namespace tempfile
/// Temporary files and directories: Python's `tempfile` module for C++20.
///
/// Files: temporary_file (no name), named_temporary_file, spooled_temporary_file (in memory until
/// it grows) and atomic_file (replaces a file all at once), all with the I/O of file.
/// Directories: temporary_directory. Low level: mkstemp(), mkdtemp(), gettempdir(). Crash
/// cleanup: enable_signal_cleanup(), start_guardian(). Every one takes its settings from options.

#include "tempfile/atomic_file.hpp"
#include "tempfile/file.hpp"
#include "tempfile/functions.hpp"
#include "tempfile/named_temporary_file.hpp"
#include "tempfile/options.hpp"
#include "tempfile/signals.hpp"
#include "tempfile/spooled_temporary_file.hpp"
#include "tempfile/temporary_directory.hpp"
#include "tempfile/temporary_file.hpp"
#include "tempfile/version.hpp"
