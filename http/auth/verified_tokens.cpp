// Access tokens already verified (see verified_tokens.hpp).
#include "http/auth/verified_tokens.hpp"

#include <algorithm>

namespace emporium::http {

verified_tokens::verified_tokens(std::size_t max_entries)
  : max_entries_(std::max<std::size_t>(max_entries, 1)) {
  by_token_.reserve(max_entries_);
}

void verified_tokens::erase(std::list<entry>::iterator it) {
  by_token_.erase(std::string_view{it->token});
  lru_.erase(it);
}

const token_claims* verified_tokens::find(std::uint64_t owner, std::string_view token,
                                          std::int64_t now_s) {
  auto found = by_token_.find(token);
  if (found == by_token_.end() || found->second->owner != owner)
    return nullptr;
  auto it = found->second;
  if (it->claims.expires_at <= now_s) {
    erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return &it->claims;
}

void verified_tokens::put(std::uint64_t owner, std::string_view token,
                          const token_claims& claims) {
  if (auto found = by_token_.find(token); found != by_token_.end())
    erase(found->second); // kept by another codec
  while (lru_.size() >= max_entries_)
    erase(std::prev(lru_.end()));
  lru_.push_front(entry{owner, std::string{token}, claims});
  by_token_.emplace(std::string_view{lru_.front().token}, lru_.begin());
}

} // namespace emporium::http
