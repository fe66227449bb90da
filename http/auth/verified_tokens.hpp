// Access tokens already verified, so that a client's next request with the
// same token skips the HMAC, two base64 decodes and two JSON parses (~6-11
// us on this VM; a cart add over HTTP costs ~100 us of CPU in all).
//
// A hit is the same answer verification would give: a token's claims are a
// pure function of its exact bytes and the codec's secret and issuer, so an
// entry is found only by the whole token, compared byte for byte, and is
// kept per codec; only the expiry depends on the time, and it is checked
// again on every hit. Only tokens that verified are kept, so a client
// sending forged or random tokens never fills it.
//
// One per I/O thread (no lock). Two-way set-associative: a token's pair of
// slots follows from the last bytes of its signature (an HMAC: evenly
// spread); a token for a full pair replaces the one used less recently.
// (Direct-mapped, two users whose tokens shared a slot took turns evicting
// each other: 4,000 full checks in 600,000 requests of 200 users, where
// 400 are needed.) Bounded in memory (slots x one token of at most 4 KiB).
#pragma once

#include "http/auth/jwt.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::http {

class verified_tokens {
public:
  explicit verified_tokens(std::size_t slots);

  /// The claims kept for exactly `token` under codec `owner`, unless they
  /// expire at or before `now_s` (the entry is then dropped); else nullptr.
  /// Valid until the next call.
  const token_claims* find(std::uint64_t owner, std::string_view token, std::int64_t now_s);

  /// Keeps `claims` as `token`'s (verified by codec `owner`), in place of
  /// the less recently used of its pair of slots.
  void put(std::uint64_t owner, std::string_view token, const token_claims& claims);

  std::size_t slots() const { return slots_.size(); }
  /// Slots that hold a token.
  std::size_t held() const;

private:
  struct slot {
    std::uint64_t owner = 0; // 0: empty (codec ids start at 1)
    std::string token;
    token_claims claims;
  };
  /// The first of `token`'s two slots (an even index).
  std::size_t pair_of(std::string_view token) const;
  std::vector<slot> slots_;
  /// Per pair: whether its second slot was used last.
  std::vector<bool> second_used_last_;
};

} // namespace emporium::http
