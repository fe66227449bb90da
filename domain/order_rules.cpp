// The saga's transition table (see order_rules.hpp).
#include "domain/order_rules.hpp"

#include <algorithm>

namespace emporium {

std::string status_name(order_status s) {
  switch (s) {
    case order_status::submitted: return "Submitted";
    case order_status::stock_reserved: return "StockReserved";
    case order_status::payment_authorized: return "PaymentAuthorized";
    case order_status::confirmed: return "Confirmed";
    case order_status::cancelled: return "Cancelled";
    case order_status::authentication_required: return "AuthenticationRequired";
  }
  return "Submitted";
}

std::string seed_status_name(order_status s) {
  switch (s) {
    case order_status::confirmed: return "Completed";
    case order_status::cancelled: return "Cancelled";
    default: return "Pending";
  }
}

std::optional<order_status> parse_status(const std::string& name) {
  for (auto s : {order_status::submitted, order_status::stock_reserved,
                 order_status::payment_authorized, order_status::confirmed,
                 order_status::cancelled, order_status::authentication_required})
    if (status_name(s) == name)
      return s;
  return std::nullopt;
}

bool is_terminal(order_status s) {
  return s == order_status::confirmed || s == order_status::cancelled;
}

std::optional<order_status> next_status(order_status from, saga_event ev) {
  using S = order_status;
  using E = saga_event;
  switch (from) {
    case S::submitted:
      if (ev == E::reserved)
        return S::stock_reserved;
      if (ev == E::out_of_stock || ev == E::reserve_failed || ev == E::user_cancel ||
          ev == E::cart_refused)
        return S::cancelled;
      return std::nullopt;
    case S::stock_reserved:
      if (ev == E::authentication_needed)
        return S::authentication_required;
      [[fallthrough]];
    case S::authentication_required:
      if (ev == E::authorized)
        return S::payment_authorized;
      if (ev == E::declined || ev == E::payment_timed_out || ev == E::user_cancel)
        return S::cancelled;
      return std::nullopt;
    case S::payment_authorized:
      if (ev == E::committed)
        return S::confirmed;
      if (ev == E::commit_failed || ev == E::user_cancel)
        return S::cancelled;
      return std::nullopt;
    case S::confirmed:
    case S::cancelled: return std::nullopt;
  }
  return std::nullopt;
}

compensation compensation_for(order_status from, saga_event ev) {
  compensation c;
  if (next_status(from, ev) != order_status::cancelled)
    return c;
  // Reservations are released by order id, idempotently: releasing lines
  // that were never reserved is harmless, so a cancel always releases.
  c.release_stock = true;
  // A charge may be in flight from StockReserved on (its answer may be lost):
  // the refund is keyed by the order, so it refunds only what was charged.
  c.refund_payment = awaiting_payment(from) || from == order_status::payment_authorized;
  return c;
}

bool awaiting_payment(order_status s) {
  return s == order_status::stock_reserved || s == order_status::authentication_required;
}

cents order_total(const std::vector<order_line>& lines) {
  cents total = 0;
  for (const auto& l : lines)
    total += l.unit_price * l.quantity;
  return total;
}

bool apply_event(order_state& order, saga_event ev, const std::string& reason, millis now) {
  auto next = next_status(order.status, ev);
  if (!next)
    return false;
  order.status = *next;
  if (*next != order_status::authentication_required)
    order.payment_action.clear(); // of no use, and a secret, once the wait is over
  if (*next == order_status::cancelled)
    order.reason = reason;
  order.timeline.push_back({*next, *next == order_status::cancelled ? reason : "", now});
  return true;
}

notice_effect notice_effect_of(const order_state& order, notice_kind kind,
                               const std::string& event_id, cents refunded) {
  if (std::find(order.payment_events.begin(), order.payment_events.end(), event_id) !=
      order.payment_events.end())
    return notice_effect::duplicate;
  switch (kind) {
    case notice_kind::charge_succeeded:
      if (awaiting_payment(order.status))
        return notice_effect::authorize;
      // A charge that succeeded after the order was given up (its answer
      // came too late, or never): the compensation must run again.
      if (order.status == order_status::cancelled)
        return notice_effect::refund_again;
      return notice_effect::nothing;
    case notice_kind::charge_failed:
      return awaiting_payment(order.status) ? notice_effect::decline : notice_effect::nothing;
    case notice_kind::refunded:
      return refunded > order.refunded ? notice_effect::record_refund : notice_effect::nothing;
  }
  return notice_effect::nothing;
}

std::string notice_effect_name(notice_effect e) {
  switch (e) {
    case notice_effect::duplicate: return "duplicate";
    case notice_effect::nothing: return "ignored";
    case notice_effect::authorize: return "authorized";
    case notice_effect::decline: return "declined";
    case notice_effect::refund_again: return "refunding";
    case notice_effect::record_refund: return "refund_recorded";
  }
  return "ignored";
}

void remember_notice(order_state& order, const std::string& event_id) {
  order.payment_events.push_back(event_id);
  if (order.payment_events.size() > remembered_notices)
    order.payment_events.erase(order.payment_events.begin());
}

} // namespace emporium
