#include "tempfile/detail/lazy_path.hpp"

#include <memory>
#include <new>
#include <utility>

namespace tempfile::detail {

void lazy_path::assign(std::filesystem::path p) {
  auto made = std::make_unique<std::filesystem::path>(std::move(p));
  std::string text = made->native();
  reset(std::move(text), made.release());
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

const std::filesystem::path& lazy_path::get_or_empty() const noexcept {
  try {
    return get();
  } catch (...) {  // std::bad_alloc
    static const std::filesystem::path empty;
    return empty;
  }
}

}  // namespace tempfile::detail
