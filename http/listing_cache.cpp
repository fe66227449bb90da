// Catalog listings as answered (see listing_cache.hpp).
#include "http/listing_cache.hpp"

#include "actors/catalog/catalog_view.hpp"
#include "http/router.hpp" // to_lower

#include <fmt/format.h>

namespace emporium::http {

namespace {

std::string price_part(const std::optional<cents>& price) {
  return price ? std::to_string(*price) : std::string{"-"};
}

} // namespace

std::string listing_key(const catalog_query& q) {
  auto search = to_lower(q.search);
  auto category = to_lower(q.category);
  return fmt::format("{}:{}|{}:{}|{}|{}|{}:{}|{}|{}|{}", search.size(), search, category.size(),
                     category, price_part(q.min_price), price_part(q.max_price),
                     q.sort_by.size(), q.sort_by, q.descending ? 'd' : 'a', q.page,
                     q.page_size);
}

listing_cache::listing_cache(std::size_t max_entries, std::size_t max_bytes)
  : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::size_t listing_cache::cost(std::size_t key_bytes, std::size_t body_bytes) {
  // The strings' bytes and about what the list node and the index's slot
  // take beside them.
  return key_bytes + body_bytes + 128;
}

bool listing_cache::keeps(std::size_t key_bytes, std::size_t body_bytes) const {
  return max_entries_ > 0 && cost(key_bytes, body_bytes) <= max_bytes_ / 8;
}

void listing_cache::erase(std::list<entry>::iterator it) {
  bytes_ -= cost(it->key.size(), it->answer.body.size());
  index_.erase(std::string_view{it->key});
  lru_.erase(it);
}

const cached_listing* listing_cache::find(std::string_view key, std::uint64_t version) {
  auto found = index_.find(key);
  if (found == index_.end())
    return nullptr;
  auto it = found->second;
  if (it->version != version) {
    erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return &it->answer;
}

void listing_cache::put(std::string key, std::uint64_t version, cached_listing answer) {
  if (auto found = index_.find(std::string_view{key}); found != index_.end())
    erase(found->second);
  if (!keeps(key.size(), answer.body.size()))
    return;
  auto size = cost(key.size(), answer.body.size());
  entry e{std::move(key), version, std::move(answer)};
  while (!lru_.empty() && (lru_.size() >= max_entries_ || bytes_ + size > max_bytes_))
    erase(std::prev(lru_.end()));
  lru_.push_front(std::move(e));
  index_.emplace(std::string_view{lru_.front().key}, lru_.begin());
  bytes_ += size;
}

} // namespace emporium::http
