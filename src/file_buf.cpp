// file_buf: the one buffer behind every tempfile::file (see file_state.hpp).

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#include "create.hpp"
#include "error.hpp"
#include "file_state.hpp"
#include "thread_spare.hpp"

namespace tempfile::detail {

namespace {

// Large enough that sequential small writes cost one system call per 64 KiB, small enough to
// allocate cheaply for every open file. Reads of at least this size bypass it (writes: see
// kWriteThrough).
constexpr std::size_t kBufferSize = 64 * 1024;
constexpr std::size_t kMinMemory = 256;
// A write at least this large that finds nothing buffered goes straight to the OS, as stdio does
// with a write of at least a block: copying it into the buffer first would cost a pass over the
// bytes and save no system call unless more small writes follow (a temporary file is most often
// written whole, in one or a few large writes).
constexpr std::size_t kWriteThrough = 4096;

// The buffer of the last file this thread closed is kept for the next file it opens (see
// thread_spare.hpp): a fresh 64 KiB block from malloc (which freeing may hand back to the OS, only
// for the next one to fault it in again) costs more than the I/O of a small temporary file.
struct delete_block {
  void operator()(char* block) const noexcept { delete[] block; }
};
using spare_buffer = thread_spare<char, delete_block>;

std::unique_ptr<char[]> take_buffer() {
  if (char* spare = spare_buffer::take()) return std::unique_ptr<char[]>(spare);
  return std::make_unique_for_overwrite<char[]>(kBufferSize);
}

void give_back_buffer(std::unique_ptr<char[]> buffer) noexcept {
  if (spare_buffer::keep(buffer.get())) (void)buffer.release();
}

[[noreturn]] void throw_invalid_position(const char* verb) {
  throw std::filesystem::filesystem_error(std::string("cannot ") + verb + ": negative position",
                                          std::make_error_code(std::errc::invalid_argument));
}

}  // namespace

void file_buf::attach(platform::handle fd, const lazy_path* name, const lazy_path* dir) noexcept {
  fd_ = fd;
  name_ = name;
  dir_ = dir;
  state_ = state::idle;
  base_ = 0;
  offset_unknown_ = false;
  in_memory_ = false;
}

void file_buf::start_spooled(const options& opts, lazy_path* dir) {
  spool_options_ = std::make_unique<options>(opts);
  spool_dir_ = dir;
  dir_ = dir;
  max_size_ = opts.max_size;
  in_memory_ = true;
  state_ = state::idle;
  base_ = 0;
}

void file_buf::detach() noexcept {
  setg(nullptr, nullptr, nullptr);
  setp(nullptr, nullptr);
  state_ = state::idle;
  fd_ = platform::invalid_handle;
  if (buffer_) give_back_buffer(std::move(buffer_));
  memory_.reset();
  memory_capacity_ = memory_size_ = 0;
  in_memory_ = false;
}

void file_buf::reset() noexcept {
  detach();
  name_ = nullptr;
  dir_ = nullptr;
  base_ = 0;
  offset_unknown_ = false;
  max_size_ = 0;
  spool_options_.reset();
  spool_dir_ = nullptr;
}

void file_buf::fail(const char* verb, std::error_code ec) const {
  std::string v = verb;
  if (name_ != nullptr && !name_->empty()) throw_error(v, name_->get(), ec);
  v += " temporary file";
  if (dir_ != nullptr && !dir_->empty()) {
    v += " in";
    throw_error(v, dir_->get(), ec);
  }
  throw_error(v, {}, ec);
}

// After hand_out() the caller may have moved the descriptor's offset: read it back once.
void file_buf::learn_offset() {
  if (!offset_unknown_) return;
  std::error_code ec;
  const std::int64_t off = platform::seek(fd_, 0, platform::seek_from::current, ec);
  if (ec) fail("seek in", ec);
  base_ = off;
  offset_unknown_ = false;
}

void file_buf::ensure_buffer() {
  if (!buffer_) buffer_ = take_buffer();
}

// Leaves the reading or writing state, writing pending bytes (descriptor mode) or recording the
// content size (memory mode). On a write failure the bytes stay pending and the error is thrown.
void file_buf::to_idle() {
  if (state_ == state::writing) {
    if (in_memory_) {
      const auto end = static_cast<std::size_t>(pptr() - memory_.get());
      memory_size_ = std::max(memory_size_, end);
      base_ = static_cast<std::int64_t>(end);
    } else {
      const auto pending = static_cast<std::size_t>(pptr() - pbase());
      if (pending > 0) {
        std::error_code ec;
        platform::write_all_at(fd_, pbase(), pending, base_, ec);
        if (ec) fail("write to", ec);
        base_ += static_cast<std::int64_t>(pending);
      }
    }
    setp(nullptr, nullptr);
  } else if (state_ == state::reading) {
    base_ += gptr() - eback();
    setg(nullptr, nullptr, nullptr);
  }
  state_ = state::idle;
}

void file_buf::flush_pending() {
  if (state_ == state::writing) to_idle();
}

// A stream() kept past close() still reaches this buffer: refuse like the member functions.
void file_buf::check_open(const char* operation) const {
  if (fd_ == platform::invalid_handle && !in_memory_) throw_closed(operation);
}

std::int64_t file_buf::position() {
  check_open("tell");
  switch (state_) {
    case state::writing: return base_ + (pptr() - pbase());
    case state::reading: return base_ + (gptr() - eback());
    case state::idle: break;
  }
  if (!in_memory_) learn_offset();
  return base_;
}

void file_buf::seek_to(std::int64_t target) {
  check_open("seek");
  if (target < 0) throw_invalid_position("seek");
  if (state_ == state::reading && !in_memory_ && target >= base_ &&
      target <= base_ + (egptr() - eback())) {
    // Inside what was read: move within the buffer, no system call.
    setg(eback(), eback() + (target - base_), egptr());
    return;
  }
  to_idle();
  offset_unknown_ = false;
  base_ = target;
}

std::int64_t file_buf::file_size() {
  check_open("size");
  if (in_memory_) {
    const std::size_t written =
        state_ == state::writing ? static_cast<std::size_t>(pptr() - memory_.get()) : 0;
    return static_cast<std::int64_t>(std::max(memory_size_, written));
  }
  flush_pending();
  std::error_code ec;
  const platform::file_status st = platform::status(fd_, ec);
  if (ec) fail("get the size of", ec);
  return st.size;
}

void file_buf::truncate_to(std::int64_t size) {
  if (size < 0) throw_invalid_position("truncate");
  if (in_memory_ && max_size_ != 0 && static_cast<std::uint64_t>(size) > max_size_) rollover();
  const std::int64_t pos = position();
  to_idle();
  base_ = pos;
  if (in_memory_) {
    const auto n = static_cast<std::size_t>(size);
    if (n > memory_size_) {
      reserve_memory(n);
      std::memset(memory_.get() + memory_size_, 0, n - memory_size_);
    }
    memory_size_ = n;
    return;
  }
  std::error_code ec;
  platform::truncate(fd_, size, ec);
  if (ec) fail("truncate", ec);
}

platform::handle file_buf::hand_out() {
  rollover();
  const std::int64_t pos = position();
  to_idle();
  std::error_code ec;
  platform::seek(fd_, pos, platform::seek_from::start, ec);
  if (ec) fail("seek in", ec);
  base_ = pos;
  offset_unknown_ = true;
  return fd_;
}

// --- memory mode ------------------------------------------------------------------------------

std::size_t file_buf::memory_limit() const noexcept {
  return max_size_ != 0 ? std::min(memory_capacity_, max_size_) : memory_capacity_;
}

void file_buf::free_block::operator()(char* p) const noexcept { std::free(p); }

void file_buf::reserve_memory(std::size_t capacity) {
  if (capacity <= memory_capacity_) return;
  // Geometric growth: n appends cost O(n) in all. realloc keeps the content; for a large block it
  // moves pages instead of bytes, so the peak is about the content, not old plus new copies.
  std::size_t grown = std::max({capacity, memory_capacity_ * 2, kMinMemory});
  if (max_size_ != 0 && capacity <= max_size_) grown = std::min(grown, max_size_);
  const std::ptrdiff_t put = state_ == state::writing ? pptr() - memory_.get() : 0;
  void* bigger = std::realloc(memory_.get(), grown);
  if (bigger == nullptr) throw std::bad_alloc();
  (void)memory_.release();
  memory_.reset(static_cast<char*>(bigger));
  memory_capacity_ = grown;
  // The put area pointed into the old block.
  if (state_ == state::writing) setp(memory_.get() + put, memory_.get() + memory_limit());
}

// Writes at `position` in memory (the caller checked max_size), filling any gap with zeros, and
// leaves the buffer writing just after the new bytes.
void file_buf::memory_write_at(std::size_t position, const char* s, std::size_t n) {
  to_idle();
  reserve_memory(position + n);
  if (position > memory_size_)
    std::memset(memory_.get() + memory_size_, 0, position - memory_size_);
  if (n > 0) std::memcpy(memory_.get() + position, s, n);
  memory_size_ = std::max(memory_size_, position + n);
  base_ = static_cast<std::int64_t>(position + n);
  setp(memory_.get() + position + n, memory_.get() + memory_limit());
  state_ = state::writing;
}

void file_buf::rollover() {
  if (!in_memory_) return;
  const std::int64_t pos = position();
  to_idle();
  lazy_path dir;
  const platform::handle fd = create_unnamed(*spool_options_, false, dir);
  if (spool_dir_ != nullptr) *spool_dir_ = std::move(dir);
  std::error_code ec;
  if (memory_size_ > 0) platform::write_all_at(fd, memory_.get(), memory_size_, 0, ec);
  if (ec) {
    std::error_code ignored;
    platform::close(fd, ignored);
    fail("write to", ec);  // the content stays in memory: nothing is lost
  }
  memory_.reset();
  memory_capacity_ = memory_size_ = 0;
  in_memory_ = false;
  fd_ = fd;
  base_ = pos;
}

// --- std::streambuf ---------------------------------------------------------------------------

file_buf::int_type file_buf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) {
    flush_pending();
    return traits_type::not_eof(c);
  }
  const char ch = traits_type::to_char_type(c);
  return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
}

std::streamsize file_buf::xsputn(const char_type* s, std::streamsize count) {
  if (count <= 0) return 0;
  check_open("write");
  const auto n = static_cast<std::size_t>(count);
  // pbump() takes an int: larger writes take the slow path, which sets pointers directly.
  if (state_ == state::writing && static_cast<std::size_t>(epptr() - pptr()) >= n &&
      n <= static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    std::memcpy(pptr(), s, n);
    pbump(static_cast<int>(n));
    return count;
  }
  const std::int64_t pos = position();
  if (in_memory_) {
    const auto end = static_cast<std::uint64_t>(pos) + n;
    if (max_size_ == 0 || end <= max_size_) {
      memory_write_at(static_cast<std::size_t>(pos), s, n);
      return count;
    }
    rollover();  // this write would leave the position past max_size
  }
  to_idle();
  base_ = pos;
  if (n >= kWriteThrough) {
    std::error_code ec;
    platform::write_all_at(fd_, s, n, base_, ec);
    if (ec) fail("write to", ec);
    base_ += count;
    return count;
  }
  ensure_buffer();
  setp(buffer_.get(), buffer_.get() + kBufferSize);
  state_ = state::writing;
  std::memcpy(pptr(), s, n);
  pbump(static_cast<int>(n));
  return count;
}

// Reads at the position into the buffer; false at end of file.
bool file_buf::fill() {
  check_open("read");
  to_idle();
  if (in_memory_) {
    const auto pos = static_cast<std::size_t>(base_);
    if (pos >= memory_size_) return false;
    setg(memory_.get(), memory_.get() + pos, memory_.get() + memory_size_);
    base_ = 0;
    state_ = state::reading;
    return true;
  }
  learn_offset();
  ensure_buffer();
  std::error_code ec;
  const std::size_t got = platform::read_at(fd_, buffer_.get(), kBufferSize, base_, ec);
  if (ec) fail("read from", ec);
  if (got == 0) return false;
  setg(buffer_.get(), buffer_.get(), buffer_.get() + got);
  state_ = state::reading;
  return true;
}

file_buf::int_type file_buf::underflow() {
  if (state_ == state::reading && gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (!fill()) return traits_type::eof();
  return traits_type::to_int_type(*gptr());
}

std::streamsize file_buf::xsgetn(char_type* s, std::streamsize count) {
  if (count <= 0) return 0;
  auto n = static_cast<std::size_t>(count);
  std::size_t got = 0;
  for (;;) {
    if (state_ == state::reading) {
      const auto take = std::min(n - got, static_cast<std::size_t>(egptr() - gptr()));
      std::memcpy(s + got, gptr(), take);
      setg(eback(), gptr() + take, egptr());
      got += take;
    }
    if (got == n) break;
    if (!in_memory_ && n - got >= kBufferSize) {
      // Large reads go straight into the caller's memory.
      to_idle();
      learn_offset();
      std::error_code ec;
      const std::size_t r = platform::read_at(fd_, s + got, n - got, base_, ec);
      if (ec) fail("read from", ec);
      if (r == 0) break;
      base_ += static_cast<std::int64_t>(r);
      got += r;
      continue;
    }
    if (!fill()) break;
  }
  return static_cast<std::streamsize>(got);
}

file_buf::pos_type file_buf::seekoff(off_type off, std::ios_base::seekdir dir,
                                     std::ios_base::openmode) {
  std::int64_t origin = 0;
  if (dir == std::ios_base::cur) {
    origin = position();
    // tellp()/tellg(): report without moving, so buffered bytes stay buffered.
    if (off == 0) return pos_type(static_cast<off_type>(origin));
  } else if (dir == std::ios_base::end) {
    origin = file_size();
  }
  const std::int64_t target = origin + static_cast<std::int64_t>(off);
  if (target < 0) return pos_type(off_type(-1));
  seek_to(target);
  return pos_type(static_cast<off_type>(target));
}

file_buf::pos_type file_buf::seekpos(pos_type pos, std::ios_base::openmode which) {
  return seekoff(off_type(pos), std::ios_base::beg, which);
}

int file_buf::sync() {
  flush_pending();
  return 0;
}

}  // namespace tempfile::detail
