// The cart actor through the directory, on the deterministic scheduler.
#include "fixture.hpp"
#include "persistence/entity_store.hpp"

using namespace emporium;
using namespace emporium::testing;

TEST_CASE_FIXTURE(deterministic, "cart operations answer the whole cart") {
  start("cart-ops");
  auto alice = cart_of("alice");
  auto v = call<cart_view>(alice, atoms::add::value, product_id{1}, std::int32_t{2},
                           cents{1500}, std::string{"Kettle"});
  CHECK(v.total == 3000);
  v = call<cart_view>(alice, atoms::add::value, product_id{2}, std::int32_t{1}, cents{250},
                      std::string{"Tea"});
  CHECK(v.lines.size() == 2);
  CHECK(v.total == 3250);
  v = call<cart_view>(alice, atoms::add::value, product_id{1}, std::int32_t{-1},
                      cents{9999}, std::string{"Kettle"});
  CHECK(v.lines[0].quantity == 1);
  CHECK(v.lines[0].unit_price == 1500);
  v = call<cart_view>(alice, atoms::set::value, product_id{2}, std::int32_t{4}, cents{250},
                      std::string{"Tea"}, std::int64_t{100});
  CHECK(v.total == 1500 + 1000);
  v = call<cart_view>(alice, atoms::remove::value, product_id{1});
  CHECK(v.lines.size() == 1);
  auto missing = ask<cart_view>(alice, atoms::remove::value, product_id{1});
  sched.run();
  CHECK(missing->error == errc::not_found);
  v = call<cart_view>(alice, atoms::clear::value);
  CHECK(v.lines.empty());
  CHECK(v.total == 0);
  // Another user's cart is a different entity.
  v = call<cart_view>(cart_of("bob"), atoms::get::value);
  CHECK(v.lines.empty());
}

TEST_CASE_FIXTURE(deterministic, "a refused change answers an error and changes nothing") {
  start("cart-refused");
  auto alice = cart_of("alice");
  call<cart_view>(alice, atoms::add::value, product_id{1}, std::int32_t{1}, cents{100},
                  std::string{"A"});
  auto bad = ask<cart_view>(alice, atoms::add::value, product_id{3}, std::int32_t{-2},
                            cents{100}, std::string{"C"});
  auto huge = ask<cart_view>(alice, atoms::add::value, product_id{1},
                             std::int32_t{max_line_quantity}, cents{100}, std::string{"A"});
  sched.run();
  CHECK(bad->error == errc::invalid_argument);
  CHECK(huge->error == errc::quantity_out_of_range);
  auto short_stock = ask<cart_view>(alice, atoms::add::value, product_id{1}, std::int32_t{5},
                                    cents{100}, std::string{"A"}, std::int64_t{5});
  sched.run();
  CHECK(short_stock->error == errc::insufficient_stock); // 1 + 5 > 5 available
  CHECK(call<cart_view>(alice, atoms::get::value).total == 100);
}

TEST_CASE_FIXTURE(deterministic, "acknowledged cart changes are in the database") {
  start("cart-durable");
  call<cart_view>(cart_of("carol"), atoms::add::value, product_id{4}, std::int32_t{3},
                  cents{700}, std::string{"Pan"});
  persistence::entity_store reader(db_path, persistence::durability::normal);
  auto text = reader.load(static_cast<std::uint8_t>(entity_kind::cart), "carol");
  REQUIRE(text.has_value());
  CHECK(text->find("Pan") != std::string::npos);
}
