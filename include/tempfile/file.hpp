/// @file
/// tempfile::file: the buffered I/O surface shared by every kind of temporary file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tempfile {

/// Where seek() counts from: the start, the current position or the end of the file.
///
/// Python equivalent: `os.SEEK_SET`, `os.SEEK_CUR`, `os.SEEK_END`.
enum class whence {
  set,  ///< from the start of the file
  cur,  ///< from the current position
  end   ///< from the end of the file (its size, buffered bytes included)
};

namespace detail {
struct file_state;
struct file_access;
/// Disposes of a file's state as its destructor would, then keeps the memory for the next file
/// this thread makes (see file.cpp).
struct state_deleter {
  void operator()(file_state* s) const noexcept;
};
using state_ptr = std::unique_ptr<file_state, state_deleter>;
}  // namespace detail

/// A move-only, buffered, read/write file: the base of temporary_file, named_temporary_file,
/// spooled_temporary_file and atomic_file.
///
/// One buffer serves both the member functions and stream(), so they can be mixed freely:
/// `f.stream() << x; f.write(y); f.seek(0); f.read()` sees one consistent file. Reads larger than
/// the buffer go straight to the OS, and so does a write of at least 4 KiB that finds nothing
/// buffered (as with stdio): it is not copied first.
///
/// Errors: any I/O on a closed (or moved-from) file throws std::logic_error; OS failures throw
/// std::filesystem::filesystem_error with the errno and, where there is one, the path.
/// The destructor never throws: it closes (and, for the named kinds, deletes) on a best-effort
/// basis. Call close() to see errors.
///
/// Threads: one object must not be used by two threads at once (as with std::fstream); distinct
/// objects may be used, created and destroyed concurrently.
///
/// fork(): the file's position and buffer are this object's own (I/O uses pread/pwrite), so a
/// child's copy does not move the parent's. Call flush() before fork(): a child that closes or
/// destroys its copy writes the bytes that were still buffered.
class file {
 public:
  /// Returned by read() and used as its default: "the rest of the file".
  static constexpr std::size_t npos = std::size_t(-1);

  /// A closed file.
  file() noexcept;
  /// Takes over `other`'s file; `other` is left closed.
  file(file&& other) noexcept;
  /// Closes this file (best effort), then takes over `other`'s; `other` is left closed.
  file& operator=(file&& other) noexcept;
  /// Not copyable: a file has one owner.
  file(const file&) = delete;
  /// Not copyable: a file has one owner.
  file& operator=(const file&) = delete;
  /// Closes (best effort, never throws).
  virtual ~file();

  /// Writes all of `data` at the current position and returns its size.
  std::size_t write(std::span<const std::byte> data);
  /// Writes all of `text` at the current position and returns its size.
  std::size_t write(std::string_view text);
  /// Reads until `buffer` is full or the file ends; returns the number of bytes read (0 at end).
  std::size_t readinto(std::span<std::byte> buffer);
  /// Reads up to `n` bytes, or the rest of the file when `n` is npos.
  [[nodiscard]] std::string read(std::size_t n = npos);
  /// Moves the position and returns it. Seeking past the end is allowed; the gap reads as zeros
  /// once something is written after it. Bytes still buffered for writing are written first.
  ///
  /// Errors: filesystem_error with EINVAL for a position before the start or beyond the range
  /// of std::int64_t.
  std::int64_t seek(std::int64_t offset, whence from = whence::set);
  /// The current position.
  [[nodiscard]] std::int64_t tell();
  /// The size of the file, including bytes still in the buffer.
  [[nodiscard]] std::int64_t size();
  /// Sets the size to `size` bytes, cutting or extending with zeros; the position is unchanged.
  void truncate(std::int64_t size);
  /// Hands buffered bytes to the OS.
  void flush();
  /// flush(), then asks the OS to put the file on stable storage (fsync). A spooled file still
  /// in memory has nothing on disk: there it does nothing more than flush().
  void sync();
  /// A stream on the same buffer and position, for formatted I/O. Its exception mask includes
  /// badbit, so OS errors surface as the same exceptions the member functions throw.
  std::iostream& stream();
  /// The OS descriptor, after flushing; the file's position is set on it. Using the descriptor
  /// to move its offset is allowed: the next operation here picks the offset up. A spooled file
  /// still in memory rolls over to disk first. The descriptor stays owned by this object: do not
  /// close it. Python equivalent: `f.fileno()`.
  [[nodiscard]] int native_handle();
  /// Flushes and closes; for the named kinds may also delete (see each class). Idempotent.
  ///
  /// Errors: the first failure is thrown, but the descriptor is closed in every case.
  void close();
  /// True after close(), after a move from this object, and for a default-constructed file.
  [[nodiscard]] bool closed() const noexcept;

 protected:
  /// Used by the temporary kinds to build a file from its internal state.
  explicit file(detail::state_ptr state) noexcept;
  /// The internal state; null when moved from.
  [[nodiscard]] detail::file_state* state() const noexcept { return state_.get(); }
  /// The internal state, throwing std::logic_error when the file is closed.
  detail::file_state& open_state(const char* operation) const;

 private:
  friend struct detail::file_access;
  detail::state_ptr state_;
};

}  // namespace tempfile
