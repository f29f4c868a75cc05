#include "remove_tree.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "platform/directory.hpp"

namespace tempfile::detail {

namespace {

using platform::handle;
using platform::invalid_handle;

/// Directory descriptors a walk holds at once, its root included. Deeper directories get their
/// ancestors' descriptors closed, and reopened (identity checked) on the way back up.
constexpr std::size_t kMaxOpenDirs = 64;
/// Listings of one directory that still was not empty after a clean pass (entries created
/// meanwhile, or skipped by a listing resumed on a reopened descriptor).
constexpr unsigned kMaxPasses = 8;
constexpr unsigned kOwnerAll = 0700;

#ifdef TEMPFILE_FAULT_INJECTION
remove_tree_seam::hook g_hook = nullptr;
void* g_hook_context = nullptr;
void notify(remove_tree_seam::event e, handle dir, const char* name) noexcept {
  if (g_hook != nullptr) g_hook(e, dir, name, g_hook_context);
}
#define TEMPFILE_TREE_SEAM(e, dir, name) notify(remove_tree_seam::event::e, dir, name)
#else
#define TEMPFILE_TREE_SEAM(e, dir, name) ((void)0)
#endif

bool vanished(const std::error_code& ec) noexcept {
  return ec == std::errc::no_such_file_or_directory;
}
bool not_empty(const std::error_code& ec) noexcept {
  return ec == std::errc::directory_not_empty || ec == std::errc::file_exists;
}
bool denied(const std::error_code& ec) noexcept {
  return ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted;
}
std::error_code out_of_memory() noexcept {
  return std::make_error_code(std::errc::not_enough_memory);
}

// Where a walk gets its memory: the heap normally; a static arena inside a signal handler,
// where malloc must not be called.
struct tree_memory {
  void* (*grow)(void* old, std::size_t old_size, std::size_t new_size) noexcept;
  void (*release)(void* block) noexcept;
};

void* heap_grow(void* old, std::size_t, std::size_t new_size) noexcept {
  return std::realloc(old, new_size);
}
void heap_release(void* block) noexcept { std::free(block); }
constexpr tree_memory kHeap{&heap_grow, &heap_release};

// The arena of remove_tree_signal_safe(): bump allocation, nothing freed until the next walk.
// Untouched pages of it cost nothing.
constexpr std::size_t kArenaSize = std::size_t{16} << 20;
alignas(std::max_align_t) unsigned char g_arena[kArenaSize];
std::size_t g_arena_used = 0;
std::atomic_flag g_arena_busy = ATOMIC_FLAG_INIT;

void* arena_grow(void* old, std::size_t old_size, std::size_t new_size) noexcept {
  constexpr std::size_t kAlign = alignof(std::max_align_t);
  const std::size_t start = (g_arena_used + kAlign - 1) / kAlign * kAlign;
  if (start > kArenaSize || new_size > kArenaSize - start) return nullptr;
  void* block = g_arena + start;
  if (old != nullptr && old_size > 0)
    std::memcpy(block, old, old_size < new_size ? old_size : new_size);
  g_arena_used = start + new_size;
  return block;
}
void arena_release(void*) noexcept {}
constexpr tree_memory kArena{&arena_grow, &arena_release};

// A growable array of trivially copyable T: reports failure instead of throwing, so the walk
// stays free of exceptions.
template <class T>
class raw_array {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit raw_array(const tree_memory& memory) noexcept : memory_(memory) {}
  raw_array(const raw_array&) = delete;
  raw_array& operator=(const raw_array&) = delete;
  ~raw_array() { memory_.release(data_); }

  T* data() noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  void shrink(std::size_t n) noexcept { size_ = n; }
  bool append(const T* items, std::size_t n) noexcept {
    if (size_ + n > capacity_) {
      std::size_t capacity = capacity_ < 16 ? 16 : capacity_;
      while (capacity < size_ + n) capacity *= 2;
      void* grown = memory_.grow(data_, size_ * sizeof(T), capacity * sizeof(T));
      if (grown == nullptr) return false;
      data_ = static_cast<T*>(grown);
      capacity_ = capacity;
    }
    std::memcpy(static_cast<void*>(data_ + size_), items, n * sizeof(T));
    size_ += n;
    return true;
  }

 private:
  const tree_memory& memory_;
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// One directory on the way from the root of a walk to where it works now.
struct frame {
  handle fd = invalid_handle;   // invalid while closed to bound the descriptors held
  platform::file_identity id;   // recorded when the descriptor is closed early
  std::int64_t position = 0;    // where listing resumes on a reopened descriptor
  std::size_t name = 0;         // offset in the name arena of this directory's name
  std::size_t pending = 0;      // [pending, pending_end): names of subdirectories that
  std::size_t pending_end = 0;  //   were not empty, still to be emptied and removed
  unsigned passes = 0;
  bool mode_fixed = false;   // owner rwx given already
  bool saw_entries = false;  // this pass listed something
  bool failed = false;       // something in here could not be removed (reported)
};

// The walk. Frames form an explicit stack; the names of subdirectories waiting to be emptied
// live in one arena used as a stack too, so memory grows with the depth and with one listing
// batch per level, never with the size of the tree. Descriptors are open for the root and for a
// contiguous run of frames at the top: [open_lo_, top].
class walker {
 public:
  walker(std::error_code& first_error, const std::filesystem::path* root_path,
         std::filesystem::path* failed_entry, const tree_memory& memory = kHeap) noexcept
      : first_error_(first_error),
        root_path_(root_path),
        failed_entry_(failed_entry),
        memory_(memory),
        frames_(memory),
        names_(memory) {}
  walker(const walker&) = delete;
  walker& operator=(const walker&) = delete;
  ~walker() { memory_.release(batch_); }

  // One pass over the open directory `root` (which stays open): removes everything in it.
  void empty(handle root, bool root_mode_fixed) noexcept {
    root_failed_ = true;
    root_saw_entries_ = false;
    root_mode_fixed_ = root_mode_fixed;
    if (batch_ == nullptr) batch_ = memory_.grow(nullptr, 0, platform::kDirectoryBufferSize);
    frames_.shrink(0);
    names_.shrink(0);
    frame r;
    r.fd = root;
    r.mode_fixed = root_mode_fixed;
    if (batch_ == nullptr || !frames_.append(&r, 1)) {
      if (!first_error_) first_error_ = out_of_memory();
      return;
    }
    open_count_ = 1;
    open_lo_ = 1;
    run();
    root_failed_ = frames_[0].failed;
    root_saw_entries_ = frames_[0].saw_entries;
    root_mode_fixed_ = frames_[0].mode_fixed;
  }

  [[nodiscard]] bool failed() const noexcept { return root_failed_; }
  [[nodiscard]] bool saw_entries() const noexcept { return root_saw_entries_; }
  [[nodiscard]] bool root_mode_fixed() const noexcept { return root_mode_fixed_; }

 private:
  const char* name_at(std::size_t offset) noexcept { return names_.data() + offset; }

  void run() noexcept {
    for (;;) {
      const std::size_t t = frames_.size() - 1;
      if (frames_[t].pending < frames_[t].pending_end) {
        descend(t);
        continue;
      }
      const std::size_t base = t == 0 ? 0 : frames_[t - 1].pending_end;
      names_.shrink(base);
      frames_[t].pending = frames_[t].pending_end = base;
      std::error_code ec;
      const std::size_t n =
          platform::read_directory(frames_[t].fd, batch_, platform::kDirectoryBufferSize, ec);
      if (ec) fail(t, ec, nullptr);
      if (n > 0) {
        remove_batch(t, n);
        continue;
      }
      if (t == 0) return;
      ascend(t);
    }
  }

  // Files, symbolic links and empty directories go at once; the other subdirectories are noted.
  void remove_batch(std::size_t t, std::size_t n) noexcept {
    std::size_t offset = 0;
    platform::directory_entry e;
    while (platform::next_entry(batch_, n, offset, e)) {
      frames_[t].saw_entries = true;
      bool directory = e.type == platform::entry_type::directory;
      if (e.type == platform::entry_type::unknown) {
        std::error_code ec;
        const platform::file_status st = platform::status_at(frames_[t].fd, e.name, ec);
        if (ec) {
          if (!vanished(ec)) fail(t, ec, e.name);
          continue;
        }
        directory = st.is_directory;
      }
      remove_entry(t, e.name, directory, true);
    }
  }

  // Removes `name` of frame t. A directory that is not empty is added to the frame's pending
  // names when `may_defer` (otherwise the frame's final rmdir sees it and the frame is listed
  // again).
  void remove_entry(std::size_t t, const char* name, bool directory, bool may_defer) noexcept {
    std::error_code ec;
    for (unsigned attempt = 0; attempt < 4; ++attempt) {
      platform::remove_at(frames_[t].fd, name, directory, ec);
      if (!ec || vanished(ec)) return;
      if (directory && not_empty(ec)) {
        if (may_defer) add_pending(t, name);
        return;
      }
      // The entry changed kind since it was listed: remove what is there now.
      if (directory && ec == std::errc::not_a_directory) {
        directory = false;
        continue;
      }
      if (!directory && ec == std::errc::is_a_directory) {
        directory = true;
        continue;
      }
      // EACCES/EPERM: the directory lacks w or x (a read-only file needs nothing more).
      if (denied(ec) && fix_mode(t)) continue;
      break;
    }
    fail(t, ec, name);
  }

  void add_pending(std::size_t t, const char* name) noexcept {
    if (!names_.append(name, std::strlen(name) + 1)) {
      fail(t, out_of_memory(), name);
      return;
    }
    frames_[t].pending_end = names_.size();
  }

  void skip_pending(std::size_t t) noexcept {
    frames_[t].pending += std::strlen(name_at(frames_[t].pending)) + 1;
  }

  // Gives frame t owner rwx, once; false if that was done already or failed.
  bool fix_mode(std::size_t t) noexcept {
    frame& f = frames_[t];
    if (f.mode_fixed) return false;
    f.mode_fixed = true;
    std::error_code ec;
    platform::set_mode(f.fd, kOwnerAll, ec);
    return !ec;
  }

  // Opens the first pending subdirectory of frame t and makes it the top.
  void descend(std::size_t t) noexcept {
    const std::size_t name_offset = frames_[t].pending;
    const char* name = name_at(name_offset);
    TEMPFILE_TREE_SEAM(open_child, frames_[t].fd, name);
    std::error_code ec;
    handle fd = invalid_handle;
    bool child_fixed = false;
    for (unsigned attempt = 0; attempt < 3; ++attempt) {
      fd = platform::open_directory_at(frames_[t].fd, name, ec);
      if (!ec || !denied(ec)) break;
      // EACCES: the parent lacks x, or the child lacks r. The parent first, then the child (by
      // name, never following a symbolic link).
      if (fix_mode(t)) continue;
      if (child_fixed) break;
      child_fixed = true;
      std::error_code chmod_ec;
      platform::set_mode_at(frames_[t].fd, name, kOwnerAll, chmod_ec);
      if (chmod_ec) break;
    }
    if (ec) {
      if (ec == std::errc::too_many_symbolic_link_levels || ec == std::errc::not_a_directory) {
        // Replaced by a symbolic link or a file since it was listed: remove that, never follow.
        remove_entry(t, name, false, false);
      } else if (!vanished(ec)) {
        fail(t, ec, name);
      }
      skip_pending(t);
      return;
    }
    if (open_count_ >= kMaxOpenDirs) evict();
    frame child;
    child.fd = fd;
    child.name = name_offset;
    child.pending = child.pending_end = names_.size();
    child.mode_fixed = child_fixed;
    if (!frames_.append(&child, 1)) {
      std::error_code ignored;
      platform::close(fd, ignored);
      fail(t, out_of_memory(), name);
      skip_pending(t);
      return;
    }
    ++open_count_;
  }

  // Closes the lowest open descriptor above the root, noting what is needed to reopen it.
  void evict() noexcept {
    if (open_lo_ + 1 >= frames_.size()) return;
    frame& f = frames_[open_lo_];
    std::error_code ec;
    const platform::file_status st = platform::status(f.fd, ec);
    if (ec) return;  // keep it open: a descriptor over the bound beats losing the way back
    const std::int64_t position = platform::tell_directory(f.fd, ec);
    if (ec) return;
    f.id = st.id;
    f.position = position;
    platform::close(f.fd, ec);
    f.fd = invalid_handle;
    --open_count_;
    ++open_lo_;
  }

  // Frame t is empty: remove it from its parent, or list it again if entries appeared.
  void ascend(std::size_t t) noexcept {
    const std::size_t p = t - 1;
    if (frames_[p].fd == invalid_handle && !reopen_parent(t)) return;
    const char* name = name_at(frames_[t].name);
    std::error_code ec;
    bool directory = true;
    for (unsigned attempt = 0; attempt < 4; ++attempt) {
      platform::remove_at(frames_[p].fd, name, directory, ec);
      if (!ec || vanished(ec)) break;
      if (directory && not_empty(ec)) {
        frame& f = frames_[t];
        if (!f.failed && f.saw_entries && f.passes + 1 < kMaxPasses) {
          std::error_code seek_ec;
          platform::seek_directory(f.fd, 0, seek_ec);
          if (!seek_ec) {
            ++f.passes;
            f.saw_entries = false;
            return;
          }
        }
        break;
      }
      // Our directory was moved away and something else put under its name: remove that.
      if (directory && ec == std::errc::not_a_directory) {
        directory = false;
        continue;
      }
      if (denied(ec) && fix_mode(p)) continue;
      break;
    }
    if (ec && !vanished(ec)) {
      // A directory left non-empty by an error reported already needs no second report.
      if (!(not_empty(ec) && frames_[t].failed)) fail(p, ec, name);
      frames_[t].failed = true;
    }
    pop();
  }

  void pop() noexcept {
    const std::size_t t = frames_.size() - 1;
    const frame f = frames_[t];
    if (f.fd != invalid_handle) {
      std::error_code ignored;
      platform::close(f.fd, ignored);
      --open_count_;
    }
    frames_.shrink(t);
    frame& parent = frames_[t - 1];
    parent.pending = f.name + std::strlen(name_at(f.name)) + 1;
    names_.shrink(parent.pending_end);
    if (f.failed) parent.failed = true;
    if (open_lo_ > frames_.size()) open_lo_ = frames_.size();
  }

  // Reopens the closed parent of frame t through "..", accepted only if it is the directory
  // first seen there (device and inode); else by names from the root. False if abandoned.
  bool reopen_parent(std::size_t t) noexcept {
    const std::size_t p = t - 1;
    TEMPFILE_TREE_SEAM(open_parent, frames_[t].fd, "..");
    std::error_code ec;
    const handle fd = platform::open_directory_at(frames_[t].fd, "..", ec);
    if (!ec) {
      const platform::file_status st = platform::status(fd, ec);
      if (!ec && st.id == frames_[p].id) {
        adopt(p, fd);
        return true;
      }
      std::error_code ignored;
      platform::close(fd, ignored);
    }
    // The child was moved (or ".." refused): find the parent again where it should be.
    return reopen_by_names(p);
  }

  // Reopens frame `target` by its names from the nearest open ancestor, checking each
  // directory's identity, so that a directory swapped in meanwhile is never entered. On failure
  // the frames from the unreachable one up are abandoned (their removal reported as failed).
  bool reopen_by_names(std::size_t target) noexcept {
    std::size_t j = target;
    while (frames_[j].fd == invalid_handle) --j;  // the root is always open
    handle fd = frames_[j].fd;
    for (std::size_t k = j + 1; k <= target; ++k) {
      std::error_code ec;
      handle next = platform::open_directory_at(fd, name_at(frames_[k].name), ec);
      if (!ec) {
        const platform::file_status st = platform::status(next, ec);
        if (!ec && st.id != frames_[k].id) ec = platform::stale_error();
        if (ec) {
          std::error_code ignored;
          platform::close(next, ignored);
        }
      }
      if (ec) {
        if (k - 1 > j) adopt(k - 1, fd);
        abandon(k, ec);
        return false;
      }
      if (k - 1 > j) {
        std::error_code ignored;
        platform::close(fd, ignored);
      }
      fd = next;
    }
    adopt(target, fd);
    return true;
  }

  // Makes `fd` frame i's descriptor again, listing from where it stopped.
  void adopt(std::size_t i, handle fd) noexcept {
    frames_[i].fd = fd;
    ++open_count_;
    open_lo_ = i;
    std::error_code ec;
    // On failure the listing restarts from the beginning: entries seen twice are just gone.
    platform::seek_directory(fd, frames_[i].position, ec);
  }

  // Gives up frames k and above, which cannot be reached safely any more; frame k - 1 is open.
  void abandon(std::size_t k, std::error_code ec) noexcept {
    if (!vanished(ec)) fail(k - 1, ec, name_at(frames_[k].name));
    while (frames_.size() > k) pop();
  }

  void fail(std::size_t t, std::error_code ec, const char* name) noexcept {
    frames_[t].failed = true;
    if (first_error_) return;
    first_error_ = ec;
    if (failed_entry_ == nullptr || root_path_ == nullptr) return;
    try {
      std::filesystem::path where = *root_path_;
      for (std::size_t i = 1; i <= t; ++i) where /= name_at(frames_[i].name);
      if (name != nullptr) where /= name;
      *failed_entry_ = std::move(where);
    } catch (...) {  // the error code alone is still reported
    }
  }

  std::error_code& first_error_;
  const std::filesystem::path* root_path_;
  std::filesystem::path* failed_entry_;
  const tree_memory& memory_;
  void* batch_ = nullptr;
  raw_array<frame> frames_;
  raw_array<char> names_;
  std::size_t open_count_ = 0;
  std::size_t open_lo_ = 1;
  bool root_failed_ = false;
  bool root_saw_entries_ = false;
  bool root_mode_fixed_ = false;
};

// remove_tree() on an absolute path given as characters, so that the signal-safe variant needs
// no std::filesystem::path; `root_path` (the same path) is only used to word failures.
void remove_tree_core(const char* root_name, std::error_code& first_error,
                      const std::filesystem::path* root_path, std::filesystem::path* failed_entry,
                      const tree_memory& memory) noexcept {
  first_error.clear();
  const auto report = [&](std::error_code ec) noexcept {
    if (first_error) return;
    first_error = ec;
    if (failed_entry == nullptr || root_path == nullptr) return;
    try {
      *failed_entry = *root_path;
    } catch (...) {
    }
  };
  std::error_code ec;
  platform::remove_directory(root_name, ec);
  if (!ec || vanished(ec)) return;
  // ENOTEMPTY (EEXIST on some systems) means a walk. EACCES/EPERM come from the directory that
  // holds `path`, whose mode is never touched: remove what is inside all the same.
  if (!not_empty(ec) && !denied(ec)) {
    report(ec);
    return;
  }
  bool root_fixed = false;
  handle root = platform::open_directory_at(invalid_handle, root_name, ec);
  if (denied(ec)) {
    // The directory itself lacks r or x: fix it by name, without following a symbolic link.
    std::error_code chmod_ec;
    platform::set_mode_at(invalid_handle, root_name, kOwnerAll, chmod_ec);
    if (!chmod_ec) {
      root_fixed = true;
      root = platform::open_directory_at(invalid_handle, root_name, ec);
    }
  }
  if (ec) {
    if (!vanished(ec)) report(ec);
    return;
  }
  walker w(first_error, root_path, failed_entry, memory);
  for (unsigned pass = 1;; ++pass) {
    w.empty(root, root_fixed);
    root_fixed = w.root_mode_fixed();
    platform::remove_directory(root_name, ec);
    if (!ec || vanished(ec)) break;
    if (not_empty(ec) && !w.failed() && w.saw_entries() && pass < kMaxPasses) {
      std::error_code seek_ec;
      platform::seek_directory(root, 0, seek_ec);
      if (!seek_ec) continue;
    }
    if (!(not_empty(ec) && w.failed())) report(ec);
    break;
  }
  std::error_code ignored;
  platform::close(root, ignored);
}

}  // namespace

void remove_tree(const std::filesystem::path& path, std::error_code& first_error,
                 std::filesystem::path* failed_entry) noexcept {
  remove_tree_core(path.c_str(), first_error, &path, failed_entry, kHeap);
}

void remove_tree_signal_safe(const char* path) noexcept {
  // One walk at a time owns the arena; a second thread dying at the same moment skips the walk
  // (the first one is removing the same registered trees).
  if (g_arena_busy.test_and_set(std::memory_order_acquire)) return;
  g_arena_used = 0;
  std::error_code ignored;
  remove_tree_core(path, ignored, nullptr, nullptr, kArena);
  g_arena_busy.clear(std::memory_order_release);
}

void remove_contents(platform::handle dir, std::error_code& first_error) noexcept {
  first_error.clear();
  walker w(first_error, nullptr, nullptr);
  w.empty(dir, false);
}

#ifdef TEMPFILE_FAULT_INJECTION
namespace remove_tree_seam {
void set_hook(hook h, void* context) noexcept {
  g_hook = h;
  g_hook_context = context;
}
}  // namespace remove_tree_seam
#endif

}  // namespace tempfile::detail
