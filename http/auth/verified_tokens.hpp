// Access tokens already verified, so that a client's next request with the
// same token skips the HMAC, two base64 decodes and two JSON parses (~6-11
// us on this VM; a cart add over HTTP costs ~100 us of CPU in all).
//
// A hit is the same answer verification would give: a token's claims are a
// pure function of its exact bytes and the codec's secret and issuer, so an
// entry is found only by the whole token, compared byte for byte, and is
// kept per codec; only the expiry depends on the time, and it is checked
// again on every hit. Only tokens that verified are kept, so a client
// sending forged or random tokens never fills it. The look-up is not
// constant-time (a hash, then a comparison within its bucket), but a
// guess that misses is checked in full, in constant time, so how long an
// answer takes tells nothing about a remembered token's bytes.
//
// One per I/O thread (no lock), bounded in entries, the least recently used
// evicted first. (Slots picked by the token's last bytes, two per set, were
// tried first: three users whose tokens shared a set evicted each other on
// every request when requests went round the users, 1,700-1,900 full checks
// in a run of 200 users where 400 are needed.)
#pragma once

#include "http/auth/jwt.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace emporium::http {

class verified_tokens {
public:
  explicit verified_tokens(std::size_t max_entries);

  /// The claims kept for exactly `token` under codec `owner`, unless they
  /// expire at or before `now_s` (the entry is then dropped); else nullptr.
  /// Valid until the next call.
  const token_claims* find(std::uint64_t owner, std::string_view token, std::int64_t now_s);

  /// Keeps `claims` as `token`'s (verified by codec `owner`), evicting the
  /// least recently used entry when full.
  void put(std::uint64_t owner, std::string_view token, const token_claims& claims);

  std::size_t entries() const { return lru_.size(); }

private:
  struct entry {
    std::uint64_t owner = 0;
    std::string token;
    token_claims claims;
  };
  void erase(std::list<entry>::iterator it);
  std::list<entry> lru_; // most recently used first
  std::unordered_map<std::string_view, std::list<entry>::iterator> by_token_; // views of lru_'s
  std::size_t max_entries_;
};

} // namespace emporium::http
