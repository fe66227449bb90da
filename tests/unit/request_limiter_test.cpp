// Requests per client: a token bucket each (burst, then the rate), the
// seconds a refused client must wait, independent clients, bounded memory,
// and which paths count.
#include "http/request_limiter.hpp"

#include <doctest/doctest.h>

#include <string>

using emporium::http::counted_path;
using emporium::http::request_limiter;
using namespace std::chrono_literals;

namespace {
const auto t0 = request_limiter::clock::time_point{} + 1h;
}

TEST_CASE("a client gets its burst at once, then the rate; a refusal says how long to wait") {
  request_limiter limit{10, 20};
  for (int i = 0; i < 20; ++i)
    REQUIRE(limit.admit("10.0.0.1", t0) == 0);
  CHECK(limit.admit("10.0.0.1", t0) == 1); // a token is back in 0.1 s: "1" second at least
  CHECK(limit.admit("10.0.0.2", t0) == 0); // another client is untouched
  // 10 per second: after 0.5 s five more, not six.
  for (int i = 0; i < 5; ++i)
    CHECK(limit.admit("10.0.0.1", t0 + 500ms) == 0);
  CHECK(limit.admit("10.0.0.1", t0 + 500ms) == 1);
  // Refused requests take no token: 1 s later, 10 more exactly.
  int admitted = 0;
  for (int i = 0; i < 30; ++i)
    admitted += limit.admit("10.0.0.1", t0 + 1500ms) == 0;
  CHECK(admitted == 10);
  // An idle client refills to the burst, never beyond.
  admitted = 0;
  for (int i = 0; i < 100; ++i)
    admitted += limit.admit("10.0.0.1", t0 + 1h) == 0;
  CHECK(admitted == 20);
}

TEST_CASE("a slow rate makes a refused client wait whole seconds") {
  request_limiter limit{0.25, 1}; // one request per 4 s
  CHECK(limit.admit("a", t0) == 0);
  CHECK(limit.admit("a", t0) == 4);
  CHECK(limit.admit("a", t0 + 3s) == 1);
  CHECK(limit.admit("a", t0 + 4s) == 0);
}

TEST_CASE("memory is bounded: idle clients are dropped, and a table of busy ones fails open") {
  request_limiter limit{1, 2, 16 * 4}; // 4 buckets per stripe
  // 1,000 different addresses, each sending one request: the table holds
  // at most 64, and none of them is refused (each is a new client).
  int refused = 0;
  for (int i = 0; i < 1000; ++i)
    refused += limit.admit("198.51.100." + std::to_string(i), t0 + std::chrono::milliseconds(i)) != 0;
  CHECK(refused == 0);
  CHECK(limit.tracked() <= 64);
  // Two seconds later every bucket has refilled: new clients take their place.
  for (int i = 0; i < 64; ++i)
    limit.admit("203.0.113." + std::to_string(i), t0 + 10s);
  CHECK(limit.tracked() <= 64);
  CHECK(limit.tracked() > 0);
  // A client still tracked is still limited.
  auto busy = std::string{"192.0.2.1"};
  request_limiter small{1, 1, 16};
  CHECK(small.admit(busy, t0) == 0);
  CHECK(small.admit(busy, t0) == 1);
}

TEST_CASE("the API and the live sockets count; health probes and static files do not") {
  CHECK(counted_path("/api/cart/add"));
  CHECK(counted_path("/API/Cart/Add"));   // the router matches any case
  CHECK(counted_path("//api//catalog"));  // and skips empty segments
  CHECK(counted_path("/api"));
  CHECK(counted_path("/ws"));
  CHECK(counted_path("/notificationHub/negotiate"));
  CHECK(counted_path("/NOTIFICATIONHUB"));
  CHECK_FALSE(counted_path("/health/ready"));
  CHECK_FALSE(counted_path("/"));
  CHECK_FALSE(counted_path(""));
  CHECK_FALSE(counted_path("/assets/index.js"));
  CHECK_FALSE(counted_path("/apiary"));
  CHECK_FALSE(counted_path("/wss"));
}
