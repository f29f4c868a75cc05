/// @file
/// Cleanup when the process is killed: signal handlers and the guardian process.
#pragma once

namespace tempfile {

/// Removes every live named temporary file and directory (those not kept) when the process is
/// killed by SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT.
///
/// "Live" means: a named_temporary_file that would still be deleted, a temporary_directory that
/// would still be removed, and atomic_file's named temporary; only those this process made (not
/// those of a process it was fork()ed from). mkstemp() and mkdtemp() results are not included.
///
/// The handlers use async-signal-safe calls only (no allocation, no locks), then restore the
/// disposition the program had and re-raise, so the process still dies of the same signal and a
/// handler the program installed earlier still runs. Each handler runs once: if the restored
/// disposition does not end the process (the program's own handler returns), the files and
/// directories are gone all the same and that signal is no longer watched. A signal the program
/// ignores when this is called stays ignored; a handler the program installs later replaces
/// this one. After a stack overflow (SIGSEGV) a handler can run only on an alternate signal
/// stack that the program set up (sigaltstack); without one the process dies without cleanup,
/// and only start_guardian() helps. Calling it again does nothing more. Unnamed files
/// (temporary_file, a rolled-over spooled file, atomic_file's O_TMPFILE) need no help: the
/// kernel frees them with the process.
///
/// Errors: std::system_error if a handler cannot be installed.
void enable_signal_cleanup();

/// Starts, once, a small helper process that removes this process's live named temporary files
/// and directories when this process dies in any way: SIGKILL and the OOM killer included.
///
/// The helper is told of each object as it is made and forgotten as it is deleted, kept or
/// persisted (objects that exist when this is called are handed over); it covers the same
/// objects as enable_signal_cleanup(). It cleans up when this process's end of their channel
/// closes: when the process dies, exits with objects still alive, or exec()s another program.
/// It is nobody's child (no zombie to reap), ignores SIGINT, SIGTERM, SIGHUP and SIGQUIT (as
/// sent to a whole process group), holds none of the process's descriptors, and exits as soon as
/// it has cleaned up. It stays in the process group: a SIGKILL sent to the whole group (or
/// cgroup) kills it too. A fork()ed child neither triggers nor delays its cleanup and is not
/// covered by it; the child may call start_guardian() to get a helper of its own. Calling it
/// again does nothing more.
///
/// Errors: std::filesystem::filesystem_error if the helper cannot be started.
void start_guardian();

}  // namespace tempfile
