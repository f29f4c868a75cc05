#include "tempfile/temporary_file.hpp"

#include "create.hpp"
#include "file_state.hpp"

namespace tempfile {

namespace {

detail::state_ptr make_unnamed(const options& opts) {
  detail::state_ptr state = detail::new_state();
  const detail::platform::handle fd = detail::create_unnamed(opts, false, state->dir);
  state->adopt(fd);
  return state;
}

}  // namespace

temporary_file::temporary_file(const options& opts) : file(make_unnamed(opts)) {}

}  // namespace tempfile
