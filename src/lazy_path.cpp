#include "tempfile/detail/lazy_path.hpp"

#include <memory>
#include <new>
#include <utility>

namespace tempfile::detail {

void lazy_path::assign(std::string text) noexcept {
  text_ = std::move(text);
  std::filesystem::path* mine = cache_.load(std::memory_order_acquire);
  if (mine == nullptr) return;
  try {
    *mine = std::filesystem::path(text_);
  } catch (...) {  // std::bad_alloc: built again on the next get()
    delete cache_.exchange(nullptr, std::memory_order_acq_rel);
  }
}

void lazy_path::assign(std::filesystem::path p) {
  std::string text = p.native();  // may throw: nothing has changed yet
  if (std::filesystem::path* mine = cache_.load(std::memory_order_acquire)) {
    *mine = std::move(p);
  } else {
    cache_.store(new std::filesystem::path(std::move(p)), std::memory_order_release);
  }
  text_ = std::move(text);
}

void lazy_path::set(std::string_view text) {
  std::filesystem::path* mine = cache_.load(std::memory_order_acquire);
  if (mine == nullptr) {
    text_.assign(text);
    return;
  }
  std::string copy(text);
  assign(std::move(copy));
}

const std::filesystem::path& lazy_path::get() const {
  if (const std::filesystem::path* p = cache_.load(std::memory_order_acquire)) return *p;
  auto made = std::make_unique<std::filesystem::path>(text_);
  std::filesystem::path* expected = nullptr;
  if (cache_.compare_exchange_strong(expected, made.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
    return *made.release();
  }
  return *expected;  // another thread built it first; ours is dropped
}

}  // namespace tempfile::detail
