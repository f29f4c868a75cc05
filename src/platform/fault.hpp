// The test seam of the platform layer: make the Nth call of a chosen system call fail.
//
// Compiled in only when TEMPFILE_FAULT_INJECTION is defined (the library the tests link);
// the released library has no trace of it. Not thread-aware by design: tests that inject faults
// run single-threaded.
#pragma once

#include <cstdint>

namespace tempfile::detail::fault {

/// The system calls the platform layer makes, one entry per call site kind.
enum class call : unsigned {
  open,  // open/openat of a file or directory, O_TMPFILE included
  mkdir,
  close,
  read,   // pread
  write,  // pwrite
  lseek,
  ftruncate,
  fsync,
  fstat,
  stat,  // lstat/fstatat on a path
  unlink,
  rmdir,
  rename,  // rename/renameat2
  link,    // link/linkat
  getrandom,
  fchmod,
  getdents,
  fchown,
  openat,    // openat relative to an open directory (tree walks)
  unlinkat,  // unlinkat relative to an open directory, files and directories
  fchmodat,
  fstatat,
  count_  // number of entries, not a call
};

/// Makes the `nth` (1-based, counted from now) call of `c` fail with `error`, and the `times - 1`
/// calls after it too (times 0: every call from the nth on). EINTR is retried by the platform
/// layer, so never inject EINTR with times 0: the call would retry forever.
void fail(call c, unsigned nth, int error, unsigned times = 1) noexcept;
/// Removes every pending failure and resets the counters.
void reset() noexcept;
/// How many calls of `c` were made (attempted) since the last reset().
std::uint64_t calls(call c) noexcept;

#ifdef TEMPFILE_FAULT_INJECTION
/// Called by the platform layer before each system call: 0, or the errno to fail with.
int check(call c) noexcept;
#define TEMPFILE_FAULT(c) ::tempfile::detail::fault::check(::tempfile::detail::fault::call::c)
#else
#define TEMPFILE_FAULT(c) 0
#endif

}  // namespace tempfile::detail::fault
