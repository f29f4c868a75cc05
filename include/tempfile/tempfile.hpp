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
#pragma once

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
