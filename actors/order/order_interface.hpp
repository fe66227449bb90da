// What an order saga accepts (through the router's (entity_key, message)
// envelope; see cart/cart_interface.hpp for why the handle stays untyped).
// Each request names its reply; the order crosses as its state, never as
// snapshot text.
#pragma once

#include "actors/trace_field.hpp"
#include "domain/order_rules.hpp"

#include <caf/meta/type_name.hpp>

#include <string>

namespace emporium {

/// Wakes the saga (it resumes its next step); not_found for an order never
/// placed. The index starts a new order with its first snapshot, so the
/// saga need not read back what was just written.
struct start_order {
  using reply = bool;
  order_state placed; ///< set by the index for a new order (id 0 = not new)
  trace::context trace; ///< the placing request's trace: the saga's steps join it
};

/// The order as it stands; not_found if never placed.
struct get_order {
  using reply = order_state;
};

/// Cancels an order the user no longer wants: the answer comes once the
/// cancellation is durable; conflict once confirmed; a repeat answers the
/// cancelled order again.
struct cancel_order {
  using reply = order_state;
};

/// The buyer's browser has run the card's authentication: the saga asks
/// the provider what became of the charge and goes on (or cancels). The
/// answer is the order once that is durable; an order not waiting for an
/// authentication answers as it stands.
struct check_order_payment {
  using reply = order_state;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, check_order_payment&) {
  return f(caf::meta::type_name("check_order_payment"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_notice& x) {
  return f(caf::meta::type_name("payment_notice"), x.event_id, x.kind, x.payment_id, x.reason,
           x.refunded);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_line& x) {
  return f(caf::meta::type_name("order_line"), x.product, x.quantity, x.unit_price, x.name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timeline_entry& x) {
  return f(caf::meta::type_name("timeline_entry"), x.status, x.reason, x.at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_state& x) {
  return f(caf::meta::type_name("order_state"), x.id, x.user, x.lines, x.total,
           x.payment_method, x.status, x.reason, x.payment_id, x.placed_at,
           x.payment_deadline, x.compensated, x.timeline, x.payment_events, x.refunded,
           x.payment_action);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, start_order& x) {
  return f(caf::meta::type_name("start_order"), x.placed, x.trace);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_order&) {
  return f(caf::meta::type_name("get_order"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_order&) {
  return f(caf::meta::type_name("cancel_order"));
}

} // namespace emporium
