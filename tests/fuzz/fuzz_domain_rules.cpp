// The domain rules fed random operation sequences (each input byte pair is
// one operation), with their invariants asserted after every step:
// stock never negative, reserved <= on hand, on hand + sold conserved,
// cart totals equal the sum of their lines and lines stay within bounds,
// an order takes units from a cart all or nothing and once,
// terminal order states absorb every later event.
#include "tests/fuzz/fuzz_check.hpp"
#include "domain/cart_rules.hpp"
#include "domain/order_rules.hpp"
#include "domain/stock_rules.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>

using namespace emporium;

namespace {

using emporium::fuzz::check;

struct reader {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool more() const { return at < size; }
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  std::int32_t small_signed() { return static_cast<std::int8_t>(byte()); }
};

/// Orders' takes among the cart's op ids (negative and even, cart_rules.cpp).
std::size_t takes_kept(const cart_state& cart) {
  return static_cast<std::size_t>(std::count_if(cart.ops.begin(), cart.ops.end(),
                                                [](cart_op op) { return op < 0 && op % 2 == 0; }));
}

void check_cart(const cart_state& cart) {
  cents sum = 0;
  for (std::size_t i = 0; i < cart.lines.size(); ++i) {
    const auto& l = cart.lines[i];
    check(l.quantity > 0 && l.quantity <= max_line_quantity);
    check(i == 0 || cart.lines[i - 1].product < l.product);
    sum += l.unit_price * l.quantity;
  }
  check(cart_total(cart) == sum);
  check(cart.ops.size() <= cart_ops_kept);
  check(takes_kept(cart) <= cart_takes_kept);
}

std::int64_t units_of(const cart_state& cart) {
  std::int64_t units = 0;
  for (const auto& l : cart.lines)
    units += l.quantity;
  return units;
}

void check_stock(const stock_state& s, std::int64_t initial) {
  check(s.on_hand >= 0 && s.sold >= 0);
  check(stock_reserved(s) <= s.on_hand);
  check(stock_available(s) >= 0);
  check(stock_available(s) + stock_reserved(s) == s.on_hand);
  check(s.settled.size() <= max_remembered_settlements);
  check(s.adjustments.size() <= max_remembered_adjustments);
  (void)initial;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in{data, size};
  cart_state cart;
  stock_state stock;
  stock.on_hand = in.byte();
  std::int64_t supplied = stock.on_hand; // on hand + sold == everything supplied
  std::map<order_id, std::int32_t> sold_to; // the sales not given back, by order
  std::map<adjustment_op, std::int64_t> adjusted; // the adjustments applied with an id
  order_state order;
  order.status = order_status::submitted;
  millis now = 0;
  while (in.more()) {
    auto op = in.byte();
    auto arg = in.byte();
    product_id product = 1 + arg % 8;
    order_id oid = 1 + arg % 6;
    now += 10;
    switch (op % 15) {
      case 0:
        cart_add(cart, product, in.small_signed() * 200, 100 + arg, "p");
        break;
      case 1:
        cart_set(cart, product, in.small_signed() * 200, 100 + arg, "p",
                 in.byte() % 2 ? max_line_quantity : in.byte());
        break;
      case 2: cart_remove(cart, product); break;
      case 3: stock_reserve(stock, oid, 1 + in.byte() % 20, now + 100 + in.byte()); break;
      case 4: {
        // An order's cancel: its hold, or else its sale, goes back.
        if (stock_release(stock, oid))
          break;
        auto sale = sold_to.find(oid);
        auto quantity = sale == sold_to.end() ? 1 + in.byte() % 20 : sale->second;
        auto before = stock.on_hand + stock.sold;
        bool on_file = in.byte() % 2 == 1 && sale != sold_to.end();
        auto status = stock_return_sale(stock, oid, quantity, on_file);
        check((status == return_status::returned) == (sale != sold_to.end()));
        check(stock.on_hand + stock.sold == before);
        if (sale != sold_to.end())
          sold_to.erase(sale);
        break;
      }
      case 5: {
        auto before = stock.on_hand + stock.sold;
        std::int32_t held = 0;
        for (const auto& r : stock.reservations)
          if (r.order == oid)
            held = r.quantity;
        stock_commit(stock, oid);
        if (held > 0)
          sold_to[oid] = held;
        check(stock.on_hand + stock.sold == before); // a sale moves units, never makes them
        break;
      }
      case 6: {
        millis when = 0;
        for (const auto& r : stock.reservations)
          if (r.order == oid)
            when = r.expires_at;
        stock_expire(stock, oid, in.byte() % 2 ? when : now);
        break;
      }
      case 7: {
        // An admin's adjustment, with an id (1-3) or none (0): an id is
        // applied once, and with another delta refused. Three ids stay
        // within what a record remembers.
        auto before = stock.on_hand;
        auto delta = in.small_signed();
        adjustment_op id = arg % 4;
        auto seen = adjusted.find(id);
        auto ec = stock_adjust(stock, delta, id);
        if (id != 0 && seen != adjusted.end()) {
          check(ec == (seen->second == delta ? errc::none : errc::conflict));
          check(stock.on_hand == before);
        } else if (ec == errc::none) {
          if (id != 0)
            adjusted[id] = delta;
          check(stock.on_hand == before + delta);
        }
        supplied += stock.on_hand - before;
        break;
      }
      case 8: {
        auto before = stock.on_hand;
        if (stock_set_on_hand(stock, in.byte()) == errc::none)
          supplied += stock.on_hand - before;
        break;
      }
      case 9: {
        // An order takes units, all or nothing, once.
        std::vector<cart_line> lines{{product, 1 + in.byte() % 5, 100, "p"}};
        if (in.byte() % 2)
          lines.push_back({1 + in.byte() % 8, 1 + in.byte() % 5, 100, "p"});
        auto before = cart;
        bool taken_before = cart_applied(cart, order_take_op(oid));
        bool taken = cart_take_for_order(cart, oid, lines);
        std::int64_t ordered = 0;
        for (const auto& l : lines)
          ordered += l.quantity;
        if (taken && !taken_before)
          check(units_of(before) - units_of(cart) == ordered);
        else
          check(cart.lines == before.lines);
        break;
      }
      case 10: {
        auto before = cart;
        bool taken = cart_applied(cart, order_take_op(oid));
        cart_give_back(cart, oid, {{product, 1 + in.byte() % 5, 100, "p"}});
        if (!taken)
          check(cart.lines == before.lines);
        check(units_of(cart) >= units_of(before));
        check(!cart_applied(cart, order_take_op(oid)));
        break;
      }
      case 11: {
        // The user's own change ids never push out the takes kept.
        auto takes = takes_kept(cart);
        cart_record(cart, 2 * static_cast<cart_op>(arg) + 1);
        check(takes_kept(cart) == takes);
        break;
      }
      default: {
        // Every saga event, authentication_needed (the last) included.
        auto ev = static_cast<saga_event>(
          arg % (static_cast<int>(saga_event::authentication_needed) + 1));
        auto from = order.status;
        if (from == order_status::stock_reserved && ev == saga_event::authentication_needed)
          order.payment_action = "pi_secret";
        bool applied = apply_event(order, ev, "r", now);
        // The client secret lives only while the order waits for it.
        check(order.payment_action.empty() ||
              order.status == order_status::authentication_required);
        if (is_terminal(from))
          check(!applied && order.status == from); // terminal states absorb
        if (applied) {
          check(next_status(from, ev) == order.status);
          check(!order.timeline.empty() && order.timeline.back().status == order.status);
        } else {
          check(order.status == from);
        }
        break;
      }
    }
    check_cart(cart);
    check_stock(stock, supplied);
    check(stock.on_hand + stock.sold == supplied);
  }
  return 0;
}
