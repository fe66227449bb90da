// Catalog listings as answered, kept by the query's normalized form and the
// read model's version (catalog_snapshot::version). A shop's visitors ask
// the same few listings over and over (the home page, a category, its next
// page); between two catalog changes the answer is the same bytes, so the
// query, the ranking and the rendering are done once per version instead of
// once per request (issue 18: the catalog query's path against nginx).
//
// One cache per I/O thread (no lock), bounded in entries and bytes: a client
// that asks many distinct queries evicts the oldest, never grows memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace emporium {
struct catalog_query;
}

namespace emporium::http {

struct cached_listing {
  std::string body;       // the JSON array as sent
  std::size_t total = 0;  // matches before paging (X-Total-Count, Link)
};

/// Two queries with the same key have the same answer at every version:
/// texts compared case-insensitively by the read model are lower-cased, and
/// every field is length-prefixed or fixed, so no two queries share a key.
std::string listing_key(const catalog_query& q);

class listing_cache {
public:
  listing_cache(std::size_t max_entries, std::size_t max_bytes);

  /// The answer kept for `key` at `version`, or nullptr. An answer of
  /// another version is dropped (it can never be served again: versions
  /// only rise). Valid until the next call.
  const cached_listing* find(std::string_view key, std::uint64_t version);

  /// Keeps `answer` as `key`'s at `version`, evicting the least recently
  /// used entries past either bound. An answer above an eighth of the byte
  /// bound is not kept (a full catalog of 100,000 products is ~20 MB).
  void put(std::string key, std::uint64_t version, cached_listing answer);

  /// Whether `put` would keep an answer of `body_bytes` under a key of
  /// `key_bytes`: one it would not keep goes to its caller by move, not
  /// copied for a cache that drops it.
  bool keeps(std::size_t key_bytes, std::size_t body_bytes) const;

  std::size_t entries() const { return lru_.size(); }
  std::size_t bytes() const { return bytes_; }

private:
  struct entry {
    std::string key;
    std::uint64_t version = 0;
    cached_listing answer;
  };
  static std::size_t cost(std::size_t key_bytes, std::size_t body_bytes);
  void erase(std::list<entry>::iterator it);
  std::list<entry> lru_; // most recently used first
  std::unordered_map<std::string_view, std::list<entry>::iterator> index_; // views of lru_'s keys
  std::size_t bytes_ = 0;
  std::size_t max_entries_;
  std::size_t max_bytes_;
};

} // namespace emporium::http
