// Reservation arithmetic for one product's stock record: plain functions,
// no actor system. Invariant after every call: on_hand = available + reserved
// and available >= 0. Every operation keyed by an order id is idempotent.
#pragma once

#include "domain/errc.hpp"

#include <cstdint>
#include <vector>

namespace emporium {

using order_id = std::int64_t;
using millis = std::int64_t; // wall-clock milliseconds since the epoch

struct reservation {
  order_id order = 0;
  std::int32_t quantity = 0;
  millis expires_at = 0;
  friend bool operator==(const reservation&, const reservation&) = default;
};

/// How a reservation ended; remembered so a redelivered message is a no-op.
/// `returned`: committed, then given back by the order's cancel.
enum class settlement : std::uint8_t { committed = 1, released = 2, expired = 3, returned = 4 };

struct settled_order {
  order_id order = 0;
  settlement how = settlement::released;
  friend bool operator==(const settled_order&, const settled_order&) = default;
};

/// The caller's id of one stock adjustment (0 = none): an adjustment adds
/// a delta, so one resent after a node failure (the router replays what it
/// had forwarded to a node that died, see actors/cluster/routing.cpp) or
/// retried by an admin client with the same Idempotency-Key must not add it
/// twice.
using adjustment_op = std::int64_t;

struct applied_adjustment {
  adjustment_op op = 0;
  std::int64_t delta = 0; // what it added: the same id with another delta is a conflict
  friend bool operator==(const applied_adjustment&, const applied_adjustment&) = default;
};

/// How many adjustments with an id a record remembers (and persists). A
/// router resends within seconds of a node's death; an admin retries within
/// minutes, seldom after several other adjustments of the same product.
inline constexpr std::size_t max_remembered_adjustments = 8;

struct stock_state {
  std::int64_t on_hand = 0;
  std::int64_t sold = 0; // units committed over the record's life
  std::vector<reservation> reservations;
  std::vector<settled_order> settled; // most recent last, bounded
  std::vector<applied_adjustment> adjustments; // most recent last, bounded
  friend bool operator==(const stock_state&, const stock_state&) = default;
};

/// How many settled order ids a record keeps in its snapshot for
/// idempotency. Sales are also on file one row each (a repeated commit
/// older than these is looked up there); a snapshot is rewritten on every
/// change, so this stays small.
inline constexpr std::size_t max_remembered_settlements = 64;

enum class reserve_status : std::uint8_t {
  granted = 1,      // reserved now
  already_held = 2, // this order already holds a reservation (idempotent repeat)
  insufficient = 3, // refused: not enough available
  settled = 4,      // this order's reservation was already committed/released
};

struct reserve_outcome {
  reserve_status status = reserve_status::insufficient;
  std::int64_t available = 0; // available after the call
};

std::int64_t stock_reserved(const stock_state& s);
std::int64_t stock_available(const stock_state& s);

/// Check-and-take in one step: either reserves `quantity` for `order` until
/// `expires_at` or refuses. quantity must be > 0 (else invalid_argument via
/// the status insufficient is never used: callers validate first).
reserve_outcome stock_reserve(stock_state& s, order_id order, std::int32_t quantity,
                              millis expires_at);

/// Returns the order's reservation to stock. False when there was none.
bool stock_release(stock_state& s, order_id order);

enum class return_status : std::uint8_t {
  returned = 1, // given back now
  not_sold = 2, // no sale to this order to give back (or given back before)
  unknown = 3,  // not among the remembered settlements: ask the file (on_file)
};

/// Gives back the sale of `quantity` units to `order`, a cancelled order
/// whose line had committed before the cancel (a user cancel while the
/// commit ran, a reservation that expired while another line committed):
/// on_hand and sold go back by `quantity`, and the sale is remembered as
/// returned, so a repeat is not_sold. `on_file`: the caller looked the sale
/// up on file (a snapshot remembers only the last settlements).
return_status stock_return_sale(stock_state& s, order_id order, std::int32_t quantity,
                                bool on_file = false);

/// Turns the order's reservation into a sale (on_hand decreases).
/// none when committed now or before; not_found when the order holds no
/// reservation (never reserved, released or expired).
errc stock_commit(stock_state& s, order_id order);

/// Expires the reservation if it is still the one that ends at `expires_at`
/// (a re-reservation after release must not be expired by an old timer).
bool stock_expire(stock_state& s, order_id order, millis expires_at);

/// Admin: sets on-hand; refused (insufficient_stock) below what is reserved.
errc stock_set_on_hand(stock_state& s, std::int64_t on_hand);

/// The adjustment this record applied with id `op`, or null (always for 0).
const applied_adjustment* stock_find_adjustment(const stock_state& s, adjustment_op op);

/// Admin: adds delta (may be negative) to on-hand; refused below reserved.
/// With an id (`op` != 0) it is applied once: the same id and delta again
/// changes nothing (none), the same id with another delta is a conflict.
/// Only an applied adjustment is remembered, so a refused one may be tried
/// again once the stock allows it.
errc stock_adjust(stock_state& s, std::int64_t delta, adjustment_op op = 0);

} // namespace emporium
