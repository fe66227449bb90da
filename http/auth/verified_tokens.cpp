// Access tokens already verified (see verified_tokens.hpp).
#include "http/auth/verified_tokens.hpp"

#include <algorithm>
#include <cstring>

namespace emporium::http {

verified_tokens::verified_tokens(std::size_t slots)
  : slots_(std::max<std::size_t>(slots / 2, 1) * 2), second_used_last_(slots_.size() / 2) {}

std::size_t verified_tokens::pair_of(std::string_view token) const {
  // A kept token's last 8 characters are 48 bits of its HMAC: enough to
  // spread tokens, and cheaper than hashing ~300 bytes. Any other text
  // (shorter, or not a token) only lands on some slot and misses.
  std::uint64_t h = 0;
  auto tail = token.substr(token.size() - std::min<std::size_t>(token.size(), 8));
  std::memcpy(&h, tail.data(), tail.size());
  h *= 0x9E3779B97F4A7C15ull; // mixes the characters' bits into the high ones
  return (h >> 17) % second_used_last_.size() * 2;
}

const token_claims* verified_tokens::find(std::uint64_t owner, std::string_view token,
                                          std::int64_t now_s) {
  auto first = pair_of(token);
  for (std::size_t way = 0; way < 2; ++way) {
    auto& s = slots_[first + way];
    if (s.owner != owner || s.token != token)
      continue;
    if (s.claims.expires_at <= now_s) {
      s = slot{};
      return nullptr;
    }
    second_used_last_[first / 2] = way == 1;
    return &s.claims;
  }
  return nullptr;
}

void verified_tokens::put(std::uint64_t owner, std::string_view token,
                          const token_claims& claims) {
  auto first = pair_of(token);
  // An empty slot of the pair, else the one used less recently.
  std::size_t way = slots_[first].owner == 0 ? 0
                    : slots_[first + 1].owner == 0 ? 1
                    : second_used_last_[first / 2] ? 0 : 1;
  auto& s = slots_[first + way];
  second_used_last_[first / 2] = way == 1;
  s.owner = owner;
  s.token.assign(token);
  s.claims = claims;
}

std::size_t verified_tokens::held() const {
  return static_cast<std::size_t>(
    std::count_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.owner != 0; }));
}

} // namespace emporium::http
