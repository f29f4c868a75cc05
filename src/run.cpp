#include "run.hpp"

#include <optional>
#include <utility>

#include "platform/process.hpp"
#include "tempfile/options.hpp"
#include "tempfile/temporary_directory.hpp"

// The guardian removes the directory even when this process is killed with SIGKILL; `run`'s own
// signal forwarding covers every other death.
#include "tempfile/signals.hpp"

namespace tempfile::detail {

namespace {

run_failure failure_of(platform::spawn_stage stage, std::error_code ec) {
  switch (stage) {
    case platform::spawn_stage::exec:
      return ec == std::errc::no_such_file_or_directory ? run_failure::not_found
                                                        : run_failure::not_executable;
    case platform::spawn_stage::namespaces: return run_failure::namespaces;
    case platform::spawn_stage::working_directory: return run_failure::working_directory;
    case platform::spawn_stage::none:
    case platform::spawn_stage::prepare: break;
  }
  return run_failure::spawn;
}

int status_of(run_failure f) {
  switch (f) {
    case run_failure::not_found: return 127;
    case run_failure::not_executable: return 126;
    default: return kRunOwnFailure;
  }
}

// Undoes hold_signals() and the signal forwarding on every way out, exceptions included; made
// before the directory, so that it is undone only after the directory is gone.
struct forwarding_guard {
  forwarding_guard() = default;
  forwarding_guard(const forwarding_guard&) = delete;
  forwarding_guard& operator=(const forwarding_guard&) = delete;
  ~forwarding_guard() { platform::stop_forwarding(); }
};

}  // namespace

run_outcome run_command(const run_request& request,
                        const std::function<void(const std::filesystem::path&)>& created) {
  run_outcome outcome;
  // GUARDIAN CALL SITE: before the directory exists, so that it is registered with the guardian.
  // Without it, everything but SIGKILL of this process is still covered: run on, and say so.
  try {
    tempfile::start_guardian();
  } catch (...) {
    outcome.guardian_error = std::current_exception();
  }
  // From here on a SIGINT/SIGTERM/SIGHUP waits for the command and is forwarded to it; if no
  // command starts, it is delivered when the guard goes, after the directory is gone.
  platform::hold_signals();
  const forwarding_guard forwarding;
  options opts;
  opts.prefix = request.prefix;
  opts.dir = request.dir;
  opts.keep = request.keep;
  temporary_directory dir(opts);
  if (created) created(dir.path());

  platform::spawn_request spawn;
  spawn.argv = request.command;
  const std::filesystem::path inside = request.private_tmp ? "/tmp" : dir.path();
  for (const char* name : {"TMPDIR", "TMP", "TEMP"}) {
    spawn.environment.emplace_back(name, inside.native());
  }
  if (request.cd) spawn.working_directory = inside;
  if (request.private_tmp) spawn.private_tmp = dir.path();

  platform::spawn_stage stage = platform::spawn_stage::none;
  std::error_code ec;
  const std::int64_t pid = platform::spawn_child(spawn, stage, ec);
  if (pid < 0) {
    outcome.failure = failure_of(stage, ec);
    outcome.error = ec;
    outcome.status = status_of(outcome.failure);
  } else {
    const platform::child_exit end = platform::wait_child(pid, ec);
    if (ec) {
      outcome.failure = run_failure::wait;
      outcome.error = ec;
      outcome.status = kRunOwnFailure;
    } else {
      outcome.status = end.signaled ? 128 + end.value : end.value;
    }
  }

  // Still forwarding (to nobody): a signal now cannot stop the removal half-way.
  if (!request.keep) {
    try {
      dir.cleanup();
    } catch (...) {
      outcome.cleanup_error = std::current_exception();
      if (outcome.status == 0) outcome.status = kRunOwnFailure;
    }
  }
  return outcome;
}

}  // namespace tempfile::detail
