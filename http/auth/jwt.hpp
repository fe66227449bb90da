// HS256 JSON Web Tokens with libsodium's HMAC-SHA256. Verification accepts
// only alg HS256 (never `none`), checks the signature in constant time, the
// issuer and the expiry. A token that verified is remembered per thread
// (verified_tokens.hpp), so its next use checks only its expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace emporium::http {

struct token_claims {
  std::string user_id; // sub
  std::string email;
  std::string role;
  std::int64_t issued_at = 0;  // seconds since the epoch
  std::int64_t expires_at = 0; // seconds since the epoch
};

class jwt_codec {
public:
  jwt_codec(std::string secret, std::string issuer);

  std::string sign(const token_claims& claims) const;

  /// The claims of a valid token; nullopt for anything tampered, expired,
  /// wrongly signed, from another issuer or with another algorithm.
  std::optional<token_claims> verify(const std::string& token, std::int64_t now_s) const;

  /// Tokens verify() answered from this thread's remembered ones, and
  /// those it checked in full (valid or not), since the process started:
  /// every codec and thread counted (emporium_tokens_verified_total).
  static std::uint64_t answered_from_memory();
  static std::uint64_t checked_in_full();

  /// Like verify but ignores expiry (refresh presents an expired access token).
  std::optional<token_claims> verify_ignoring_expiry(const std::string& token) const;

private:
  std::optional<token_claims> check(const std::string& token, std::int64_t now_s,
                                    bool check_expiry) const;
  std::string secret_;
  std::string issuer_;
  /// Tells this codec's remembered tokens from another's (another secret or
  /// issuer) on the same thread; a copy has the same secret and issuer, and
  /// keeps the id.
  std::uint64_t id_;
};

std::string base64url_encode(const std::string& bytes);
std::optional<std::string> base64url_decode(const std::string& text);

} // namespace emporium::http
