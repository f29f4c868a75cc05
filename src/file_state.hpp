// The state behind tempfile::file: one buffer (file_buf) shared by the member functions and
// stream(), and what closing and destruction must do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>

#include "platform/platform.hpp"
#include "registry.hpp"
#include "tempfile/detail/lazy_path.hpp"
#include "tempfile/file.hpp"
#include "tempfile/options.hpp"

namespace tempfile::detail {

/// A read/write stream buffer over either a descriptor or, for a spooled file, memory.
///
/// Descriptor mode uses pread/pwrite at a position it tracks itself, so seeking costs no system
/// call. The buffer is either reading (get area), writing (put area) or idle, like basic_filebuf.
/// Memory mode keeps the whole content in one geometrically grown block and makes no system call
/// until it rolls over to an anonymous file.
class file_buf final : public std::streambuf {
 public:
  file_buf() = default;
  file_buf(const file_buf&) = delete;
  file_buf& operator=(const file_buf&) = delete;
  ~file_buf() override = default;

  /// Descriptor mode over `fd`; `name` (a file) or `dir` (an unnamed file's directory) words
  /// error messages.
  void attach(platform::handle fd, const lazy_path* name, const lazy_path* dir) noexcept;
  /// Memory mode: content stays here until a write passes opts.max_size (if non-zero), or
  /// rollover(); then it moves to an anonymous file in opts.dir, and `dir` (the owning state's
  /// directory, which words error messages) receives that directory.
  void start_spooled(const options& opts, lazy_path* dir);

  [[nodiscard]] bool in_memory() const noexcept { return in_memory_; }
  [[nodiscard]] platform::handle fd() const noexcept { return fd_; }
  /// Moves memory content to an anonymous file, keeping the position; no-op in descriptor mode.
  void rollover();

  [[nodiscard]] std::int64_t position();
  void seek_to(std::int64_t position);
  [[nodiscard]] std::int64_t file_size();
  void truncate_to(std::int64_t size);
  /// Writes pending bytes to the OS (nothing in memory mode).
  void flush_pending();
  /// Flushes, puts the descriptor's offset at the position and returns it; the offset is read
  /// back before the next operation, since the caller may move it.
  platform::handle hand_out();
  /// Forgets the descriptor and frees memory; pending bytes must already be flushed.
  void detach() noexcept;
  /// detach(), then every member as a new buffer has it (the locale aside: reset only a buffer
  /// that no stream has used).
  void reset() noexcept;
  /// Throws filesystem_error "cannot <verb> '<name>'", or "cannot <verb> temporary file in
  /// '<dir>'" for a file without a name.
  [[noreturn]] void fail(const char* verb, std::error_code ec) const;

 protected:
  int_type overflow(int_type c) override;
  int_type underflow() override;
  std::streamsize xsputn(const char_type* s, std::streamsize n) override;
  std::streamsize xsgetn(char_type* s, std::streamsize n) override;
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override;
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;
  int sync() override;

 private:
  enum class state { idle, reading, writing };

  void check_open(const char* operation) const;
  void learn_offset();
  void to_idle();
  void ensure_buffer();
  bool fill();
  // Memory mode helpers.
  std::size_t memory_limit() const noexcept;
  void reserve_memory(std::size_t capacity);
  void memory_write_at(std::size_t position, const char* s, std::size_t n);

  platform::handle fd_ = platform::invalid_handle;
  const lazy_path* name_ = nullptr;
  const lazy_path* dir_ = nullptr;
  state state_ = state::idle;
  // Descriptor mode: file offset of the buffer's first byte (reading, writing) or the position
  // (idle). Memory mode: the position when idle or writing; 0 when reading (eback is the start).
  std::int64_t base_ = 0;
  bool offset_unknown_ = false;
  std::unique_ptr<char[]> buffer_;
  // Memory mode. The block comes from malloc, so that it grows with realloc: in place at the end
  // of the heap, or by remapping pages for large blocks, never by copying everything each time.
  struct free_block {
    void operator()(char* p) const noexcept;
  };
  bool in_memory_ = false;
  std::unique_ptr<char[], free_block> memory_;
  std::size_t memory_capacity_ = 0;
  std::size_t memory_size_ = 0;
  std::size_t max_size_ = 0;
  std::unique_ptr<options> spool_options_;
  lazy_path* spool_dir_ = nullptr;  // where rollover() records its directory
};

/// Everything a tempfile::file owns.
struct file_state {
  file_buf buf;
  std::unique_ptr<std::iostream> stream;
  lazy_path path;                // named kinds: the file's absolute path
  lazy_path dir;                 // unnamed kinds: the directory, for messages
  std::uint64_t generation = 0;  // platform::fork_generation() of the creating process
  bool closed = false;
  bool armed = false;           // the file at `path` is ours to delete
  bool delete_on_close = true;  // close() (not just destruction) deletes an armed file
  bool deleted = false;         // close() deleted it
  std::optional<platform::file_identity> identity;  // recorded when close() leaves the file
  registry::ticket ticket = 0;  // while armed: known to signal cleanup and the guardian

  file_state() = default;
  file_state(const file_state&) = delete;
  file_state& operator=(const file_state&) = delete;
  ~file_state();

  /// What the destructor does before the members go: closes the file if still open and deletes
  /// it if armed and ours. Never throws.
  void finish() noexcept;
  /// After finish(), and only without a stream: every member as a new state has it, but the
  /// strings keep their memory. (A member added to this class must be reset here too.)
  void reset() noexcept;

  /// Takes ownership of `fd` (descriptor mode). Errors of its I/O name `path`, else the directory
  /// `dir`.
  void adopt(platform::handle fd) noexcept;
  /// True when this process (not a fork()ed child) made the file.
  [[nodiscard]] bool owned_by_this_process() const noexcept;
  /// Flushes, closes the descriptor and, when armed and delete_on_close, deletes the file.
  /// Idempotent; throws the first failure after doing all it can.
  void close();
  /// Deletes the file at `path` if armed and ours; ENOENT (someone deleted it) is not an error.
  void remove_if_armed(std::error_code& ec) noexcept;
  /// Makes the file at `path` ours to delete, and known to crash cleanup.
  void arm() noexcept;
  /// The file at `path` is no longer ours to delete (kept or persisted).
  void disarm() noexcept;
};

/// A new, empty state: the one this thread's last file left behind when there is one (its path
/// and directory strings keep their memory), else a new one. Throws std::bad_alloc.
[[nodiscard]] state_ptr new_state();

/// The library's own access to a file's state.
struct file_access {
  static file make(state_ptr state) noexcept { return file(std::move(state)); }
};

}  // namespace tempfile::detail
