// JWT signing and verification (see jwt.hpp).
#include "http/auth/jwt.hpp"

#include "http/auth/verified_tokens.hpp"
#include "support/json_field.hpp"
#include "support/metrics.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <atomic>

namespace emporium::http {

std::string base64url_encode(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(),
                                            sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> base64url_decode(const std::string& text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                        text.data(), text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

namespace {

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return std::string(reinterpret_cast<char*>(mac), sizeof mac);
}

/// Each thread's verified tokens: at most 4,096, ~2.3 MiB with ~300-byte
/// tokens, per thread that verifies (the I/O threads).
verified_tokens& thread_verified_tokens() {
  thread_local verified_tokens tokens{4096};
  return tokens;
}

metrics::counter& tokens_verified(bool from_memory) {
  static auto& family = metrics::default_registry().counter_family(
    "emporium_tokens_verified_total",
    "Access tokens verified: answered from the thread's remembered tokens (remembered) or "
    "checked in full (checked, valid or not)",
    {"answer"});
  static auto& remembered = family.with({"remembered"});
  static auto& checked = family.with({"checked"});
  return from_memory ? remembered : checked;
}

std::uint64_t next_codec_id() {
  static std::atomic<std::uint64_t> last{0};
  return ++last;
}

} // namespace

jwt_codec::jwt_codec(std::string secret, std::string issuer)
  : secret_(std::move(secret)), issuer_(std::move(issuer)), id_(next_codec_id()) {
}

std::uint64_t jwt_codec::answered_from_memory() {
  return tokens_verified(true).value();
}

std::uint64_t jwt_codec::checked_in_full() {
  return tokens_verified(false).value();
}

std::string jwt_codec::sign(const token_claims& c) const {
  static const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  nlohmann::json payload{{"sub", c.user_id}, {"email", c.email}, {"role", c.role},
                         {"iss", issuer_},   {"iat", c.issued_at}, {"exp", c.expires_at}};
  // replace: a claim that is not valid UTF-8 must not make signing throw
  // (found by tests/fuzz/fuzz_jwt: an email or id byte 0xFF threw
  // type_error 316 out of dump()).
  auto signing_input =
    header + "." +
    base64url_encode(json_read::dump(payload));
  return signing_input + "." + base64url_encode(hmac(secret_, signing_input));
}

std::optional<token_claims> jwt_codec::verify(const std::string& token,
                                              std::int64_t now_s) const {
  auto& remembered = thread_verified_tokens();
  if (const auto* claims = remembered.find(id_, token, now_s)) {
    tokens_verified(true).inc();
    return *claims;
  }
  tokens_verified(false).inc();
  auto claims = check(token, now_s, true);
  if (claims)
    remembered.put(id_, token, *claims);
  return claims;
}

std::optional<token_claims> jwt_codec::verify_ignoring_expiry(const std::string& token) const {
  return check(token, 0, false);
}

std::optional<token_claims> jwt_codec::check(const std::string& token, std::int64_t now_s,
                                             bool check_expiry) const {
  if (token.size() > 4096)
    return std::nullopt;
  auto first = token.find('.');
  auto second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos)
    return std::nullopt;
  auto signing_input = token.substr(0, second);
  auto signature = base64url_decode(token.substr(second + 1));
  auto expected = hmac(secret_, signing_input);
  if (!signature || signature->size() != expected.size() ||
      sodium_memcmp(signature->data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  auto header = base64url_decode(token.substr(0, first));
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!header || !payload)
    return std::nullopt;
  // The signature matched, so these bytes are ours, unless the secret
  // leaked; they are still read as untrusted: type-checked, no exceptions.
  auto h = json_read::parse(*header);
  auto p = json_read::parse(*payload);
  if (!h || !p || json_read::field<std::string>(*h, "alg") != "HS256")
    return std::nullopt;
  auto sub = json_read::field<std::string>(*p, "sub");
  auto exp = json_read::field<std::int64_t>(*p, "exp");
  auto iss = json_read::field<std::string>(*p, "iss");
  if (!sub || sub->empty() || !exp || iss != issuer_)
    return std::nullopt;
  token_claims c;
  c.user_id = std::move(*sub);
  c.email = json_read::field<std::string>(*p, "email").value_or("");
  c.role = json_read::field<std::string>(*p, "role").value_or("customer");
  c.issued_at = json_read::field<std::int64_t>(*p, "iat").value_or(0);
  c.expires_at = *exp;
  if (check_expiry && c.expires_at <= now_s)
    return std::nullopt;
  return c;
}

} // namespace emporium::http
