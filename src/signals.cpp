// enable_signal_cleanup() and start_guardian(): the public face of the registry.
#include "tempfile/signals.hpp"

#include <system_error>

#include "guardian.hpp"
#include "platform/platform.hpp"
#include "registry.hpp"
#include "remove_tree.hpp"

namespace tempfile {

namespace {

void remove_entry(const char* path, detail::registry::kind k, detail::registry::ticket, void*) {
  if (k == detail::registry::kind::directory) {
    detail::remove_tree_signal_safe(path);
  } else {
    detail::platform::unlink_path(path);
  }
}

// Runs inside a signal handler: async-signal-safe calls only.
void cleanup_registered() noexcept { detail::registry::for_each(&remove_entry, nullptr); }

}  // namespace

void enable_signal_cleanup() {
  std::error_code ec;
  detail::platform::install_signal_handlers(&cleanup_registered, ec);
  if (ec) throw std::system_error(ec, "tempfile: cannot install signal handlers");
}

void start_guardian() { detail::guardian::start(); }

}  // namespace tempfile
