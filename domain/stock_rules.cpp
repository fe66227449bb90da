// Reservation arithmetic (see stock_rules.hpp for the invariants).
#include "domain/stock_rules.hpp"

#include <algorithm>

namespace emporium {

namespace {

auto find_reservation(stock_state& s, order_id order) {
  return std::find_if(s.reservations.begin(), s.reservations.end(),
                      [order](const reservation& r) { return r.order == order; });
}

const settled_order* find_settled(const stock_state& s, order_id order) {
  for (auto it = s.settled.rbegin(); it != s.settled.rend(); ++it)
    if (it->order == order)
      return &*it;
  return nullptr;
}

void remember(stock_state& s, order_id order, settlement how) {
  s.settled.push_back({order, how});
  // Snapshots from before the limit was lowered hold more: trim them all.
  if (s.settled.size() > max_remembered_settlements)
    s.settled.erase(s.settled.begin(),
                    s.settled.end() - static_cast<std::ptrdiff_t>(max_remembered_settlements));
}

constexpr std::int64_t max_on_hand = 1'000'000'000;

} // namespace

std::int64_t stock_reserved(const stock_state& s) {
  std::int64_t sum = 0;
  for (const auto& r : s.reservations)
    sum += r.quantity;
  return sum;
}

std::int64_t stock_available(const stock_state& s) {
  return s.on_hand - stock_reserved(s);
}

reserve_outcome stock_reserve(stock_state& s, order_id order, std::int32_t quantity,
                              millis expires_at) {
  if (find_reservation(s, order) != s.reservations.end())
    return {reserve_status::already_held, stock_available(s)};
  if (find_settled(s, order) != nullptr)
    return {reserve_status::settled, stock_available(s)};
  auto available = stock_available(s);
  if (quantity <= 0 || quantity > available)
    return {reserve_status::insufficient, available};
  s.reservations.push_back({order, quantity, expires_at});
  return {reserve_status::granted, available - quantity};
}

bool stock_release(stock_state& s, order_id order) {
  auto it = find_reservation(s, order);
  if (it == s.reservations.end())
    return false;
  s.reservations.erase(it);
  remember(s, order, settlement::released);
  return true;
}

errc stock_commit(stock_state& s, order_id order) {
  auto it = find_reservation(s, order);
  if (it == s.reservations.end()) {
    auto done = find_settled(s, order);
    return done != nullptr && done->how == settlement::committed ? errc::none
                                                                  : errc::not_found;
  }
  s.on_hand -= it->quantity;
  s.sold += it->quantity;
  s.reservations.erase(it);
  remember(s, order, settlement::committed);
  return errc::none;
}

return_status stock_return_sale(stock_state& s, order_id order, std::int32_t quantity,
                                bool on_file) {
  if (quantity <= 0)
    return return_status::not_sold;
  if (auto done = find_settled(s, order); done != nullptr) {
    if (done->how != settlement::committed)
      return return_status::not_sold;
  } else if (!on_file) {
    return return_status::unknown;
  }
  s.on_hand += quantity;
  s.sold = std::max<std::int64_t>(0, s.sold - quantity);
  std::erase_if(s.settled, [order](const settled_order& d) { return d.order == order; });
  remember(s, order, settlement::returned);
  return return_status::returned;
}

bool stock_expire(stock_state& s, order_id order, millis expires_at) {
  auto it = find_reservation(s, order);
  if (it == s.reservations.end() || it->expires_at != expires_at)
    return false;
  s.reservations.erase(it);
  remember(s, order, settlement::expired);
  return true;
}

errc stock_set_on_hand(stock_state& s, std::int64_t on_hand) {
  if (on_hand < 0 || on_hand > max_on_hand)
    return errc::invalid_argument;
  if (on_hand < stock_reserved(s))
    return errc::insufficient_stock;
  s.on_hand = on_hand;
  return errc::none;
}

const applied_adjustment* stock_find_adjustment(const stock_state& s, adjustment_op op) {
  if (op == 0)
    return nullptr;
  auto it = std::find_if(s.adjustments.begin(), s.adjustments.end(),
                         [op](const applied_adjustment& a) { return a.op == op; });
  return it == s.adjustments.end() ? nullptr : &*it;
}

errc stock_adjust(stock_state& s, std::int64_t delta, adjustment_op op) {
  if (delta < -max_on_hand || delta > max_on_hand)
    return errc::invalid_argument;
  if (const auto* seen = stock_find_adjustment(s, op))
    return seen->delta == delta ? errc::none : errc::conflict;
  auto next = s.on_hand + delta;
  if (next > max_on_hand)
    return errc::invalid_argument;
  if (next < stock_reserved(s))
    return errc::insufficient_stock;
  s.on_hand = next;
  if (op != 0) {
    if (s.adjustments.size() >= max_remembered_adjustments)
      s.adjustments.erase(s.adjustments.begin());
    s.adjustments.push_back(applied_adjustment{op, delta});
  }
  return errc::none;
}

} // namespace emporium
