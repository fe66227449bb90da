// Reservation arithmetic, without actors.
#include "domain/stock_rules.hpp"

#include <doctest/doctest.h>

using namespace emporium;

namespace {
void check_invariant(const stock_state& s) {
  CHECK(stock_available(s) >= 0);
  CHECK(s.on_hand == stock_available(s) + stock_reserved(s));
}
} // namespace

TEST_CASE("reserve takes from available or refuses, in one step") {
  stock_state s;
  stock_set_on_hand(s, 5);
  auto a = stock_reserve(s, 1, 3, 1000);
  CHECK(a.status == reserve_status::granted);
  CHECK(a.available == 2);
  auto b = stock_reserve(s, 2, 3, 1000);
  CHECK(b.status == reserve_status::insufficient);
  CHECK(b.available == 2);
  CHECK(stock_reserved(s) == 3);
  check_invariant(s);
}

TEST_CASE("reserve, release and commit are idempotent per order") {
  stock_state s;
  stock_set_on_hand(s, 10);
  CHECK(stock_reserve(s, 1, 4, 1000).status == reserve_status::granted);
  CHECK(stock_reserve(s, 1, 4, 1000).status == reserve_status::already_held);
  CHECK(stock_reserved(s) == 4);
  CHECK(stock_commit(s, 1) == errc::none);
  CHECK(stock_commit(s, 1) == errc::none);
  CHECK(s.on_hand == 6);
  CHECK(s.sold == 4);
  // A redelivered reserve after the commit must not take stock again.
  CHECK(stock_reserve(s, 1, 4, 1000).status == reserve_status::settled);
  CHECK(stock_available(s) == 6);
  CHECK(stock_reserve(s, 2, 2, 1000).status == reserve_status::granted);
  CHECK(stock_release(s, 2));
  CHECK_FALSE(stock_release(s, 2));
  CHECK(stock_available(s) == 6);
  CHECK(stock_commit(s, 2) == errc::not_found);
  CHECK(stock_commit(s, 99) == errc::not_found);
  check_invariant(s);
}

TEST_CASE("a sale given back by its cancelled order returns its units, once") {
  stock_state s;
  stock_set_on_hand(s, 10);
  stock_reserve(s, 1, 4, 1000);
  stock_commit(s, 1);
  stock_reserve(s, 2, 1, 1000);
  stock_commit(s, 2);
  CHECK(stock_return_sale(s, 1, 4) == return_status::returned);
  CHECK(s.on_hand == 9);
  CHECK(s.sold == 1);
  CHECK(stock_available(s) == 9);
  CHECK(stock_return_sale(s, 1, 4) == return_status::not_sold); // a repeat
  CHECK(s.on_hand == 9);
  // Returned is not sold: a late commit of it is refused, a reserve settled.
  CHECK(stock_commit(s, 1) == errc::not_found);
  CHECK(stock_reserve(s, 1, 4, 1000).status == reserve_status::settled);
  // A hold that was released, and an order never seen, are not sales; the
  // latter is for the file to tell.
  stock_reserve(s, 3, 2, 1000);
  stock_release(s, 3);
  CHECK(stock_return_sale(s, 3, 2) == return_status::not_sold);
  CHECK(stock_return_sale(s, 77, 2) == return_status::unknown);
  CHECK(s.on_hand == 9);
  CHECK(stock_return_sale(s, 77, 2, true) == return_status::returned); // on file
  CHECK(s.on_hand == 11);
  CHECK(stock_return_sale(s, 77, 2, true) == return_status::not_sold);
  CHECK(stock_return_sale(s, 2, 0) == return_status::not_sold); // no quantity: nothing
  CHECK(s.sold == 0);
  check_invariant(s);
}

TEST_CASE("expiry only removes the reservation it was armed for") {
  stock_state s;
  stock_set_on_hand(s, 3);
  stock_reserve(s, 1, 2, 500);
  CHECK_FALSE(stock_expire(s, 1, 400));
  CHECK(stock_reserved(s) == 2);
  CHECK(stock_expire(s, 1, 500));
  CHECK(stock_reserved(s) == 0);
  CHECK(stock_available(s) == 3);
  CHECK(stock_reserve(s, 1, 1, 900).status == reserve_status::settled);
}

TEST_CASE("admin changes never go below what is reserved") {
  stock_state s;
  stock_set_on_hand(s, 10);
  stock_reserve(s, 1, 6, 1000);
  CHECK(stock_set_on_hand(s, 5) == errc::insufficient_stock);
  CHECK(stock_adjust(s, -5) == errc::insufficient_stock);
  CHECK(stock_adjust(s, -4) == errc::none);
  CHECK(s.on_hand == 6);
  CHECK(stock_available(s) == 0);
  CHECK(stock_set_on_hand(s, -1) == errc::invalid_argument);
  CHECK(stock_reserve(s, 2, 0, 1000).status == reserve_status::insufficient);
  check_invariant(s);
}

TEST_CASE("an adjustment with an id is applied once; the id with another delta is a conflict") {
  stock_state s;
  stock_set_on_hand(s, 10);
  CHECK(stock_adjust(s, -3, 41) == errc::none);
  CHECK(s.on_hand == 7);
  CHECK(stock_adjust(s, -3, 41) == errc::none); // a resend: nothing changes
  CHECK(s.on_hand == 7);
  CHECK(stock_adjust(s, -2, 41) == errc::conflict);
  CHECK(s.on_hand == 7);
  REQUIRE(stock_find_adjustment(s, 41) != nullptr);
  CHECK(stock_find_adjustment(s, 41)->delta == -3);
  // Without an id each call adds, and nothing is remembered.
  CHECK(stock_adjust(s, 1) == errc::none);
  CHECK(stock_adjust(s, 1) == errc::none);
  CHECK(s.on_hand == 9);
  CHECK(stock_find_adjustment(s, 0) == nullptr);
  CHECK(s.adjustments.size() == 1);
  // A refused adjustment is not remembered: tried again once the stock
  // allows it, it applies.
  stock_reserve(s, 1, 9, 1000);
  CHECK(stock_adjust(s, -1, 42) == errc::insufficient_stock);
  CHECK(stock_find_adjustment(s, 42) == nullptr);
  CHECK(stock_release(s, 1));
  CHECK(stock_adjust(s, -1, 42) == errc::none);
  CHECK(s.on_hand == 8);
  check_invariant(s);
}

TEST_CASE("adjustment ids are remembered up to a bound, the oldest forgotten first") {
  stock_state s;
  stock_set_on_hand(s, 1000);
  auto count = static_cast<adjustment_op>(max_remembered_adjustments) + 3;
  for (adjustment_op op = 1; op <= count; ++op)
    CHECK(stock_adjust(s, -1, op) == errc::none);
  CHECK(s.adjustments.size() == max_remembered_adjustments);
  CHECK(s.on_hand == 1000 - count);
  CHECK(stock_find_adjustment(s, 3) == nullptr);
  CHECK(stock_find_adjustment(s, 4) != nullptr);
  CHECK(stock_find_adjustment(s, count) != nullptr);
  CHECK(stock_adjust(s, -1, count) == errc::none); // the newest is still a repeat
  CHECK(s.on_hand == 1000 - count);
}

TEST_CASE("settled orders are remembered up to a bound") {
  stock_state s;
  stock_set_on_hand(s, 100000);
  for (order_id o = 1; o <= static_cast<order_id>(max_remembered_settlements) + 10; ++o) {
    stock_reserve(s, o, 1, 1);
    stock_release(s, o);
  }
  CHECK(s.settled.size() == max_remembered_settlements);
  CHECK(s.settled.back().order == static_cast<order_id>(max_remembered_settlements) + 10);
}

TEST_CASE("a snapshot remembering more settlements than the bound is trimmed on its next one") {
  stock_state s;
  stock_set_on_hand(s, 10);
  for (order_id o = 1; o <= 4096; ++o) // as records written before the bound was lowered
    s.settled.push_back({o, settlement::committed});
  stock_reserve(s, 5000, 1, 1);
  stock_commit(s, 5000);
  CHECK(s.settled.size() == max_remembered_settlements);
  CHECK(s.settled.back().order == 5000);
  CHECK(s.settled.front().order == 4096 - static_cast<order_id>(max_remembered_settlements) + 2);
}
