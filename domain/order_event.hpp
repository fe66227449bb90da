// An order's change of status as its owner's live clients receive it. The
// saga writes it to the outbox in the transaction that makes the change
// durable; the outbox numbers it (`seq`), and clients resume from a number.
#pragma once

#include "domain/money.hpp"
#include "domain/order_rules.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace emporium {

struct order_event {
  std::string user;
  order_id order = 0;
  order_status status = order_status::submitted;
  std::string reason;
  millis at = 0;
  cents total = 0;
  std::int64_t seq = 0; ///< assigned by the outbox when the event is written
};

/// What a client resuming after a seq gets: the events it missed, oldest
/// first; or, when retention deleted some of them, `reset` and the newest
/// seq to go on from (it reloads the orders it shows instead).
struct event_page {
  bool reset = false;
  std::int64_t resume_from = 0; ///< with reset: the newest seq when asked
  std::vector<order_event> events;
  /// The page was full: more events may follow this seq (0: it was the last).
  std::int64_t more_after = 0;
};

/// The event an order in its current state publishes at `at`.
inline order_event event_of(const order_state& o, millis at) {
  return {o.user, o.id, o.status, o.reason, at, o.total, 0};
}

} // namespace emporium
