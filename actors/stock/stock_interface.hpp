// What a product's stock record accepts (through the router's
// (entity_key, message) envelope; see cart_interface.hpp for why the handle
// stays untyped). Each request names its reply. Reservations are keyed by
// order, so every saga step is idempotent.
#pragma once

#include "actors/trace_field.hpp"
#include "domain/stock_rules.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>

namespace emporium {

/// Holds `quantity` units for `order` for `ttl_ms`; refused (not an error)
/// when too few are available.
struct reserve_stock {
  using reply = reserve_reply;
  order_id order = 0;
  std::int32_t quantity = 0;
  millis ttl_ms = 0;
  trace::context trace; ///< the saga's span for this line
};

/// Gives back what an order took of this product: its hold, or, when the
/// line had committed before the order was cancelled, its sale of
/// `quantity` units (the line's). True when there was either.
struct release_stock {
  using reply = bool;
  order_id order = 0;
  std::int32_t quantity = 0;
  trace::context trace;
};

/// Turns an order's hold into a sale; repeating it answers the same view.
struct commit_stock {
  using reply = stock_view;
  order_id order = 0;
  trace::context trace;
};

struct set_stock {
  using reply = stock_view;
  std::int64_t on_hand = 0;
};

/// Adds `delta` to on-hand. With an id (`op` != 0) the record applies it
/// once, so a resend is safe (stock_rules.hpp: stock_adjust); the edge
/// gives every adjustment one.
struct adjust_stock {
  using reply = stock_view;
  std::int64_t delta = 0;
  adjustment_op op = 0;
};

struct get_stock {
  using reply = stock_view;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_stock& x) {
  return f(caf::meta::type_name("reserve_stock"), x.order, x.quantity, x.ttl_ms, x.trace);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, release_stock& x) {
  // quantity last: a node of the build before it sent (order, trace), and
  // a message cut short fails to read rather than reading a wrong quantity.
  return f(caf::meta::type_name("release_stock"), x.order, x.trace, x.quantity);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_stock& x) {
  return f(caf::meta::type_name("commit_stock"), x.order, x.trace);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_stock& x) {
  return f(caf::meta::type_name("set_stock"), x.on_hand);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, adjust_stock& x) {
  return f(caf::meta::type_name("adjust_stock"), x.delta, x.op);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_stock&) {
  return f(caf::meta::type_name("get_stock"));
}

} // namespace emporium
