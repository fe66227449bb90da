// The catalog listings' cache (http/listing_cache.hpp) and the read model's
// versions it keys on.
#include "actors/catalog/catalog_view.hpp"
#include "http/listing_cache.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace emporium;
using emporium::http::cached_listing;
using emporium::http::listing_cache;
using emporium::http::listing_key;

namespace {

cached_listing answer(std::string body, std::size_t total = 1) {
  return {std::move(body), total};
}

} // namespace

TEST_CASE("a listing is served at the version it was answered at, and dropped at another") {
  listing_cache cache{8, 1 << 20};
  CHECK(cache.find("k", 1) == nullptr);
  cache.put("k", 1, answer("[1]", 7));
  auto* kept = cache.find("k", 1);
  REQUIRE(kept != nullptr);
  CHECK(kept->body == "[1]");
  CHECK(kept->total == 7);
  CHECK(cache.find("k", 2) == nullptr); // the catalog changed
  CHECK(cache.entries() == 0);          // and the old answer is gone
  CHECK(cache.bytes() == 0);
  CHECK(cache.find("k", 1) == nullptr);
  cache.put("k", 2, answer("[2]"));
  cache.put("k", 3, answer("[3]")); // replaces, never two of one key
  CHECK(cache.entries() == 1);
  REQUIRE(cache.find("k", 3) != nullptr);
  CHECK(cache.find("k", 3)->body == "[3]");
}

TEST_CASE("the least recently used listing goes first, by count and by bytes") {
  listing_cache cache{3, 1 << 20};
  cache.put("a", 1, answer("A"));
  cache.put("b", 1, answer("B"));
  cache.put("c", 1, answer("C"));
  REQUIRE(cache.find("a", 1) != nullptr); // a is now the most recent
  cache.put("d", 1, answer("D"));          // b goes
  CHECK(cache.entries() == 3);
  CHECK(cache.find("b", 1) == nullptr);
  CHECK(cache.find("a", 1) != nullptr);
  CHECK(cache.find("c", 1) != nullptr);
  CHECK(cache.find("d", 1) != nullptr);

  // Bytes: 8 KiB allowed, answers of 800 bytes (931 with key and overhead).
  listing_cache small{1000, 8192};
  for (int i = 0; i < 100; ++i) {
    small.put("q" + std::to_string(i), 1, answer(std::string(800, 'x')));
    CHECK(small.bytes() <= 8192);
  }
  CHECK(small.entries() == 8);
  CHECK(small.find("q99", 1) != nullptr);
  CHECK(small.find("q92", 1) != nullptr);
  CHECK(small.find("q91", 1) == nullptr);
  // An answer above an eighth of the bound is not kept at all.
  CHECK(small.keeps(4, 800));
  CHECK_FALSE(small.keeps(4, 2000));
  CHECK(small.keeps(4, 1024 - 128 - 4));   // 1,024 bytes with key and overhead: kept
  CHECK_FALSE(small.keeps(4, 1024 - 127 - 4));
  small.put("huge", 1, answer(std::string(2000, 'x')));
  CHECK(small.find("huge", 1) == nullptr);
  CHECK(small.entries() == 8);
}

TEST_CASE("a cache of no entries keeps nothing") {
  listing_cache none{0, 1 << 20};
  CHECK_FALSE(none.keeps(1, 1));
  none.put("a", 1, answer("A"));
  CHECK(none.find("a", 1) == nullptr);
  CHECK(none.entries() == 0);
}

TEST_CASE("queries with the same answer share a key, any other query has its own") {
  catalog_query base;
  base.search = "Kettle";
  base.category = "Kitchen";
  auto same = base;
  same.search = "KETTLE";
  same.category = "kitchen";
  CHECK(listing_key(base) == listing_key(same));

  std::set<std::string> keys;
  auto add = [&](const catalog_query& q) { return keys.insert(listing_key(q)).second; };
  CHECK(add(base));
  auto q = base;
  q.search = "kettle|3:abc";
  CHECK(add(q)); // a separator inside a text cannot forge another query's key
  q = base;
  q.search = "";
  q.category = "kettle";
  CHECK(add(q));
  q = base;
  q.min_price = 0;
  CHECK(add(q));
  q = base;
  q.max_price = 0;
  CHECK(add(q));
  q = base;
  q.sort_by = "price";
  CHECK(add(q));
  q.descending = true;
  CHECK(add(q));
  q.page = 2;
  CHECK(add(q));
  q.page_size = 20;
  CHECK(add(q));
  q.page = 1;
  CHECK(add(q));
}

TEST_CASE("every published snapshot has a new version, unique across views") {
  catalog_view a;
  catalog_view b;
  CHECK(a.version() != b.version());
  CHECK(a.snapshot()->version == a.version());
  auto before = a.version();
  a.reset({{1, "Mug", "", 800, "Kitchen"}}, {{1, 5}});
  auto after_reset = a.version();
  CHECK(after_reset > before);
  CHECK(a.snapshot()->version == after_reset);
  a.set_stock({{1, 4}});
  CHECK(a.version() > after_reset);
  auto after_stock = a.version();
  a.set_stock({{1, 4}}); // no change: no new snapshot, the answers still hold
  CHECK(a.version() == after_stock);
  a.upsert({1, "Big Mug", "", 900, "Kitchen"});
  CHECK(a.version() > after_stock);
  b.reset({{1, "Mug", "", 800, "Kitchen"}}, {{1, 5}});
  CHECK(b.version() != a.version());
  CHECK(b.version() != after_reset);
}
