#include "support/random_hex.hpp"

#include <doctest/doctest.h>

#include <set>

using emporium::random_hex;

TEST_CASE("random_hex: 2 lowercase hex digits per byte, a fresh value each call") {
  auto id = random_hex(16);
  CHECK(id.size() == 32);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(random_hex(8).size() == 16);
  CHECK(random_hex(0).empty());
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i)
    seen.insert(random_hex(16));
  CHECK(seen.size() == 1000); // 128 bits: a repeat would mean no randomness
}
