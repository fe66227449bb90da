// Work in progress per key: a key's slots up to the bound, each given back
// when its handle's last copy goes, other keys untouched.
#include "domain/in_flight_limiter.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <vector>

using emporium::in_flight_limiter;

TEST_CASE("in-flight per key: up to the bound, then refused until a handle goes") {
  in_flight_limiter limits(2);
  auto a = limits.hold("203.0.113.7");
  auto b = limits.hold("203.0.113.7");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(limits.held("203.0.113.7") == 2);
  CHECK_FALSE(limits.hold("203.0.113.7")); // a refusal holds nothing
  CHECK(limits.held("203.0.113.7") == 2);
  auto other = limits.hold("2001:db8:1:2::/64");
  CHECK(other);
  // A copy (a callback copied into a queue) keeps the slot; the last copy frees it.
  std::function<void()> job = [a] {};
  a.reset();
  CHECK_FALSE(limits.hold("203.0.113.7"));
  job = nullptr;
  CHECK(limits.held("203.0.113.7") == 1);
  auto c = limits.hold("203.0.113.7");
  CHECK(c);
  // Keys with nothing in progress leave the table.
  b.reset();
  c.reset();
  other.reset();
  CHECK(limits.keys() == 0);
}

TEST_CASE("in-flight per key: a handle may outlive its limiter") {
  std::shared_ptr<void> late;
  {
    in_flight_limiter limits(1);
    late = limits.hold("10.0.0.1");
    REQUIRE(late);
  }
  late.reset(); // gives its slot back to a table that only the handle kept
  CHECK_FALSE(late);
}
