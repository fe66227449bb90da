// The payment actor: starts provider calls without waiting for them (their
// answers come back as messages), keeps at most `max_in_flight` at the
// provider and queues the rest, times each attempt out, retries transient
// failures and timeouts with exponential backoff and jitter under the same
// idempotency key (never declines), and fails fast through a circuit breaker
// while the provider is down. Nothing in it blocks: it runs on CAF's workers.
//
// Past its capacity, the queue must not fill with work no one waits for
// (found 2026-12-05: 6,000 voids at 64 slots of 1 s, asked with 5 s
// timeouts and asked again, grew the queue to 45,000 stale calls and
// finished no order in minutes). So a request asked again for the same
// order and kind while its call is open joins that call, and a call whose
// every asker has passed its `answer_by_ms` is dropped before its next
// provider attempt instead of being sent.
//
// Its interface: actors/payment/payment_interface.hpp.
#pragma once

#include "actors/payment/payment_interface.hpp"
#include "actors/payment/payment_provider.hpp"
#include "actors/spawn_mode.hpp"
#include "domain/wall_clock.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace emporium {

struct payment_options {
  std::size_t max_in_flight = 512;              ///< calls at the provider at once
  std::chrono::milliseconds call_timeout{10'000}; ///< per attempt
  int max_attempts = 4;
  std::int64_t backoff_base_ms = 50;
  int breaker_threshold = 5;
  std::int64_t breaker_cooldown_ms = 5'000;
  /// Wall-clock milliseconds: what `answer_by_ms` and the breaker's
  /// cooldown are measured in (a test's simulated clock in tests).
  std::int64_t (*now_ms)() = &wall_clock_ms;
};

/// Read by /health/ready: the breaker's state, updated by the actor.
struct payment_health {
  std::atomic<int> breaker{0}; // 0 closed, 1 open, 2 half-open
  std::atomic<std::uint64_t> charges{0};
  std::atomic<std::uint64_t> transient_failures{0};
};

payment_actor spawn_payment(caf::actor_system& sys, std::shared_ptr<payment_provider> provider,
                         payment_options opts, std::shared_ptr<payment_health> health,
                            spawn_mode mode);

} // namespace emporium
