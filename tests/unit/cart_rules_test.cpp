// Cart arithmetic, without actors.
#include "domain/cart_rules.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace emporium;

TEST_CASE("adding a product creates a line that remembers the price at addition") {
  cart_state cart;
  REQUIRE(cart_add(cart, 7, 2, 1999, "Mug") == errc::none);
  REQUIRE(cart.lines.size() == 1);
  CHECK(cart.lines[0] == cart_line{7, 2, 1999, "Mug"});
  // A later add at a new price keeps the original price.
  REQUIRE(cart_add(cart, 7, 1, 2499, "Mug") == errc::none);
  CHECK(cart.lines[0].quantity == 3);
  CHECK(cart.lines[0].unit_price == 1999);
  CHECK(cart_total(cart) == 3 * 1999);
}

TEST_CASE("a negative add lowers a line and a line reaching zero disappears") {
  cart_state cart;
  cart_add(cart, 1, 3, 100, "A");
  cart_add(cart, 2, 1, 250, "B");
  REQUIRE(cart_add(cart, 1, -2, 100, "A") == errc::none);
  CHECK(cart_quantity(cart, 1) == 1);
  REQUIRE(cart_add(cart, 1, -5, 100, "A") == errc::none);
  CHECK(cart_quantity(cart, 1) == 0);
  CHECK(cart.lines.size() == 1);
  CHECK(cart_total(cart) == 250);
}

TEST_CASE("invalid adds are refused and leave the cart unchanged") {
  cart_state cart;
  cart_add(cart, 1, 1, 100, "A");
  auto before = cart;
  CHECK(cart_add(cart, 1, 0, 100, "A") == errc::invalid_argument);
  CHECK(cart_add(cart, 9, -1, 100, "Z") == errc::invalid_argument);
  CHECK(cart_add(cart, 1, max_line_quantity, 100, "A") == errc::quantity_out_of_range);
  CHECK(cart_add(cart, 2, max_line_quantity + 1, 100, "B") == errc::quantity_out_of_range);
  CHECK(cart == before);
}

TEST_CASE("set quantity, remove and lines sorted by product id") {
  cart_state cart;
  cart_set(cart, 5, 2, 500, "E");
  cart_set(cart, 3, 1, 300, "C");
  cart_set(cart, 9, 4, 900, "I");
  REQUIRE(cart.lines.size() == 3);
  CHECK(cart.lines[0].product == 3);
  CHECK(cart.lines[2].product == 9);
  CHECK(cart_set(cart, 5, 7, 1, "ignored") == errc::none);
  CHECK(cart_quantity(cart, 5) == 7);
  CHECK(cart.lines[1].unit_price == 500);
  CHECK(cart_set(cart, 5, 0, 500, "E") == errc::none);
  CHECK(cart_quantity(cart, 5) == 0);
  CHECK(cart_set(cart, 3, -1, 300, "C") == errc::invalid_argument);
  CHECK(cart_remove(cart, 3) == errc::none);
  CHECK(cart_remove(cart, 3) == errc::not_found);
  CHECK(cart_total(cart) == 4 * 900);
}

TEST_CASE("an increase beyond the stock limit is refused; a decrease never is") {
  cart_state cart;
  CHECK(cart_add(cart, 1, 4, 100, "A", 3) == errc::insufficient_stock);
  CHECK(cart_add(cart, 1, 3, 100, "A", 3) == errc::none);
  CHECK(cart_add(cart, 1, 1, 100, "A", 3) == errc::insufficient_stock);
  CHECK(cart_add(cart, 1, -1, 100, "A", 0) == errc::none);
  CHECK(cart_set(cart, 1, 5, 100, "A", 4) == errc::insufficient_stock);
  CHECK(cart_set(cart, 1, 1, 100, "A", 0) == errc::none); // lowering is always fine
  CHECK(cart_quantity(cart, 1) == 1);
}

TEST_CASE("a cart remembers its last applied operation ids, the oldest forgotten first") {
  cart_state cart;
  CHECK_FALSE(cart_applied(cart, 0));
  cart_record(cart, 0); // no id: nothing to remember
  CHECK(cart.ops.empty());
  for (cart_op op = 1; op <= 10; ++op)
    cart_record(cart, op);
  CHECK(cart.ops.size() == cart_ops_kept);
  CHECK(cart.ops.front() == 3);
  CHECK(cart.ops.back() == 10);
  CHECK(cart_applied(cart, 10));
  CHECK(cart_applied(cart, 3));
  CHECK_FALSE(cart_applied(cart, 2));
  CHECK_FALSE(cart_applied(cart, 0));
}

namespace {

cart_state cart_of(cart_lines lines) {
  cart_state cart;
  cart.lines = std::move(lines);
  return cart;
}

} // namespace

TEST_CASE("an order takes its units all or nothing, once, and a second order cannot take them") {
  auto cart = cart_of({{1, 2, 100, "Tea"}, {2, 3, 250, "Mug"}});
  std::vector<cart_line> ordered{{1, 2, 100, "Tea"}, {2, 1, 250, "Mug"}};
  REQUIRE(cart_take_for_order(cart, 41, ordered));
  CHECK(cart.lines == cart_lines{{2, 2, 250, "Mug"}});
  // Asked again (a resumed saga, a resent message): the same answer, nothing more taken.
  CHECK(cart_take_for_order(cart, 41, ordered));
  CHECK(cart.lines == cart_lines{{2, 2, 250, "Mug"}});
  // A second order built from the same cart before the first took its units.
  auto before = cart;
  CHECK_FALSE(cart_take_for_order(cart, 42, ordered));
  CHECK(cart == before); // a short line takes nothing, not even the lines that were there
  // What is there can be taken.
  CHECK(cart_take_for_order(cart, 43, {{2, 2, 250, "Mug"}}));
  CHECK(cart.lines.empty());
}

TEST_CASE("a take refuses lines that are not positive and ids that are not orders") {
  auto cart = cart_of({{1, 2, 100, "Tea"}});
  auto before = cart;
  CHECK_FALSE(cart_take_for_order(cart, 5, {{1, 0, 100, "Tea"}}));
  CHECK_FALSE(cart_take_for_order(cart, 5, {{1, -2, 100, "Tea"}}));
  CHECK_FALSE(cart_take_for_order(cart, 0, {{1, 1, 100, "Tea"}}));
  CHECK_FALSE(cart_take_for_order(cart, -4, {{1, 1, 100, "Tea"}}));
  CHECK_FALSE(cart_take_for_order(cart, std::int64_t{1} << 62, {{1, 1, 100, "Tea"}}));
  CHECK_FALSE(cart_take_for_order(cart, 5, {{1, 3, 100, "Tea"}})); // more than the line holds
  CHECK_FALSE(cart_take_for_order(cart, 5, {{1, 1, 100, "Tea"}, {1, 2, 100, "Tea"}})); // twice
  CHECK(cart == before);
}

TEST_CASE("a cancelled order gives back what it took, once; a take after the close is refused") {
  auto cart = cart_of({{1, 2, 100, "Tea"}, {2, 1, 250, "Mug"}});
  std::vector<cart_line> ordered{{1, 2, 100, "Tea"}, {2, 1, 250, "Mug"}};
  REQUIRE(cart_take_for_order(cart, 7, ordered));
  REQUIRE(cart_add(cart, 2, 4, 250, "Mug") == errc::none); // added while the order was open
  CHECK(cart_give_back(cart, 7, ordered));
  CHECK(cart.lines == cart_lines{{1, 2, 100, "Tea"}, {2, 5, 250, "Mug"}});
  CHECK_FALSE(cart_give_back(cart, 7, ordered)); // resent: nothing more comes back
  CHECK(cart.lines == cart_lines{{1, 2, 100, "Tea"}, {2, 5, 250, "Mug"}});
  CHECK_FALSE(cart_take_for_order(cart, 7, ordered)); // a take arriving late is refused
  CHECK(cart.lines == cart_lines{{1, 2, 100, "Tea"}, {2, 5, 250, "Mug"}});
  // An order cancelled before it took anything gives nothing back, and cannot take later.
  CHECK(cart_give_back(cart, 8, {{1, 1, 100, "Tea"}}));
  CHECK(cart.lines == cart_lines{{1, 2, 100, "Tea"}, {2, 5, 250, "Mug"}});
  CHECK_FALSE(cart_take_for_order(cart, 8, {{1, 1, 100, "Tea"}}));
}

TEST_CASE("a give-back stops a line at its cap") {
  auto cart = cart_of({{1, 5, 100, "Tea"}});
  REQUIRE(cart_take_for_order(cart, 3, {{1, 5, 100, "Tea"}}));
  REQUIRE(cart_add(cart, 1, max_line_quantity - 1, 100, "Tea") == errc::none);
  CHECK(cart_give_back(cart, 3, {{1, 5, 100, "Tea"}}));
  CHECK(cart.lines == cart_lines{{1, max_line_quantity, 100, "Tea"}});
}

TEST_CASE("an open order's take outlives any number of the user's own changes") {
  auto cart = cart_of({{1, 2, 100, "Tea"}});
  REQUIRE(cart_take_for_order(cart, 11, {{1, 2, 100, "Tea"}}));
  for (cart_op op = 1; op <= 3 * static_cast<cart_op>(cart_ops_kept); op += 2)
    cart_record(cart, op);
  CHECK(cart.ops.size() == cart_ops_kept);
  CHECK(cart_applied(cart, order_take_op(11)));
  CHECK_FALSE(cart_applied(cart, 1)); // the user's oldest ops went instead
  CHECK(cart_give_back(cart, 11, {{1, 2, 100, "Tea"}}));
  CHECK(cart.lines == cart_lines{{1, 2, 100, "Tea"}});
}

TEST_CASE("a cart keeps its last four takes and always room for the user's own ops") {
  cart_state cart;
  constexpr auto takes = static_cast<std::int64_t>(cart_takes_kept);
  for (std::int64_t order = 100; order < 100 + 3 * takes; ++order) {
    cart_record(cart, order_take_op(order));
    cart_record(cart, 2 * order + 1); // a user's op between orders
  }
  CHECK(cart.ops.size() == cart_ops_kept);
  auto kept = std::count_if(cart.ops.begin(), cart.ops.end(), [](cart_op op) { return op < 0; });
  CHECK(kept == takes);
  CHECK(cart_applied(cart, order_take_op(100 + 3 * takes - 1)));
  CHECK(cart_applied(cart, order_take_op(100 + 2 * takes)));
  CHECK_FALSE(cart_applied(cart, order_take_op(100 + 2 * takes - 1))); // the oldest takes went
  CHECK(cart_applied(cart, 2 * (100 + 3 * takes - 1) + 1));           // the newest user's op stays
  // A confirmed order's take, resent late, finds it kept: nothing is taken twice.
  cart.lines = {{1, 2, 100, "Tea"}};
  CHECK(cart_take_for_order(cart, 100 + 3 * takes - 1, {{1, 2, 100, "Tea"}}));
  CHECK(cart.lines.size() == 1);
}

TEST_CASE("a cart past its three inline lines keeps them sorted, and shrinks back intact") {
  cart_state cart;
  const product_id products[] = {40, 10, 70, 20, 60, 30, 50};
  for (auto p : products)
    REQUIRE(cart_add(cart, p, 1, p * 100, "product " + std::to_string(p)) == errc::none);
  REQUIRE(cart.lines.size() == 7);
  for (std::size_t i = 0; i < cart.lines.size(); ++i) {
    CHECK(cart.lines[i].product == 10 * static_cast<product_id>(i + 1));
    CHECK(cart.lines[i].name.str() == "product " + std::to_string(10 * (i + 1)));
  }
  CHECK(cart_total(cart) == 100 * (10 + 20 + 30 + 40 + 50 + 60 + 70));
  for (auto p : {10, 30, 50, 70})
    REQUIRE(cart_remove(cart, p) == errc::none);
  CHECK(cart.lines == cart_lines{{20, 1, 2000, "product 20"},
                                 {40, 1, 4000, "product 40"},
                                 {60, 1, 6000, "product 60"}});
  cart_state copy = cart; // copies of a cart are independent
  REQUIRE(cart_add(copy, 80, 2, 8000, "product 80") == errc::none);
  CHECK(cart.lines.size() == 3);
  CHECK(copy.lines.size() == 4);
}
