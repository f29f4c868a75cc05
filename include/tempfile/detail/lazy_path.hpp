// An absolute path kept as the OS's text, made into a std::filesystem::path only when asked.
//
// libstdc++ splits every std::filesystem::path it builds into components (one allocation and a
// parse): that costs about as much as the user-space rest of creating a temporary file. The
// objects that own a temporary keep its path as text, which is all the system calls need, and
// build the std::filesystem::path the first time path() is called.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>

namespace tempfile::detail {

/// A path as text plus, once asked for, the same path as a std::filesystem::path.
///
/// The const members may be called from several threads at once: the first get() builds the
/// path and publishes it; a thread that loses the race drops its copy. The non-const members
/// need exclusive access, as for any standard type.
class lazy_path {
 public:
  lazy_path() noexcept = default;
  explicit lazy_path(std::string text) noexcept : text_(std::move(text)) {}
  /// A path() reference taken from `other` stays valid (and shows an empty path).
  lazy_path(lazy_path&& other) noexcept : text_(std::move(other.text_)) {
    other.text_.clear();
    if (std::filesystem::path* theirs = other.cache_.load(std::memory_order_acquire))
      theirs->clear();
  }
  /// A path() reference taken from either object stays valid: this one's shows the new path,
  /// `other`'s an empty one.
  lazy_path& operator=(lazy_path&& other) noexcept {
    if (this != &other) {
      std::filesystem::path* theirs = other.cache_.load(std::memory_order_acquire);
      if (theirs != nullptr && cache_.load(std::memory_order_acquire) != nullptr) {
        *cache_.load(std::memory_order_relaxed) = std::move(*theirs);
        text_ = std::move(other.text_);
      } else {
        assign(std::move(other.text_));
      }
      other.text_.clear();
      if (theirs != nullptr) theirs->clear();
    }
    return *this;
  }
  lazy_path(const lazy_path&) = delete;
  lazy_path& operator=(const lazy_path&) = delete;
  ~lazy_path() { delete cache_.load(std::memory_order_acquire); }

  /// Takes the path as text. A path() reference taken before stays valid and shows the new path
  /// (unless memory runs out remaking it: then it is dropped).
  void assign(std::string text) noexcept;
  /// Takes a path already made (its components are kept, not parsed again).
  void assign(std::filesystem::path p);
  void clear() noexcept { assign(std::string()); }
  /// Empties the path, keeping the text's memory; a path() reference taken before is dangling.
  void reset() noexcept {
    text_.clear();
    // Looked at first: the exchange is a locked instruction, and usually nothing was built.
    if (cache_.load(std::memory_order_relaxed) != nullptr) {
      delete cache_.exchange(nullptr, std::memory_order_acq_rel);
    }
  }
  /// Copies `text` in, reusing the memory already held. Throws std::bad_alloc (nothing changed).
  void set(std::string_view text);
  /// The text itself, for the maker of a new path to write in place (reusing its memory); only
  /// before anyone holds a path() reference (the path built for one is dropped).
  [[nodiscard]] std::string& text_to_fill() noexcept {
    if (cache_.load(std::memory_order_relaxed) != nullptr) {
      delete cache_.exchange(nullptr, std::memory_order_acq_rel);
    }
    return text_;
  }

  [[nodiscard]] bool empty() const noexcept { return text_.empty(); }
  [[nodiscard]] const std::string& native() const noexcept { return text_; }
  [[nodiscard]] const char* c_str() const noexcept { return text_.c_str(); }
  /// The path, built on the first call (the same object from then on). Throws std::bad_alloc if
  /// it cannot be built.
  [[nodiscard]] const std::filesystem::path& get() const;

 private:
  std::string text_;
  mutable std::atomic<std::filesystem::path*> cache_{nullptr};
};

}  // namespace tempfile::detail
