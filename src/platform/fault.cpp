// The fault-injection seam (fault.hpp). Built only into the test variant of the library.
#include "platform/fault.hpp"

#include <array>
#include <atomic>

namespace tempfile::detail::fault {

namespace {

struct plan {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> first{0};  // 1-based call number that starts failing; 0: none
  std::atomic<std::uint64_t> last{0};   // last failing call number; 0: no end
  std::atomic<int> error{0};
};

constexpr auto kCount = static_cast<std::size_t>(call::count_);
std::array<plan, kCount> g_plans;

plan& plan_for(call c) noexcept { return g_plans[static_cast<std::size_t>(c)]; }

}  // namespace

void fail(call c, unsigned nth, int error, unsigned times) noexcept {
  plan& p = plan_for(c);
  const std::uint64_t base = p.calls.load();
  p.error.store(error);
  p.last.store(times == 0 ? 0 : base + nth + times - 1);
  p.first.store(base + nth);
}

void reset() noexcept {
  for (plan& p : g_plans) {
    p.first.store(0);
    p.last.store(0);
    p.error.store(0);
    p.calls.store(0);
  }
}

std::uint64_t calls(call c) noexcept { return plan_for(c).calls.load(); }

int check(call c) noexcept {
  plan& p = plan_for(c);
  const std::uint64_t n = p.calls.fetch_add(1) + 1;
  const std::uint64_t first = p.first.load();
  if (first == 0 || n < first) return 0;
  const std::uint64_t last = p.last.load();
  if (last != 0 && n > last) return 0;
  return p.error.load();
}

}  // namespace tempfile::detail::fault
