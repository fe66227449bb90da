// The attempt limiter: counted when an attempt starts, refused past the
// limit with the seconds to wait, a success taken back, a sliding window.
#include "domain/attempt_limiter.hpp"

#include <doctest/doctest.h>

using emporium::attempt_limiter;
using namespace std::chrono_literals;

TEST_CASE("attempts are counted when admitted; the next one past the limit waits") {
  attempt_limiter limit{3};
  auto t0 = attempt_limiter::clock::time_point{} + 1h;
  CHECK(limit.admit("a", t0) == 0);
  CHECK(limit.admit("a", t0 + 1s) == 0);
  CHECK(limit.admit("a", t0 + 2s) == 0);
  // Three in flight (no answer yet): the fourth is refused, uncounted.
  CHECK(limit.admit("a", t0 + 3s) == 58); // until the first leaves the minute
  CHECK(limit.count("a", t0 + 3s) == 3);
  CHECK(limit.admit("b", t0 + 3s) == 0); // keys are independent
  // The window slides: after a minute the first attempt no longer counts.
  CHECK(limit.admit("a", t0 + 60s) == 0);
  CHECK(limit.count("a", t0 + 60s) == 3);
  CHECK(limit.count("a", t0 + 200s) == 0);
}

TEST_CASE("a success takes its attempt back") {
  attempt_limiter limit{2};
  auto t0 = attempt_limiter::clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(limit.admit("owner", t0 + std::chrono::seconds(i)) == 0);
    limit.forgive("owner");
  }
  CHECK(limit.count("owner", t0 + 10s) == 0);
  limit.forgive("never-seen"); // harmless
  limit.record("x", t0);       // counted without a limit
  limit.record("x", t0);
  limit.record("x", t0);
  CHECK(limit.count("x", t0) == 3);
}
