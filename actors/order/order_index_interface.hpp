// What a shard's order index accepts; each request names its reply, and the
// handle is a typed_actor. Callers on other nodes reach it through the
// router's (shard_call, shard, request) envelope.
#pragma once

#include "domain/order_rules.hpp"
#include "domain/views.hpp" // found_order
#include "actors/order/order_interface.hpp" // order_state's inspect
#include "persistence/entity_store.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emporium {

/// Places an order: allocates its id, writes the index row, the Submitted
/// snapshot and its event in one transaction, then starts the saga.
/// Idempotent by (user, key): a repeated key with the same request hash gets
/// the stored answer byte for byte, another hash gets conflict.
struct place_order {
  using reply = std::string; ///< the answer (the JSON response body, with orderId)
  std::string user;
  std::string idempotency_key; ///< "" = none
  std::string request_hash;
  bool lookup_only = false; ///< only look the key up (not_found if new)
  order_state draft;        ///< lines, total and payment method; the index fills in the rest
  std::string answer;       ///< what to answer now and on every replay
  trace::context trace;     ///< the edge's call span
};

/// The user's orders, newest first (at most 200).
struct order_history {
  using reply = std::vector<order_state>;
  std::string user;
};

/// One order and whose it is; not_found if none.
struct find_order {
  using reply = found_order;
  order_id id = 0;
};

/// Outbox events of the user after `seq`, oldest first, a page at a time
/// (`more_after` names where the next page starts), or a reset when
/// retention pruned some of them (see event_page).
struct events_after {
  using reply = event_page;
  /// Well below a socket's queue of 1,024 frames: a resume sends a page,
  /// waits until the socket has written it, then asks for the next.
  static constexpr std::size_t page_size = 256;
  std::string user;
  std::int64_t seq = 0;
};

/// Ids of the orders whose saga has not ended (resumed when a shard opens).
struct unfinished_orders {
  using reply = std::vector<std::int64_t>;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, place_order& x) {
  return f(caf::meta::type_name("place_order"), x.user, x.idempotency_key, x.request_hash,
           x.lookup_only, x.draft, x.answer, x.trace);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_history& x) {
  return f(caf::meta::type_name("order_history"), x.user);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_order& x) {
  return f(caf::meta::type_name("find_order"), x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, events_after& x) {
  return f(caf::meta::type_name("events_after"), x.user, x.seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unfinished_orders&) {
  return f(caf::meta::type_name("unfinished_orders"));
}

using order_index_actor = caf::typed_actor<
  caf::replies_to<place_order>::with<std::string>,
  caf::replies_to<order_history>::with<std::vector<order_state>>,
  caf::replies_to<find_order>::with<found_order>,
  caf::replies_to<events_after>::with<event_page>,
  caf::replies_to<unfinished_orders>::with<std::vector<std::int64_t>>>;

} // namespace emporium
