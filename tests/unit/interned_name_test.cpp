// Interned product names (domain/interned_name.hpp): one shared copy per
// distinct text, equal text equal, and a pool that frees what nobody holds.
#include "domain/interned_name.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <thread>
#include <vector>

using namespace emporium;

TEST_CASE("equal text is one shared copy; other text is not") {
  interned_name a{std::string{"Classic Tea Kettle, 1.7 litres"}};
  interned_name b{"Classic Tea Kettle, 1.7 litres"};
  interned_name c{"Classic Tea Kettle, 1.5 litres"};
  CHECK(a == b);
  CHECK(&a.str() == &b.str()); // the same bytes, not a copy
  CHECK_FALSE(a == c);
  CHECK(a.str() == "Classic Tea Kettle, 1.7 litres");
  CHECK(std::string_view{c} == "Classic Tea Kettle, 1.5 litres");
  interned_name none{""};
  CHECK(none.empty());
  CHECK(none == interned_name{});
  CHECK(none.str().empty());
  interned_name moved{std::move(a)};
  CHECK(moved == b);
  CHECK(a.empty()); // NOLINT: a moved-from name is empty
  a = c;
  CHECK(a == c);
  a = a; // self-assignment keeps it
  CHECK(a.str() == "Classic Tea Kettle, 1.5 litres");
}

TEST_CASE("the pool frees names nobody holds and keeps those still held") {
  std::vector<interned_name> held;
  for (int i = 0; i < 300; ++i)
    held.emplace_back(fmt::format("held product name number {:04}", i));
  // 20,000 distinct names, each dropped at once: the pool sweeps them.
  for (int i = 0; i < 20'000; ++i)
    interned_name passing{fmt::format("passing product name number {:05}", i)};
  CHECK(interned_name::pool_size() <= 2 * 1024 + 300);
  for (int i = 0; i < 300; ++i)
    CHECK(held[static_cast<std::size_t>(i)].str() == fmt::format("held product name number {:04}", i));
  // A held name is still the one copy its text maps to.
  CHECK(interned_name{"held product name number 0042"} == held[42]);
}

TEST_CASE("names interned, copied and dropped on four threads stay intact") {
  // Churn over more distinct names than a sweep keeps, so sweeps run while
  // other threads copy and drop; the sanitized run reports any use after free.
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &wrong] {
      std::vector<interned_name> mine;
      for (int i = 0; i < 20'000; ++i) {
        auto text = fmt::format("shared catalog name {:05}", (i * 7 + t) % 3000);
        interned_name n{text};
        if (n.str() != text)
          ++wrong[static_cast<std::size_t>(t)];
        mine.push_back(n); // a copy shares the node
        if (mine.size() > 64)
          mine.erase(mine.begin(), mine.begin() + 32);
      }
      for (const auto& n : mine)
        if (n.str().rfind("shared catalog name ", 0) != 0)
          ++wrong[static_cast<std::size_t>(t)];
    });
  for (auto& th : threads)
    th.join();
  CHECK(wrong == std::vector<int>(4, 0));
  CHECK(interned_name{"shared catalog name 00001"}.str() == "shared catalog name 00001");
}
