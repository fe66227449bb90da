// What a cart entity accepts. Carts are addressed through the router's
// location-free (entity_key, message) envelope, so the handle stays untyped;
// each request names its reply, and every caller asks through a helper that
// takes the reply type from the request, so the two cannot drift apart.
// Every change answers the whole cart once it is durable. A change that
// carries an operation id (`op`, see cart_rules.hpp) is applied once: the
// same id again answers the cart as it is, changing nothing.
#pragma once

#include "domain/cart_rules.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emporium {

/// Adds `quantity` units (negative takes them away; the line goes at zero).
/// `limit` caps the line (the storefront's per-line limit).
struct add_to_cart {
  using reply = cart_view;
  product_id product = 0;
  std::int32_t quantity = 0;
  cents unit_price = 0;
  std::string name;
  std::int64_t limit = max_line_quantity;
  cart_op op = 0;
};

/// Sets a line to exactly `quantity` units (0 removes it).
struct set_cart_line {
  using reply = cart_view;
  product_id product = 0;
  std::int32_t quantity = 0;
  cents unit_price = 0;
  std::string name;
  std::int64_t limit = max_line_quantity;
  cart_op op = 0;
};

struct remove_from_cart {
  using reply = cart_view;
  product_id product = 0;
  cart_op op = 0;
};

struct clear_cart {
  using reply = cart_view;
  cart_op op = 0;
};

struct get_cart {
  using reply = cart_view;
};

/// The order saga's steps on its user's cart (cart_take_for_order and
/// cart_give_back): each applied once per order, so they may be resent.
/// true when the cart gave every unit of `lines` to `order`.
struct take_for_order {
  using reply = bool;
  std::int64_t order = 0;
  std::vector<cart_line> lines;
};

/// A cancelled order's units come back to the cart.
struct give_back_for_order {
  using reply = cart_view;
  std::int64_t order = 0;
  std::vector<cart_line> lines;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, add_to_cart& x) {
  return f(caf::meta::type_name("add_to_cart"), x.product, x.quantity, x.unit_price, x.name,
           x.limit, x.op);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_cart_line& x) {
  return f(caf::meta::type_name("set_cart_line"), x.product, x.quantity, x.unit_price, x.name,
           x.limit, x.op);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remove_from_cart& x) {
  return f(caf::meta::type_name("remove_from_cart"), x.product, x.op);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, clear_cart& x) {
  return f(caf::meta::type_name("clear_cart"), x.op);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_cart&) {
  return f(caf::meta::type_name("get_cart"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, take_for_order& x) {
  return f(caf::meta::type_name("take_for_order"), x.order, x.lines);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, give_back_for_order& x) {
  return f(caf::meta::type_name("give_back_for_order"), x.order, x.lines);
}

} // namespace emporium
