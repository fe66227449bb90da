// How many order sagas a node is working on, and when it takes no more.
//
// Past its capacity a node that accepts every order falls over instead of
// slowing down: sagas pile up, each step waits behind the others until the
// steps' own timeouts fire and are retried, and the node spends its CPU on
// orders whose buyers have given up. Measured on the 2-core VM
// (docs/benchmarks.md, "Orders past the knee: a bound on the sagas"): at
// 4,000 orders/s offered, ~1,330 were confirmed a second, p99 6.6 s, 56,000
// timed out. So each node admits a placement only while fewer than
// `max_working` of its sagas are working; beyond, the placement is refused
// before anything is written (503 with Retry-After, nothing to undo) and a
// retry with the same Idempotency-Key is simply a new attempt.
//
// A saga waiting for its buyer (3-D Secure, minutes) is not working: it
// costs the node nothing until the buyer comes back, and counting it would
// let a thousand slow buyers close the shop.
//
// Shared by a node's order indexes (which admit) and its sagas (which count
// themselves): atomics, no lock.
#pragma once

#include <atomic>
#include <cstdint>

namespace emporium {

class saga_load {
public:
  /// `max_working` 0: no bound (every placement admitted; still counted).
  explicit saga_load(std::uint32_t max_working) : max_(max_working) {}

  /// Whether a new placement may start a saga now.
  bool admits() const noexcept {
    return max_ == 0 || working_.load(std::memory_order_relaxed) < max_;
  }

  void started() noexcept { working_.fetch_add(1, std::memory_order_relaxed); }
  void stopped() noexcept { working_.fetch_sub(1, std::memory_order_relaxed); }

  std::uint32_t working() const noexcept { return working_.load(std::memory_order_relaxed); }
  std::uint32_t max_working() const noexcept { return max_; }

private:
  std::uint32_t max_;
  std::atomic<std::uint32_t> working_{0};
};

} // namespace emporium
