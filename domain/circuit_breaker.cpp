// Circuit breaker transitions (see circuit_breaker.hpp).
#include "domain/circuit_breaker.hpp"

namespace emporium {

bool breaker_allows(circuit_breaker& b, std::int64_t now_ms) {
  using S = circuit_breaker::state;
  if (b.current == S::open && now_ms >= b.open_until) {
    b.current = S::half_open;
    b.probe_in_flight = false;
  }
  switch (b.current) {
    case S::closed: return true;
    case S::open: return false;
    case S::half_open:
      if (b.probe_in_flight)
        return false;
      b.probe_in_flight = true;
      return true;
  }
  return false;
}

void breaker_success(circuit_breaker& b) {
  b.current = circuit_breaker::state::closed;
  b.consecutive_failures = 0;
  b.probe_in_flight = false;
}

void breaker_failure(circuit_breaker& b, std::int64_t now_ms) {
  using S = circuit_breaker::state;
  ++b.consecutive_failures;
  if (b.current == S::half_open || b.consecutive_failures >= b.threshold) {
    b.current = S::open;
    b.open_until = now_ms + b.cooldown_ms;
    b.probe_in_flight = false;
  }
}

std::string breaker_state_name(const circuit_breaker& b) {
  switch (b.current) {
    case circuit_breaker::state::closed: return "closed";
    case circuit_breaker::state::open: return "open";
    case circuit_breaker::state::half_open: return "half_open";
  }
  return "closed";
}

} // namespace emporium
