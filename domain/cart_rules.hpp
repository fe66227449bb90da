// Cart arithmetic: plain functions over a plain struct, no actor system.
// The cart actor applies exactly these rules; tests/unit checks them.
#pragma once

#include "domain/errc.hpp"
#include "domain/interned_name.hpp"
#include "domain/money.hpp"

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace emporium {

using product_id = std::int64_t;

struct cart_line {
  product_id product = 0;
  std::int32_t quantity = 0;
  cents unit_price = 0; // price when the line was first added
  interned_name name;    // shared with every other line of that name
  friend bool operator==(const cart_line&, const cart_line&) = default;
};

/// The caller's id of one change (0 = none). A change whose id the cart
/// has applied is not applied again: a request resent after a node failure
/// (the router replays what it had forwarded to a node that died, see
/// actors/cluster/routing.cpp) changes the cart once.
using cart_op = std::int64_t;

/// How many applied operation ids a cart remembers (and persists).
inline constexpr std::size_t cart_ops_kept = 8;

/// A cart's lines, the first three inside the cart itself: most carts hold
/// a few, and inline they cost no allocation of their own (96 bytes per
/// resident cart with three). The cart actor's object has room for them in
/// its allocator size class (static_assert in actors/cart/cart_actor.cpp).
using cart_lines = boost::container::small_vector<cart_line, 3>;

/// A cart keeps its lines sorted by product id (stable output, cheap lookup).
struct cart_state {
  cart_lines lines;
  std::vector<cart_op> ops; // the last applied operation ids, oldest first
  friend bool operator==(const cart_state&, const cart_state&) = default;
};

/// True when `op` (not 0) is among the cart's applied operations.
bool cart_applied(const cart_state& cart, cart_op op);

/// Records `op` (not 0) as applied. Beyond cart_ops_kept it forgets the
/// oldest op that is not an order's take; beyond cart_takes_kept takes, the
/// oldest take.
void cart_record(cart_state& cart, cart_op op);

/// An order's units leave the cart when the order is placed, so a second
/// order placed before the first ends cannot charge for them again, and
/// come back if the order is cancelled. Each step is applied once per
/// order, through two operation ids of that order: its take and its close
/// (both negative, so they never meet the edge's ids, which are positive).
/// The cart keeps its last cart_takes_kept takes before any other op, so
/// a cancel finds its order's take however much the user changed the cart
/// meanwhile, unless the user placed that many orders since; a close is an
/// ordinary op (it only refuses a take that arrives after it).
inline constexpr std::size_t cart_takes_kept = 4;
static_assert(cart_takes_kept < cart_ops_kept, "the user's own ops need room too");
cart_op order_take_op(std::int64_t order);
cart_op order_close_op(std::int64_t order);

/// Takes `lines` out of the cart for `order`, all or nothing: true when
/// the cart held every unit (now taken) or this order took them before;
/// false, changing nothing, when a line is short, a line is not positive,
/// or the order was closed.
bool cart_take_for_order(cart_state& cart, std::int64_t order,
                         const std::vector<cart_line>& lines);

/// A cancelled order gives back what it took (each line at most up to
/// max_line_quantity) and is closed. An order that never took is closed
/// too, so its take, should it still arrive, is refused. False when the
/// order was already closed (nothing changes).
bool cart_give_back(cart_state& cart, std::int64_t order, const std::vector<cart_line>& lines);

/// A single line may hold at most this many units.
inline constexpr std::int32_t max_line_quantity = 10'000;

/// Adds `delta` units (may be negative: the seed's client lowers a line that
/// way). A line that reaches 0 or less disappears. A new line remembers
/// `unit_price` and `name`; an existing line keeps its original price.
/// Errors: invalid_argument (delta 0, or negative delta on a missing line),
/// quantity_out_of_range (line above max_line_quantity), insufficient_stock
/// (an increase that would put more than `limit` units in the line; `limit`
/// is the stock the caller saw, so the check and the change are one step).
errc cart_add(cart_state& cart, product_id product, std::int32_t delta, cents unit_price,
              const std::string& name, std::int64_t limit = max_line_quantity);

/// Sets a line to exactly `quantity` (0 removes it); creates it if absent.
errc cart_set(cart_state& cart, product_id product, std::int32_t quantity, cents unit_price,
              const std::string& name, std::int64_t limit = max_line_quantity);

/// Removes a line; not_found when the cart has no such line.
errc cart_remove(cart_state& cart, product_id product);

/// Quantity of one product in the cart (0 when absent).
std::int32_t cart_quantity(const cart_state& cart, product_id product);

/// Sum of quantity * price at addition over all lines.
cents cart_total(const cart_state& cart);

} // namespace emporium
