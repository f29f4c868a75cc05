// One object a thread keeps for reuse: what its last temporary let go of, for its next one.
//
// A program usually makes its temporaries one after another. Getting a file's state or its 64 KiB
// buffer from malloc and giving it back costs more than anything else a temporary needs outside
// the kernel, so each thread keeps the last one it let go of. Per thread, so that taking and
// keeping cost no atomic instruction; freed when the thread ends.
#pragma once

#include <utility>

namespace tempfile::detail {

/// The spare `T` of each thread; `Free` releases one (called with a non-null pointer).
template <class T, class Free>
class thread_spare {
 public:
  /// This thread's spare, or null.
  [[nodiscard]] static T* take() noexcept {
    return gone_ ? nullptr : std::exchange(slot_.held, nullptr);
  }
  /// True if keep() would keep an object now.
  [[nodiscard]] static bool has_room() noexcept { return !gone_ && slot_.held == nullptr; }
  /// Keeps `p` as this thread's spare if there is room (true); else the caller still owns it.
  [[nodiscard]] static bool keep(T* p) noexcept {
    if (!has_room()) return false;
    slot_.held = p;
    return true;
  }

 private:
  struct slot {
    T* held = nullptr;
    constexpr slot() noexcept = default;
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() {
      gone_ = true;  // the thread is ending: what is let go of from now on is freed
      if (held != nullptr) Free{}(held);
    }
  };
  static inline thread_local slot slot_;
  static inline constinit thread_local bool gone_ = false;
};

}  // namespace tempfile::detail
