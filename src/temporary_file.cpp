#include "tempfile/temporary_file.hpp"

#include "create.hpp"
#include "file_state.hpp"

namespace tempfile {

namespace {

std::unique_ptr<detail::file_state> make_unnamed(const options& opts) {
  auto state = std::make_unique<detail::file_state>();
  const detail::platform::handle fd = detail::create_unnamed(opts, false, state->dir);
  state->adopt(fd);
  return state;
}

}  // namespace

temporary_file::temporary_file(const options& opts) : file(make_unnamed(opts)) {}

}  // namespace tempfile
