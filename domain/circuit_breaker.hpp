// A circuit breaker for calls to the payment provider, as a plain struct:
// closed -> (threshold consecutive transient failures) -> open (fail fast)
// -> (cooldown elapsed) -> half-open (one probe) -> closed or open again.
#pragma once

#include <cstdint>
#include <string>

namespace emporium {

struct circuit_breaker {
  enum class state : std::uint8_t { closed, open, half_open };
  state current = state::closed;
  int consecutive_failures = 0;
  int threshold = 5;
  std::int64_t cooldown_ms = 5'000;
  std::int64_t open_until = 0; // ms
  bool probe_in_flight = false;
};

/// May a call go out now? Moves open -> half-open when the cooldown is over
/// and lets exactly one probe through while half-open.
bool breaker_allows(circuit_breaker& b, std::int64_t now_ms);

void breaker_success(circuit_breaker& b);
void breaker_failure(circuit_breaker& b, std::int64_t now_ms);

std::string breaker_state_name(const circuit_breaker& b);

} // namespace emporium
