// One object a thread keeps for reuse: what its last temporary let go of, for its next one.
//
// A program usually makes its temporaries one after another. Getting a file's state or its 64 KiB
// buffer from malloc and giving it back costs more than anything else a temporary needs outside
// the kernel, so each thread keeps the last one it let go of. Per thread, so that taking and
// keeping cost no atomic instruction; freed when the thread ends.
#pragma once

#include <utility>

namespace tempfile::detail {

/// Each thread's one `T` (value-initialised), for the code that names `Tag` to keep things in.
template <class T, class Tag = T>
class thread_slot {
 public:
  /// This thread's object; null once the thread is ending (its thread_local objects are being
  /// destroyed), when what is let go of must be freed rather than kept.
  [[nodiscard]] static T* get() noexcept { return gone_ ? nullptr : &slot_.held; }

 private:
  struct slot {
    T held{};
    constexpr slot() noexcept = default;
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() { gone_ = true; }  // before `held` is destroyed: nothing is kept from now on
  };
  static inline thread_local slot slot_;
  static inline constinit thread_local bool gone_ = false;
};

/// The spare `T` of each thread, held by pointer; `Free` releases one (called with a non-null
/// pointer), when the thread ends.
template <class T, class Free>
class thread_spare {
 public:
  /// This thread's spare, or null.
  [[nodiscard]] static T* take() noexcept {
    holder* h = slot::get();
    return h != nullptr ? std::exchange(h->held, nullptr) : nullptr;
  }
  /// True if keep() would keep an object now.
  [[nodiscard]] static bool has_room() noexcept {
    const holder* h = slot::get();
    return h != nullptr && h->held == nullptr;
  }
  /// Keeps `p` as this thread's spare if there is room (true); else the caller still owns it.
  [[nodiscard]] static bool keep(T* p) noexcept {
    holder* h = slot::get();
    if (h == nullptr || h->held != nullptr) return false;
    h->held = p;
    return true;
  }

 private:
  struct holder {
    T* held = nullptr;
    constexpr holder() noexcept = default;
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
    ~holder() {
      if (held != nullptr) Free{}(held);
    }
  };
  using slot = thread_slot<holder, Free>;
};

}  // namespace tempfile::detail
