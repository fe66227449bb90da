// The edge's list of calls waiting for an answer (http/call_deadlines.hpp).
#include "http/call_deadlines.hpp"

#include <doctest/doctest.h>

using namespace emporium::http;
using namespace std::chrono_literals;

TEST_CASE("calls time out in order, once, unless answered; answered calls leave at once") {
  call_deadlines<int> calls;
  std::chrono::steady_clock::time_point t0{};
  auto a = calls.add(10, t0 + 100ms);
  auto b = calls.add(11, t0 + 110ms);
  auto c = calls.add(12, t0 + 120ms);
  CHECK(calls.size() == 3);
  CHECK(calls.next_deadline() == t0 + 100ms);
  // An answer behind an unanswered call waits for it to leave.
  calls.answered(b);
  CHECK(calls.size() == 3);
  CHECK(calls.expire(t0 + 99ms).empty());
  // 10 times out; 11 was answered; 12 not yet due.
  CHECK(calls.expire(t0 + 115ms) == std::vector<int>{10});
  CHECK(calls.size() == 1);
  CHECK(calls.next_deadline() == t0 + 120ms);
  // A late answer of a call that timed out changes nothing.
  calls.answered(a);
  CHECK(calls.size() == 1);
  calls.answered(c);
  CHECK(calls.size() == 0);
  CHECK_FALSE(calls.next_deadline().has_value());
  CHECK(calls.expire(t0 + 1000ms).empty());
  // Numbers go on after the list emptied; unknown numbers are ignored.
  auto d = calls.add(13, t0 + 200ms);
  CHECK(d == c + 1);
  calls.answered(d + 5);
  CHECK(calls.size() == 1);
  CHECK(calls.expire(t0 + 200ms) == std::vector<int>{13});
}

TEST_CASE("calls answered in order keep the list short however many are made") {
  call_deadlines<int> calls;
  std::chrono::steady_clock::time_point t0{};
  std::size_t longest = 0;
  int held_behind = 0; // answers that waited behind an unanswered call
  for (int i = 0; i < 100000; ++i) {
    auto n = calls.add(i, t0 + 10s);
    longest = std::max(longest, calls.size());
    if (i % 2 == 1) { // answers come in pairs, the later call's first
      calls.answered(n);
      held_behind += calls.size() == 2;
      calls.answered(n - 1);
    }
  }
  CHECK(longest == 2);
  CHECK(held_behind == 50000);
  CHECK(calls.size() == 0);
}
