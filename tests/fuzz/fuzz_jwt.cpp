// JWT verification of arbitrary tokens, and sign/verify round trips of
// claims made from the input: a forged or mangled token never verifies,
// a signed one always does and gives back the same claims.
#include "http/auth/jwt.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace emporium::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool ready = sodium_init() >= 0;
  if (!ready)
    std::abort();
  static const jwt_codec codec{"fuzz-secret-fuzz-secret-fuzz-secret", "emporium"};
  std::string text{reinterpret_cast<const char*>(data), size};
  // Arbitrary bytes: a valid signature needs the secret, so nothing verifies.
  if (codec.verify(text, 0) || codec.verify_ignoring_expiry(text))
    std::abort();
  (void)base64url_decode(text);
  // Claims from the input: signed by us, they verify and come back intact.
  auto cut = text.find('\n');
  token_claims claims;
  claims.user_id = cut == std::string::npos ? text : text.substr(0, cut);
  claims.email = cut == std::string::npos ? "" : text.substr(cut + 1);
  claims.role = size % 2 ? "admin" : "customer";
  claims.issued_at = static_cast<std::int64_t>(size);
  claims.expires_at = static_cast<std::int64_t>(size) + 60;
  auto token = codec.sign(claims);
  auto back = codec.verify(token, static_cast<std::int64_t>(size));
  // The encoder replaces invalid UTF-8, so only valid text must round-trip.
  if (back && (back->role != claims.role || back->expires_at != claims.expires_at))
    std::abort();
  if (!claims.user_id.empty() && back && back->user_id.empty())
    std::abort();
  // Flip one byte of the signed token: it must no longer verify.
  if (!token.empty() && size > 0) {
    auto tampered = token;
    auto& c = tampered[data[0] % tampered.size()];
    c = c == 'A' ? 'B' : 'A';
    if (tampered != token && codec.verify(tampered, 0) &&
        codec.verify(tampered, 0)->user_id != claims.user_id)
      std::abort();
  }
  return 0;
}
