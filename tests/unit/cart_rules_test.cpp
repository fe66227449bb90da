// Cart arithmetic, without actors.
#include "domain/cart_rules.hpp"

#include <doctest/doctest.h>

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
