// The order saga's transition table and compensation rules: plain functions
// over plain structs, tested without an actor system (tests/unit).
//
//   Submitted --reserved--> StockReserved --authorized--> PaymentAuthorized --committed--> Confirmed
//       |                       |        ^ \                   |
//       | out_of_stock          |        |  authentication     | commit failed (refund)
//       | reserve failed        |        |  needed             | user cancel (release, refund)
//       | user cancel           |   AuthenticationRequired     |
//       |                       |     | (authorized: on to     |
//       |                       |     |  PaymentAuthorized)    |
//       |                       | declined / payment timeout / user cancel (release, void)
//       `------------------> Cancelled <-----------------------'
//
// AuthenticationRequired: the card asks its holder to authenticate (3-D
// Secure); the saga waits for the buyer's browser to do it, with a longer
// deadline, holding the intent's client secret (payment_action).
//
// Confirmed and Cancelled are terminal: every later event is ignored, which
// makes duplicate and reordered messages harmless.
#pragma once

#include "domain/money.hpp"
#include "domain/cart_rules.hpp"
#include "domain/stock_rules.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emporium {

enum class order_status : std::uint8_t {
  submitted = 1,
  stock_reserved = 2,
  payment_authorized = 3,
  confirmed = 4,
  cancelled = 5,
  authentication_required = 6,
};

enum class saga_event : std::uint8_t {
  reserved,          // every line reserved
  out_of_stock,      // a line was refused
  reserve_failed,    // the cart or the stock actors did not answer after retries
  authorized,        // the payment went through
  declined,          // the provider declined the card
  payment_timed_out, // no payment answer before the deadline
  committed,         // every reservation became a sale
  commit_failed,     // a reservation could not be committed (expired)
  user_cancel,       // POST /api/orders/{id}/cancel
  cart_refused,      // the cart no longer held the ordered units (see cart_rules.hpp)
  authentication_needed, // the card asks its holder to authenticate (3-D Secure)
};

/// Emporium's status names (exact) and the seed's (Pending/Completed/Cancelled).
std::string status_name(order_status s);
std::string seed_status_name(order_status s);
std::optional<order_status> parse_status(const std::string& name);

bool is_terminal(order_status s);

/// The next status, or nullopt when the event does not apply in `from`.
std::optional<order_status> next_status(order_status from, saga_event ev);

/// What must be undone when an order in `from` is cancelled.
struct compensation {
  bool release_stock = false;
  bool refund_payment = false; // also voids a charge whose answer never came
};
compensation compensation_for(order_status from, saga_event ev);

struct order_line {
  product_id product = 0;
  std::int32_t quantity = 0;
  cents unit_price = 0;
  std::string name;
};

struct timeline_entry {
  order_status status = order_status::submitted;
  std::string reason;
  millis at = 0;
};

struct order_state {
  order_id id = 0;
  std::string user;
  std::vector<order_line> lines;
  cents total = 0;
  std::string payment_method;
  order_status status = order_status::submitted;
  std::string reason; // why it was cancelled
  std::string payment_id;
  millis placed_at = 0;
  millis payment_deadline = 0; // absolute; survives restarts
  bool compensated = false;    // a cancelled order's releases/refund are done
  std::vector<timeline_entry> timeline;
  std::vector<std::string> payment_events; // provider notices acted on (newest last)
  cents refunded = 0;                      // given back, as the provider reports it
  /// AuthenticationRequired: what the buyer's browser needs to authenticate
  /// the charge (Stripe's PaymentIntent client secret); shown to the
  /// order's owner only, and cleared once the order leaves that state.
  std::string payment_action;
};

/// A client secret is ~60 characters; a snapshot holding more is refused.
inline constexpr std::size_t max_payment_action_bytes = 512;

/// The order waits for its payment: a charge may be on its way or done.
bool awaiting_payment(order_status s);

cents order_total(const std::vector<order_line>& lines);

/// Applies a transition (status, reason, timeline). False when not allowed.
bool apply_event(order_state& order, saga_event ev, const std::string& reason, millis now);

/// What the payment provider tells about an order on its own (a webhook):
/// each notice has the provider's event id and is acted on once.
enum class notice_kind : std::uint8_t {
  charge_succeeded = 1, ///< the order's charge went through
  charge_failed = 2,    ///< the order's charge was declined
  refunded = 3,         ///< money was given back (`refunded` in total)
};

enum class notice_effect : std::uint8_t {
  duplicate,     ///< this event id was acted on before
  nothing,       ///< the order is past the point where the notice matters
  authorize,     ///< awaiting payment: the charge is through (the saga goes on)
  decline,       ///< awaiting payment: the charge was declined (cancel)
  refund_again,  ///< cancelled, yet charged: give the money back
  record_refund, ///< more was refunded than the order knew
};

/// What the payment provider reported about an order on its own (a
/// webhook); a request to the order's saga. Its answer names the effect
/// (notice_effect_name): "duplicate" and "ignored" changed nothing; any
/// other is durable when answered. not_found for an order never placed.
struct payment_notice {
  using reply = std::string;
  std::string event_id;
  notice_kind kind = notice_kind::charge_succeeded;
  std::string payment_id; ///< the provider's id of the charge
  std::string reason;     ///< charge_failed: the decline, in the saga's words
  cents refunded = 0;     ///< refunded: the total given back so far
};

/// Keeps the ids of the last 16 notices acted on per order: a provider
/// redelivers an event for days, but an order gets few events.
inline constexpr std::size_t remembered_notices = 16;

/// The rule for a notice about `order` (the saga then acts on it).
notice_effect notice_effect_of(const order_state& order, notice_kind kind,
                               const std::string& event_id, cents refunded);
std::string notice_effect_name(notice_effect e);

/// Records an acted-on notice's event id (dropping the oldest beyond 16).
void remember_notice(order_state& order, const std::string& event_id);

} // namespace emporium
