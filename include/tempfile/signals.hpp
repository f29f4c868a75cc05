/// @file
/// Cleanup when the process is killed: signal handlers and the guardian process.
#pragma once

namespace tempfile {

/// Removes every live named temporary file and directory (those not kept) when the process is
/// killed by SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT.
///
/// The handlers use async-signal-safe calls only (no allocation, no locks), then restore the
/// disposition the program had and re-raise, so the process still dies of the same signal and a
/// handler the program installed earlier still runs. A signal the program ignores stays ignored.
/// Calling it again does nothing more. Unnamed files (temporary_file, a rolled-over spooled file,
/// atomic_file's O_TMPFILE) need no help: the kernel frees them with the process.
/// Errors: std::system_error if a handler cannot be installed.
void enable_signal_cleanup();

/// Starts, once, a small helper process that removes this process's live named temporary files
/// and directories when this process dies in any way: SIGKILL and the OOM killer included.
///
/// The helper is told of each object as it is made and forgotten as it is deleted, kept or
/// persisted (objects that exist when this is called are handed over). It is nobody's child
/// (no zombie to reap), ignores SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the process group,
/// holds none of the process's descriptors, and exits as soon as it has cleaned up. A fork()ed
/// child neither triggers nor delays its cleanup. Calling it again does nothing more.
/// Errors: std::filesystem::filesystem_error if the helper cannot be started.
void start_guardian();

}  // namespace tempfile
