#include "tempfile/spooled_temporary_file.hpp"

#include "file_state.hpp"

namespace tempfile {

namespace {

detail::state_ptr make_spooled(const options& opts) {
  validate(opts);
  detail::state_ptr state = detail::new_state();
  state->generation = detail::platform::fork_generation();
  state->buf.start_spooled(opts, &state->dir);
  return state;
}

}  // namespace

spooled_temporary_file::spooled_temporary_file(const options& opts) : file(make_spooled(opts)) {}

void spooled_temporary_file::rollover() { open_state("rollover").buf.rollover(); }

bool spooled_temporary_file::rolled_over() const noexcept {
  const detail::file_state* s = state();
  return s != nullptr && !s->closed && !s->buf.in_memory();
}

}  // namespace tempfile
