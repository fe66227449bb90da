// The log filter for failures that repeat: news at once, repeats at most
// once per interval with the count held back, and a clean slate after
// things work again.
#include "support/repeat_filter.hpp"

#include <doctest/doctest.h>

using emporium::repeat_filter;
using namespace std::chrono_literals;

TEST_CASE("a repeating failure is logged once, then once per interval with what was held back") {
  repeat_filter filter{10s};
  repeat_filter::clock::time_point t{};
  CHECK(filter.admit("disk I/O error", t) == std::optional<std::uint64_t>{0});
  for (int i = 1; i <= 99; ++i) // a retry every 100 ms for 9.9 s
    CHECK_FALSE(filter.admit("disk I/O error", t + i * 100ms).has_value());
  CHECK(filter.admit("disk I/O error", t + 10s) == std::optional<std::uint64_t>{99});
  CHECK_FALSE(filter.admit("disk I/O error", t + 10s + 100ms).has_value());
}

TEST_CASE("another failure is news at once; a cleared filter treats the old one as news") {
  repeat_filter filter{10s};
  repeat_filter::clock::time_point t{};
  CHECK(filter.admit("schema version 13 is newer", t).has_value());
  CHECK_FALSE(filter.admit("schema version 13 is newer", t + 1s).has_value());
  CHECK(filter.admit("database is locked", t + 2s) == std::optional<std::uint64_t>{1});
  CHECK(filter.admit("schema version 13 is newer", t + 3s) == std::optional<std::uint64_t>{0});
  filter.clear(); // it opened
  CHECK(filter.admit("schema version 13 is newer", t + 4s) == std::optional<std::uint64_t>{0});
}
