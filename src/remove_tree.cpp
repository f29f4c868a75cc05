#include "remove_tree.hpp"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <type_traits>

#include "platform/directory.hpp"

namespace tempfile::detail {

namespace {

using platform::handle;
using platform::invalid_handle;

/// Directory descriptors a removal holds at once, its root included, however many threads it
/// uses. Deeper directories get their ancestors' descriptors closed, and reopened (identity
/// checked) on the way back up.
constexpr std::size_t kMaxOpenDirs = 64;
/// What a walk alone may hold: it opens a subdirectory before it closes an ancestor, so for a
/// moment it holds one more.
constexpr std::size_t kAloneOpenDirs = kMaxOpenDirs - 1;
/// Threads a removal uses at most, the calling one included (fewer on fewer processors).
constexpr unsigned kMaxThreads = 4;
/// Descriptors of each walk of a handed-off subtree (a helper thread's, or one that a thread
/// runs while it waits for its own).
constexpr std::size_t kHelperOpenDirs = 4;
/// Subdirectories queued for each busy helper thread, so that it never waits for the next.
constexpr unsigned kQueuedPerThread = 1;

/// What the first walk may hold once `helpers` threads help (until then it has kAloneOpenDirs).
/// Each walk holds its budget plus, for a moment, the subdirectory it opens before closing an
/// ancestor; the queue holds at most two subdirectories per helper and one more. So: kMaxOpenDirs
/// less, for each helper, its walk, its nested walk and two queued subdirectories; less the
/// first thread's nested walk and one more queued subdirectory; less the first walk's moment.
constexpr std::size_t main_walk_budget(unsigned helpers) noexcept {
  return helpers == 0 ? kAloneOpenDirs
                      : kMaxOpenDirs - 1 - (kHelperOpenDirs + 1) - 1 -
                            helpers * (2 * (kHelperOpenDirs + 1) + 2);
}
static_assert(main_walk_budget(kMaxThreads - 1) >= 16);
/// Entries a removal deletes on its own before it starts helper threads: smaller trees never pay
/// for a thread.
constexpr std::size_t kParallelAfter = 1024;
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
std::atomic<std::size_t> g_parallel_after{kParallelAfter};
// The seams are not thread-aware: tests get helper threads only when they ask (set_parallel).
std::atomic<int> g_helpers{0};  // -1: one per available processor
std::atomic<std::uint64_t> g_handed_off{0};
std::atomic<std::uint64_t> g_threads_started{0};
std::atomic<std::uint64_t> g_taken_back{0};
std::size_t parallel_after() noexcept { return g_parallel_after.load(); }
int helpers_override() noexcept { return g_helpers.load(); }
#define TEMPFILE_TREE_STAT(counter) g_##counter.fetch_add(1, std::memory_order_relaxed)
#else
std::size_t parallel_after() noexcept { return kParallelAfter; }
int helpers_override() noexcept { return -1; }
#define TEMPFILE_TREE_STAT(counter) ((void)0)
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
// After `ec` (EACCES or EPERM) a chmod meant to get past it failed with `chmod_ec`. Being refused
// again (not the owner) says nothing new, so `ec` stays what is reported; any other failure (EIO,
// ENOSPC...) is the news, and replaces it.
void keep_chmod_failure(std::error_code& ec, const std::error_code& chmod_ec) noexcept {
  if (chmod_ec && !denied(chmod_ec)) ec = chmod_ec;
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
  handle fd = invalid_handle;    // invalid while closed to bound the descriptors held
  platform::file_identity id;    // recorded when the descriptor is closed early
  std::int64_t position = 0;     // where listing resumes on a reopened descriptor
  std::size_t name = 0;          // offset in the name arena of this directory's name
  std::size_t pending = 0;       // [pending, pending_end): names of subdirectories that
  std::size_t pending_end = 0;   //   were not empty, still to be emptied and removed
  struct task* tasks = nullptr;  // subdirectories handed to other threads, not yet settled
  unsigned passes = 0;
  bool mode_fixed = false;   // owner rwx given already
  bool saw_entries = false;  // this pass listed something
  bool failed = false;       // something in here could not be removed (reported)
  bool at_end = false;       // this pass listed everything
  bool keep_local = false;   // walk every remaining subdirectory here, none handed off
};

// Where a walk reports its first failure; shared, under `lock`, by the threads of one removal.
struct error_sink {
  std::error_code& first;
  std::filesystem::path* failed_entry = nullptr;
  std::mutex* lock = nullptr;
};

// A subdirectory handed from one walk to another thread: opened (O_NOFOLLOW) by the walk that
// found it, emptied by whichever thread takes it, then removed, by name, by the walk that found
// it (which therefore sees it as any other subdirectory once it is empty).
struct task {
  enum class state : unsigned char { queued, running, done, taken_back };
  handle fd = invalid_handle;
  bool mode_fixed = false;  // owner rwx given already
  bool failed = false;      // the walk inside could not remove everything (reported)
  state now = state::queued;
  task* queue_prev = nullptr;  // the pool's queue, while queued
  task* queue_next = nullptr;
  task* sibling = nullptr;      // the next task of the same frame
  std::filesystem::path where;  // its absolute path, when failures are to name entries
  std::string name;
};

class removal_pool;
class walker;

// What a thread taking part in a removal needs beyond its own walk: walks for subtrees it runs
// while it waits for one it handed off (at most one level of such nesting).
struct thread_context {
  bool may_help = false;            // false for the nested walk itself
  walker* nested = nullptr;         // made when first needed; the thread deletes it
  thread_context* inner = nullptr;  // the nested walk's own context
};

// The walk. Frames form an explicit stack; the names of subdirectories waiting to be emptied
// live in one arena used as a stack too, so memory grows with the depth and with one listing
// batch per level, never with the size of the tree. Descriptors are open for the root and for a
// contiguous run of frames at the top: [open_lo_, top].
//
// With a pool, a walk hands subdirectories it has opened to idle threads instead of walking them
// itself (never its last pending one), and settles them once its own listing of their parent is
// done: removes them by name when emptied, walks them itself when nobody took them.
class walker {
 public:
  walker(error_sink& sink, const std::filesystem::path* root_path,
         const tree_memory& memory = kHeap, std::size_t max_open = kAloneOpenDirs,
         removal_pool* pool = nullptr, thread_context* context = nullptr,
         std::size_t max_open_shared = 0) noexcept
      : sink_(sink),
        root_path_(root_path),
        memory_(memory),
        max_open_(max_open),
        max_open_shared_(max_open_shared != 0 ? max_open_shared : max_open),
        pool_(pool),
        context_(context),
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
      report(out_of_memory(), nullptr);
      return;
    }
    open_count_ = 1;
    open_lo_ = 1;
    run();
    root_failed_ = frames_[0].failed;
    root_saw_entries_ = frames_[0].saw_entries;
    root_mode_fixed_ = frames_[0].mode_fixed;
  }

  /// The absolute path of the next root, for naming failed entries (nullptr: none).
  void set_root_path(const std::filesystem::path* root_path) noexcept { root_path_ = root_path; }

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
      if (!frames_[t].at_end) {
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
        frames_[t].at_end = true;
      }
      if (frames_[t].tasks != nullptr) {
        settle_one(t);
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
      ++entries_;
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
      if (denied(ec) && fix_mode(t, ec)) continue;
      break;
    }
    fail(t, ec, name);
  }

  bool add_pending(std::size_t t, const char* name) noexcept {
    if (!names_.append(name, std::strlen(name) + 1)) {
      fail(t, out_of_memory(), name);
      return false;
    }
    frames_[t].pending_end = names_.size();
    return true;
  }

  void skip_pending(std::size_t t) noexcept {
    frames_[t].pending += std::strlen(name_at(frames_[t].pending)) + 1;
  }

  // Gives frame t owner rwx, once, after `ec` (EACCES or EPERM); false if that was done already
  // or failed (see keep_chmod_failure for what `ec` then holds).
  bool fix_mode(std::size_t t, std::error_code& ec) noexcept {
    frame& f = frames_[t];
    if (f.mode_fixed) return false;
    f.mode_fixed = true;
    std::error_code chmod_ec;
    platform::set_mode(f.fd, kOwnerAll, chmod_ec);
    keep_chmod_failure(ec, chmod_ec);
    return !chmod_ec;
  }

  // Opens the first pending subdirectory of frame t and makes it the top, or hands it to another
  // thread.
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
      if (fix_mode(t, ec)) continue;
      if (!denied(ec) || child_fixed) break;
      child_fixed = true;
      std::error_code chmod_ec;
      platform::set_mode_at(frames_[t].fd, name, kOwnerAll, chmod_ec);
      keep_chmod_failure(ec, chmod_ec);
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
    if (hand_off(t, fd, name, child_fixed)) {
      skip_pending(t);
      return;
    }
    enter(t, name_offset, fd, child_fixed);
  }

  // Makes the open subdirectory `fd` of frame t, named at `name_offset` (frame t's first pending
  // name), the top.
  void enter(std::size_t t, std::size_t name_offset, handle fd, bool child_fixed) noexcept {
    if (open_count_ >= max_open_) evict();
    frame child;
    child.fd = fd;
    child.name = name_offset;
    child.pending = child.pending_end = names_.size();
    child.mode_fixed = child_fixed;
    if (!frames_.append(&child, 1)) {
      std::error_code ignored;
      platform::close(fd, ignored);
      fail(t, out_of_memory(), name_at(name_offset));
      skip_pending(t);
      return;
    }
    ++open_count_;
  }

  // Offers the open subdirectory `fd` of frame t to the pool; true if another thread will empty
  // it (it is then one of frame t's tasks).
  bool hand_off(std::size_t t, handle fd, const char* name, bool child_fixed) noexcept;

  // Settles one task of frame t (the top): removes its subdirectory once another thread emptied
  // it, or walks it here when nobody took it. May wait for a thread to finish one.
  void settle_one(std::size_t t) noexcept;

  // Waits for (or takes back and closes) every task of frame t, removing nothing: for frames
  // given up.
  void drop_tasks(std::size_t t) noexcept;

  // Closes the lowest open descriptor above the root, noting what is needed to reopen it. False
  // if there was none to close.
  bool evict() noexcept {
    if (open_lo_ + 1 >= frames_.size()) return false;
    frame& f = frames_[open_lo_];
    std::error_code ec;
    const platform::file_status st = platform::status(f.fd, ec);
    if (ec) return false;  // keep it open: a descriptor over the bound beats losing the way back
    const std::int64_t position = platform::tell_directory(f.fd, ec);
    if (ec) return false;
    f.id = st.id;
    f.position = position;
    platform::close(f.fd, ec);
    f.fd = invalid_handle;
    --open_count_;
    ++open_lo_;
    return true;
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
            f.at_end = false;
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
      if (denied(ec) && fix_mode(p, ec)) continue;
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
    if (frames_[t].tasks != nullptr) drop_tasks(t);
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
    std::unique_lock<std::mutex> guard;
    if (sink_.lock != nullptr) guard = std::unique_lock<std::mutex>(*sink_.lock);
    if (sink_.first) return;
    sink_.first = ec;
    if (sink_.failed_entry == nullptr || root_path_ == nullptr) return;
    try {
      *sink_.failed_entry = path_of(t, name);
    } catch (...) {  // the error code alone is still reported
    }
  }

  // A failure of the walk itself (no entry to name).
  void report(std::error_code ec, const char*) noexcept {
    std::unique_lock<std::mutex> guard;
    if (sink_.lock != nullptr) guard = std::unique_lock<std::mutex>(*sink_.lock);
    if (!sink_.first) sink_.first = ec;
  }

  // The absolute path of `name` in frame t (frame t itself when `name` is null). Throws.
  std::filesystem::path path_of(std::size_t t, const char* name) {
    std::filesystem::path where = *root_path_;
    for (std::size_t i = 1; i <= t; ++i) where /= name_at(frames_[i].name);
    if (name != nullptr) where /= name;
    return where;
  }

  error_sink& sink_;
  const std::filesystem::path* root_path_;
  const tree_memory& memory_;
  std::size_t max_open_;
  std::size_t max_open_shared_;  // max_open_ once other threads take part
  removal_pool* pool_;
  thread_context* context_;
  void* batch_ = nullptr;
  raw_array<frame> frames_;
  raw_array<char> names_;
  std::size_t open_count_ = 0;
  std::size_t open_lo_ = 1;
  std::size_t entries_ = 0;  // entries this walk has listed
  bool root_failed_ = false;
  bool root_saw_entries_ = false;
  bool root_mode_fixed_ = false;
};

// The threads of one removal and the subdirectories handed between them.
//
// A walk offers an opened subdirectory only while some thread is idle, or one more may be
// started, or fewer tasks wait than helpers are busy (so that one finishing finds the next at
// once): at most two tasks per helper, and one more, wait in the queue. Threads start only once the
// removal has listed kParallelAfter entries, never more than the processors available (at most
// kMaxThreads, the calling thread included), and every signal is blocked in them. A thread that
// must wait for a task it handed off runs queued ones meanwhile (one level deep); one that finds
// its task still queued takes it back. A walk only ever waits for walks inside its own subtree,
// which started after it did, so waits cannot form a cycle.
class removal_pool {
 public:
  removal_pool(error_sink& sink, unsigned helpers) noexcept : sink_(sink), max_helpers_(helpers) {
    sink_.lock = &lock_;
  }
  removal_pool(const removal_pool&) = delete;
  removal_pool& operator=(const removal_pool&) = delete;
  ~removal_pool() {
    {
      std::lock_guard<std::mutex> guard(lock_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (unsigned i = 0; i < started_; ++i) platform::join_thread(threads_[i]);
    sink_.lock = nullptr;
  }

  // Reserves a place for one task if a thread will take it: an idle one, or a new one once the
  // offering walk has listed `entries` >= parallel_after(). Follow with submit() or cancel().
  bool reserve(std::size_t entries) noexcept {
    if (!parallel_.load(std::memory_order_relaxed)) {
      if (entries < parallel_after()) return false;
      parallel_.store(true, std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> guard(lock_);
    // Idle threads take a task at once; a busy one finds the next waiting when it is done.
    if (queued_ < idle_ + kQueuedPerThread * started_) {
      ++queued_;
      return true;
    }
    if (started_ >= max_helpers_) return false;
    ++idle_;  // the new thread, before it even runs
    if (!platform::start_thread(&removal_pool::thread_main, this, threads_[started_])) {
      --idle_;
      max_helpers_ = started_;  // no more threads to be had: stop asking
      return false;
    }
    ++started_;
    TEMPFILE_TREE_STAT(threads_started);
    ++queued_;
    return true;
  }

  void cancel() noexcept {
    std::lock_guard<std::mutex> guard(lock_);
    --queued_;
  }

  // Queues `t`, in the place reserve() made for it.
  void submit(task* t) noexcept {
    TEMPFILE_TREE_STAT(handed_off);
    bool wake_waiting = false;
    {
      std::lock_guard<std::mutex> guard(lock_);
      t->now = task::state::queued;
      t->queue_prev = tail_;
      t->queue_next = nullptr;
      (tail_ != nullptr ? tail_->queue_next : head_) = t;
      tail_ = t;
      wake_waiting = helpers_waiting_ > 0;
    }
    work_ready_.notify_one();
    if (wake_waiting) settled_.notify_all();
  }

  // Unlinks from `list` a task that is done or that was still queued (then taken back, its
  // descriptor the caller's again), waiting while every one is running; the caller frees it.
  task* settle(task*& list, thread_context& context) noexcept {
    std::unique_lock<std::mutex> guard(lock_);
    for (;;) {
      for (task** p = &list; *p != nullptr; p = &(*p)->sibling) {
        task* t = *p;
        if (t->now == task::state::queued) {
          unqueue(t);
          t->now = task::state::taken_back;
          TEMPFILE_TREE_STAT(taken_back);
        }
        if (t->now == task::state::done || t->now == task::state::taken_back) {
          *p = t->sibling;
          return t;
        }
      }
      if (context.may_help && head_ != nullptr && nested_walker(context) != nullptr) {
        task* other = head_;
        unqueue(other);
        other->now = task::state::running;
        guard.unlock();
        run(*context.nested, other);
        guard.lock();
        continue;
      }
      wait(guard, context.may_help);
    }
  }

  // Waits for every task of `list`, or takes it back and closes its descriptor: for subtrees
  // given up. Frees them.
  void drop(task*& list) noexcept {
    std::unique_lock<std::mutex> guard(lock_);
    while (list != nullptr) {
      for (task** p = &list; *p != nullptr;) {
        task* t = *p;
        if (t->now == task::state::queued) {
          unqueue(t);
          std::error_code ignored;
          platform::close(t->fd, ignored);
          t->now = task::state::taken_back;
        }
        if (t->now == task::state::running) {
          p = &t->sibling;
          continue;
        }
        *p = t->sibling;
        delete t;
      }
      if (list != nullptr) wait(guard, false);
    }
  }

  // Empties the directory of task `t` with `w`, closes it and marks the task done.
  void run(walker& w, task* t) noexcept {
    w.set_root_path(t->where.empty() ? nullptr : &t->where);
    w.empty(t->fd, t->mode_fixed);
    std::error_code ignored;
    platform::close(t->fd, ignored);
    std::lock_guard<std::mutex> guard(lock_);
    t->fd = invalid_handle;
    t->failed = w.failed();
    t->now = task::state::done;
    if (waiting_ > 0) settled_.notify_all();
  }

  // The nested walk of `context`, made when first needed; nullptr if there is no memory for it.
  walker* nested_walker(thread_context& context) noexcept {
    if (context.nested == nullptr) {
      context.nested =
          new (std::nothrow) walker(sink_, nullptr, kHeap, kHelperOpenDirs, this, context.inner);
    }
    return context.nested;
  }

 private:
  static void thread_main(void* self) noexcept { static_cast<removal_pool*>(self)->work(); }

  void work() noexcept {
    thread_context inner;
    thread_context outer;
    outer.may_help = true;
    outer.inner = &inner;
    {
      walker w(sink_, nullptr, kHeap, kHelperOpenDirs, this, &outer);
      std::unique_lock<std::mutex> guard(lock_);
      for (;;) {
        while (head_ == nullptr && !stopping_) work_ready_.wait(guard);
        --idle_;
        if (head_ == nullptr) break;
        task* t = head_;
        unqueue(t);
        t->now = task::state::running;
        guard.unlock();
        run(w, t);
        guard.lock();
        ++idle_;
      }
    }
    delete outer.nested;
  }

  void wait(std::unique_lock<std::mutex>& guard, bool may_help) noexcept {
    ++waiting_;
    if (may_help) {
      ++idle_;
      ++helpers_waiting_;
    }
    settled_.wait(guard);
    if (may_help) {
      --idle_;
      --helpers_waiting_;
    }
    --waiting_;
  }

  void unqueue(task* t) noexcept {
    (t->queue_prev != nullptr ? t->queue_prev->queue_next : head_) = t->queue_next;
    (t->queue_next != nullptr ? t->queue_next->queue_prev : tail_) = t->queue_prev;
    t->queue_prev = t->queue_next = nullptr;
    --queued_;
  }

  error_sink& sink_;
  std::mutex lock_;
  std::condition_variable work_ready_;  // helper threads wait here for tasks
  std::condition_variable settled_;     // walks wait here for their tasks (or, idle, for work)
  std::atomic<bool> parallel_{false};   // the removal proved big enough for threads
  unsigned max_helpers_;
  unsigned started_ = 0;
  platform::thread_id threads_[kMaxThreads] = {};
  task* head_ = nullptr;  // the queue, oldest (nearest the root) first
  task* tail_ = nullptr;
  unsigned queued_ = 0;  // tasks queued or reserved
  unsigned idle_ = 0;    // threads that would take a task now
  unsigned waiting_ = 0;
  unsigned helpers_waiting_ = 0;
  bool stopping_ = false;
};

bool walker::hand_off(std::size_t t, handle fd, const char* name, bool child_fixed) noexcept {
  if (pool_ == nullptr || frames_[t].keep_local) return false;
  // Never the last pending subdirectory: this walk keeps work of its own.
  if (frames_[t].pending + std::strlen(name) + 1 >= frames_[t].pending_end) return false;
  if (!pool_->reserve(entries_)) return false;
  // Other threads may be at work from now on: this walk keeps to its share of the descriptors.
  if (max_open_ > max_open_shared_) {
    max_open_ = max_open_shared_;
    while (open_count_ > max_open_ && evict()) {
    }
  }
  task* handed = new (std::nothrow) task;
  if (handed != nullptr) {
    try {
      handed->name = name;
      if (sink_.failed_entry != nullptr && root_path_ != nullptr) handed->where = path_of(t, name);
    } catch (...) {
      delete handed;
      handed = nullptr;
    }
  }
  if (handed == nullptr) {
    pool_->cancel();
    return false;
  }
  handed->fd = fd;
  handed->mode_fixed = child_fixed;
  handed->sibling = frames_[t].tasks;
  frames_[t].tasks = handed;
  pool_->submit(handed);
  return true;
}

void walker::settle_one(std::size_t t) noexcept {
  task* settled = pool_->settle(frames_[t].tasks, *context_);
  const char* name = settled->name.c_str();
  if (settled->now == task::state::taken_back) {
    // Nobody started it: walk it here, as if it had never been handed off.
    if (add_pending(t, name)) {
      enter(t, frames_[t].pending, settled->fd, settled->mode_fixed);
    } else {
      std::error_code ignored;
      platform::close(settled->fd, ignored);
    }
  } else if (settled->failed) {
    // Left non-empty by failures reported already: no second report, and the rmdir below only
    // removes it if it was emptied after all.
    frames_[t].failed = true;
    remove_entry(t, name, true, false);
  } else {
    // Emptied: remove it. If entries appeared meanwhile, it becomes pending here, and so does
    // everything after it in this frame (no subdirectory bounces between threads forever).
    const std::size_t before = frames_[t].pending_end;
    remove_entry(t, name, true, true);
    if (frames_[t].pending_end != before) frames_[t].keep_local = true;
  }
  delete settled;
}

void walker::drop_tasks(std::size_t t) noexcept { pool_->drop(frames_[t].tasks); }

// remove_tree() on an absolute path given as characters, so that the signal-safe variant needs
// no std::filesystem::path; `root_path` (the same path) is only used to word failures.
void remove_tree_core(const char* root_name, std::error_code& first_error,
                      const std::filesystem::path* root_path, std::filesystem::path* failed_entry,
                      const tree_memory& memory, bool parallel) noexcept {
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
    keep_chmod_failure(ec, chmod_ec);
  }
  if (ec) {
    if (!vanished(ec)) report(ec);
    return;
  }
  error_sink sink{first_error, failed_entry};
  const int helpers_wanted = helpers_override();
  unsigned helpers = !parallel             ? 0u
                     : helpers_wanted >= 0 ? static_cast<unsigned>(helpers_wanted)
                                           : platform::available_processors() - 1;
  if (helpers > kMaxThreads - 1) helpers = kMaxThreads - 1;
  std::optional<removal_pool> pool;
  if (helpers > 0) pool.emplace(sink, helpers);
  thread_context inner;
  thread_context outer;
  outer.may_help = true;
  outer.inner = &inner;
  walker w(sink, root_path, memory, kAloneOpenDirs, pool ? &*pool : nullptr, &outer,
           main_walk_budget(helpers));
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
  delete outer.nested;
}

}  // namespace

void remove_tree(const std::filesystem::path& path, std::error_code& first_error,
                 std::filesystem::path* failed_entry) noexcept {
  remove_tree_core(path.c_str(), first_error, &path, failed_entry, kHeap, true);
}

void remove_tree(const char* path, std::error_code& first_error) noexcept {
  remove_tree_core(path, first_error, nullptr, nullptr, kHeap, true);
}

void remove_tree_signal_safe(const char* path) noexcept {
  // One walk at a time owns the arena; a second thread dying at the same moment skips the walk
  // (the first one is removing the same registered trees).
  if (g_arena_busy.test_and_set(std::memory_order_acquire)) return;
  g_arena_used = 0;
  std::error_code ignored;
  remove_tree_core(path, ignored, nullptr, nullptr, kArena, false);
  g_arena_busy.clear(std::memory_order_release);
}

void reset_signal_safe_arena() noexcept {
  g_arena_used = 0;
  g_arena_busy.clear(std::memory_order_release);
}

void remove_contents(platform::handle dir, std::error_code& first_error) noexcept {
  first_error.clear();
  error_sink sink{first_error};
  walker w(sink, nullptr);
  w.empty(dir, false);
}

#ifdef TEMPFILE_FAULT_INJECTION
namespace remove_tree_seam {
void set_hook(hook h, void* context) noexcept {
  g_hook = h;
  g_hook_context = context;
}

void set_parallel(std::size_t after_entries, int helpers) noexcept {
  g_parallel_after.store(after_entries);
  g_helpers.store(helpers);
}

void reset_parallel() noexcept { set_parallel(kParallelAfter, 0); }

parallel_stats stats() noexcept {
  return {g_handed_off.load(), g_threads_started.load(), g_taken_back.load()};
}
}  // namespace remove_tree_seam
#endif

}  // namespace tempfile::detail
