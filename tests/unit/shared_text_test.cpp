// shared_text (domain/shared_text.hpp): copies share one block, the text
// survives every holder but the last, and holders on several threads may
// copy and drop it at once (run under ASan, which sees a double free or a
// read after the block went).
#include "domain/shared_text.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace emporium;

TEST_CASE("copies of a shared text share its characters; equal text compares equal") {
  const std::string id = "9f86d081884c7d659a2feaa0c55ad015"; // a real 32-hex user id
  shared_text a{id};
  shared_text b = a;
  CHECK(a.view() == id);
  CHECK(b.view().data() == a.view().data()); // one block, not a copy
  shared_text separate{id};
  CHECK(separate == a); // made apart, equal by text
  CHECK(separate.view().data() != a.view().data());
  CHECK_FALSE(a == shared_text{"9f86d081884c7d659a2feaa0c55ad016"});
  CHECK(a == std::string_view{id});
  CHECK(a.str() == id);

  shared_text moved{std::move(a)};
  CHECK(a.empty()); // NOLINT: moved from
  CHECK(moved.view() == id);
  a = moved;
  a = a; // self-assignment keeps it
  CHECK(a.view() == id);
  b = shared_text{"other"};
  CHECK(b.view() == "other");
  CHECK(moved.view() == id); // dropping one holder left the others intact
}

TEST_CASE("an empty shared text holds nothing") {
  shared_text none{""};
  CHECK(none.empty());
  CHECK(none == shared_text{});
  CHECK(none.view().empty());
  CHECK(none.str().empty());
}

TEST_CASE("holders on four threads copy and drop one text; the last frees it once") {
  shared_text original{"b1946ac92492d2347c6235b4d2611184"};
  std::atomic<int> torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([copy = original, &torn] {
      for (int i = 0; i < 100'000; ++i) {
        shared_text again = copy;
        shared_text moved = std::move(again);
        if (moved.view() != "b1946ac92492d2347c6235b4d2611184")
          ++torn;
      }
    });
  original = shared_text{};
  for (auto& t : threads)
    t.join();
  CHECK(torn.load() == 0);
  CHECK(original.empty());
}
