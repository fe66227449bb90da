#include "domain/backoff.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_CASE("backoff doubles from its base per attempt and stops at its cap") {
  emporium::backoff b{100ms, 1000ms};
  CHECK(b.delay(0) == 0ms);
  CHECK(b.delay(1) == 100ms);
  CHECK(b.delay(2) == 200ms);
  CHECK(b.delay(4) == 800ms);
  CHECK(b.delay(5) == 1000ms);
  CHECK(b.delay(1'000'000) == 1000ms); // no overflow however long the streak
}

TEST_CASE("a cap below the base wins") {
  CHECK(emporium::backoff{500ms, 200ms}.delay(1) == 200ms);
}
