// tempfile::file and the closing/deleting rules of file_state.
#include "tempfile/file.hpp"

#include <istream>
#include <utility>

#include "error.hpp"
#include "file_state.hpp"
#include "thread_spare.hpp"

namespace tempfile {

namespace detail {

file_state::~file_state() { finish(); }

void file_state::finish() noexcept {
  if (!closed) {
    try {
      close();
    } catch (...) {  // destructors never throw: close() is where errors are reported
    }
  }
  std::error_code ignored;
  remove_if_armed(ignored);
}

namespace {

// A kept state comes emptied, with its strings' memory (see file_state::reset()).
struct delete_state {
  void operator()(file_state* s) const noexcept { delete s; }
};
using spare_state = thread_spare<file_state, delete_state>;

}  // namespace

state_ptr new_state() {
  if (file_state* s = spare_state::take()) return state_ptr(s);
  return state_ptr(new file_state());
}

void state_deleter::operator()(file_state* s) const noexcept {
  if (s == nullptr) return;
  // A state that made a stream is not kept: the stream may have changed the buffer's locale.
  if (s->stream || !spare_state::has_room()) {
    delete s;
    return;
  }
  s->finish();
  s->reset();
  if (!spare_state::keep(s)) delete s;
}

void file_state::reset() noexcept {
  buf.reset();
  path.reset();
  dir.reset();
  generation = 0;
  closed = false;
  armed = false;
  delete_on_close = true;
  deleted = false;
  identity.reset();
  ticket = 0;  // if finish() could not delete the file, it stays registered, as after delete
}

void file_state::adopt(platform::handle fd) noexcept {
  buf.attach(fd, path.empty() ? nullptr : &path, &dir);
  generation = platform::fork_generation();
}

bool file_state::owned_by_this_process() const noexcept {
  return generation == platform::fork_generation();
}

void file_state::arm() noexcept {
  armed = true;
  if (ticket == 0) ticket = registry::add(path.native(), registry::kind::file);
}

void file_state::disarm() noexcept {
  armed = false;
  registry::remove(std::exchange(ticket, 0));
}

void file_state::remove_if_armed(std::error_code& ec) noexcept {
  ec.clear();
  if (!armed || deleted || path.empty() || !owned_by_this_process()) return;
  // Forgotten before it goes: no cleanup may ever remove a later file of the same name.
  registry::remove(std::exchange(ticket, 0));
  platform::remove_file(path.native(), ec);
  // (`ec &&` first: comparing with an errc makes two virtual calls, even for success.)
  if (ec && ec == std::errc::no_such_file_or_directory) ec.clear();  // deleted by someone: fine
  if (!ec) {
    deleted = true;
  } else {
    ticket = registry::add(path.native(), registry::kind::file);  // still there: still guarded
  }
}

void file_state::close() {
  if (closed) return;
  std::error_code first;
  try {
    buf.flush_pending();
  } catch (const std::system_error& e) {
    first = e.code();
  }
  // Remember which file this was, for reopen() after close, when close() leaves it on disk.
  if (!path.empty() && (!armed || !delete_on_close) && buf.fd() != platform::invalid_handle) {
    std::error_code ec;
    const platform::file_status st = platform::status(buf.fd(), ec);
    if (!ec) identity = st.id;
  }
  if (buf.fd() != platform::invalid_handle) {
    std::error_code ec;
    platform::close(buf.fd(), ec);
    if (ec && !first) first = ec;
  }
  buf.detach();
  closed = true;
  if (delete_on_close) {
    std::error_code ec;
    remove_if_armed(ec);
    if (ec && !first) throw_error("delete", path.get(), ec);
  }
  if (first) buf.fail("close", first);
}

}  // namespace detail

file::file() noexcept = default;
file::file(detail::state_ptr state) noexcept : state_(std::move(state)) {}
file::file(file&& other) noexcept = default;

file& file::operator=(file&& other) noexcept {
  if (this != &other) state_ = std::move(other.state_);  // the old state's destructor closes
  return *this;
}

file::~file() = default;

detail::file_state& file::open_state(const char* operation) const {
  if (!state_ || state_->closed) detail::throw_closed(operation);
  return *state_;
}

std::size_t file::write(std::span<const std::byte> data) {
  auto& s = open_state("write");
  const auto n = static_cast<std::streamsize>(data.size());
  s.buf.sputn(reinterpret_cast<const char*>(data.data()), n);
  return data.size();
}

std::size_t file::write(std::string_view text) {
  return write(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::size_t file::readinto(std::span<std::byte> buffer) {
  auto& s = open_state("readinto");
  const auto got = s.buf.sgetn(reinterpret_cast<char*>(buffer.data()),
                               static_cast<std::streamsize>(buffer.size()));
  return static_cast<std::size_t>(got);
}

std::string file::read(std::size_t n) {
  auto& s = open_state("read");
  std::string out;
  constexpr std::size_t kSmall = 64 * 1024;
  if (n <= kSmall) {
    out.resize(n);
    const auto got = s.buf.sgetn(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(got));
    return out;
  }
  // A large count or the rest of the file: size it once from the file instead of trusting n
  // ("up to n bytes" must not allocate n), then read until n bytes or the end (the file may
  // still grow).
  const std::int64_t remaining = s.buf.file_size() - s.buf.position();
  std::size_t chunk = remaining > 0 ? static_cast<std::size_t>(remaining) + 1 : 4096;
  for (;;) {
    const std::size_t old = out.size();
    const std::size_t want = std::min(chunk, n - old);
    out.resize(old + want);
    const auto got =
        static_cast<std::size_t>(s.buf.sgetn(out.data() + old, static_cast<std::streamsize>(want)));
    out.resize(old + got);
    if (got < want || out.size() == n) return out;
    chunk = std::max(chunk, kSmall);
  }
}

std::int64_t file::seek(std::int64_t offset, whence from) {
  auto& s = open_state("seek");
  std::int64_t origin = 0;
  if (from == whence::cur) origin = s.buf.position();
  if (from == whence::end) origin = s.buf.file_size();
  std::int64_t target = 0;
  if (__builtin_add_overflow(origin, offset, &target)) {
    throw std::filesystem::filesystem_error("cannot seek: position out of range",
                                            std::make_error_code(std::errc::invalid_argument));
  }
  s.buf.seek_to(target);
  // A member seek is a fresh start for stream() too, as seekg() would be: end-of-file from an
  // earlier formatted read must not make the next one fail.
  if (s.stream) s.stream->clear();
  return target;
}

std::int64_t file::tell() { return open_state("tell").buf.position(); }

std::int64_t file::size() { return open_state("size").buf.file_size(); }

void file::truncate(std::int64_t size) { open_state("truncate").buf.truncate_to(size); }

void file::flush() { open_state("flush").buf.flush_pending(); }

void file::sync() {
  auto& s = open_state("sync");
  s.buf.flush_pending();
  if (s.buf.in_memory()) return;  // nothing on disk to make durable yet
  std::error_code ec;
  detail::platform::sync(s.buf.fd(), ec);
  if (ec) s.buf.fail("sync", ec);
}

std::iostream& file::stream() {
  auto& s = open_state("stream");
  if (!s.stream) {
    s.stream = std::make_unique<std::iostream>(&s.buf);
    s.stream->exceptions(std::ios_base::badbit);
  }
  return *s.stream;
}

int file::native_handle() { return open_state("native_handle").buf.hand_out(); }

void file::close() {
  if (state_) state_->close();
}

bool file::closed() const noexcept { return !state_ || state_->closed; }

}  // namespace tempfile
