#include "tempfile/named_temporary_file.hpp"

#include <stdexcept>

#include "create.hpp"
#include "error.hpp"
#include "file_state.hpp"

namespace tempfile {

namespace {

detail::state_ptr make_named(const options& opts) {
  // The state first: nothing may fail between creating the file and owning it.
  detail::state_ptr state = detail::new_state();
  // The path is laid out in the state's own string: a state kept from an earlier file comes with
  // its memory (see new_state()).
  const detail::platform::handle fd =
      detail::create_entry(opts, detail::entry_kind::file, state->path.text_to_fill());
  state->delete_on_close = opts.delete_on_close;
  state->adopt(fd);
  if (!opts.keep) state->arm();
  return state;
}

const std::filesystem::path& empty_path() noexcept {
  static const std::filesystem::path empty;
  return empty;
}

detail::file_state& named_state(detail::file_state* s, const char* operation) {
  if (s == nullptr) {
    throw std::logic_error(std::string("tempfile: ") + operation + " on a moved-from file");
  }
  if (s->deleted) {
    throw std::logic_error(std::string("tempfile: ") + operation +
                           " after close() deleted the file");
  }
  return *s;
}

std::filesystem::path absolute_or_throw(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  if (ec) detail::throw_error("make absolute", p, ec);
  return abs;
}

void persist_impl(detail::file_state& s, const std::filesystem::path& target, bool replace) {
  detail::lazy_path to;
  to.assign(absolute_or_throw(target));  // before the rename: nothing can fail after it
  // Whatever was written is in the file before it takes its final name.
  if (!s.closed) s.buf.flush_pending();
  std::error_code ec;
  detail::platform::rename(s.path.native(), to.native(), replace, ec);
  if (ec) detail::throw_error("persist", s.path.get(), to.get(), ec);
  // Only now, after the rename succeeded, does the object change.
  s.disarm();
  s.path = std::move(to);
}

}  // namespace

named_temporary_file::named_temporary_file(const options& opts) : file(make_named(opts)) {}

// Out of memory building the path ends the program (noexcept), as an empty path would be taken
// as relative to the working directory.
const std::filesystem::path& named_temporary_file::path() const noexcept {
  return state() != nullptr ? state()->path.get() : empty_path();
}

std::filesystem::path named_temporary_file::keep() {
  detail::file_state& s = named_state(state(), "keep");
  std::filesystem::path kept = s.path.get();  // before disarming: this may throw bad_alloc
  s.disarm();
  return kept;
}

void named_temporary_file::persist(const std::filesystem::path& target) {
  persist_impl(named_state(state(), "persist"), target, true);
}

void named_temporary_file::persist_noclobber(const std::filesystem::path& target) {
  persist_impl(named_state(state(), "persist_noclobber"), target, false);
}

file named_temporary_file::reopen() const {
  const detail::file_state& s = named_state(state(), "reopen");
  detail::state_ptr state = detail::new_state();  // first: the descriptor is never lost
  state->path.set(s.path.native());
  std::error_code ec;
  detail::platform::file_identity expected;
  if (!s.closed) {
    const detail::platform::file_status st = detail::platform::status(s.buf.fd(), ec);
    if (ec) detail::throw_error("reopen", s.path.get(), ec);
    expected = st.id;
  } else if (s.identity) {
    expected = *s.identity;
  } else {
    throw std::logic_error("tempfile: reopen of a closed file whose identity is unknown");
  }
  const detail::platform::handle fd = detail::platform::open_file(s.path.native(), ec);
  if (ec) detail::throw_error("reopen", s.path.get(), ec);
  const detail::platform::file_status st = detail::platform::status(fd, ec);
  if (ec || st.id != expected) {
    std::error_code ignored;
    detail::platform::close(fd, ignored);
    detail::throw_error("reopen", s.path.get(), ec ? ec : detail::platform::stale_error());
  }
  state->adopt(fd);
  return detail::file_access::make(std::move(state));
}

}  // namespace tempfile
