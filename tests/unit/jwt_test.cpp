// JWT: round trip, and every way a token can be wrong; ids made of keys.
#include "http/auth/credentials.hpp"
#include "http/auth/jwt.hpp"
#include "http/auth/verified_tokens.hpp"

#include <doctest/doctest.h>
#include <sodium.h>

#include <string>
#include <vector>

using namespace emporium::http;

TEST_CASE("a signed token verifies; tampering, expiry, issuer and alg are checked") {
  REQUIRE(sodium_init() >= 0);
  jwt_codec codec{"0123456789abcdef0123456789abcdef", "emporium"};
  token_claims c{"user-1", "u@example.com", "customer", 1000, 2000};
  auto token = codec.sign(c);
  auto ok = codec.verify(token, 1500);
  REQUIRE(ok.has_value());
  CHECK(ok->user_id == "user-1");
  CHECK(ok->role == "customer");
  CHECK_FALSE(codec.verify(token, 2000).has_value()); // expired at exp
  CHECK(codec.verify_ignoring_expiry(token).has_value());
  jwt_codec other_secret{"another-secret-another-secret-00", "emporium"};
  CHECK_FALSE(other_secret.verify(token, 1500).has_value());
  jwt_codec other_issuer{"0123456789abcdef0123456789abcdef", "someone"};
  CHECK_FALSE(other_issuer.verify(token, 1500).has_value());
  auto tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;
  CHECK_FALSE(codec.verify(tampered, 1500).has_value());
  auto none_header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  auto unsigned_token = none_header + token.substr(token.find('.'), token.rfind('.') - token.find('.')) + ".";
  CHECK_FALSE(codec.verify(unsigned_token, 1500).has_value());
  CHECK_FALSE(codec.verify("", 1500).has_value());
  CHECK_FALSE(codec.verify("a.b", 1500).has_value());
  CHECK_FALSE(codec.verify("a.b.c.d", 1500).has_value());
}

TEST_CASE("claims that are not UTF-8 are signed, not thrown (fuzz_jwt regression)") {
  jwt_codec codec{"secret-secret-secret-secret-32by", "emporium"};
  token_claims c{"\xff", "a\xc3@example.com", "customer", 1, 1000};
  std::string token;
  CHECK_NOTHROW(token = codec.sign(c));
  auto back = codec.verify(token, 10);
  REQUIRE(back.has_value());
  CHECK(back->user_id == "\xef\xbf\xbd"); // U+FFFD in place of the bad byte
  CHECK(back->expires_at == 1000);
}

TEST_CASE("a token's second use is answered from memory, with its expiry checked again") {
  jwt_codec codec{"remembered-secret-remembered-sec", "emporium"};
  token_claims c{"0123456789abcdef0123456789abcdef", "r@example.com", "admin", 1000, 2000};
  auto token = codec.sign(c);
  auto remembered = jwt_codec::answered_from_memory();
  auto checked = jwt_codec::checked_in_full();
  REQUIRE(codec.verify(token, 1500).has_value());
  CHECK(jwt_codec::checked_in_full() == checked + 1);
  CHECK(jwt_codec::answered_from_memory() == remembered);
  auto again = codec.verify(token, 1600);
  REQUIRE(again.has_value());
  CHECK(jwt_codec::answered_from_memory() == remembered + 1);
  CHECK(jwt_codec::checked_in_full() == checked + 1);
  CHECK(again->user_id == c.user_id);
  CHECK(again->email == c.email);
  CHECK(again->role == "admin");
  CHECK(again->expires_at == 2000);
  // Expired now: refused, though it was remembered.
  CHECK_FALSE(codec.verify(token, 2000).has_value());
  // A copy has the same secret and issuer: it finds what the original kept.
  jwt_codec copy = codec;
  auto before_copy = jwt_codec::answered_from_memory();
  CHECK(copy.verify(token, 1500).has_value());
  CHECK(copy.verify(token, 1500).has_value());
  CHECK(jwt_codec::answered_from_memory() == before_copy + 1);
  // Another secret or issuer on the same thread never gets it from memory.
  jwt_codec other_secret{"another-secret-another-secret-00", "emporium"};
  jwt_codec other_issuer{"remembered-secret-remembered-sec", "someone"};
  CHECK_FALSE(other_secret.verify(token, 1500).has_value());
  CHECK_FALSE(other_issuer.verify(token, 1500).has_value());
  // Every byte of the token counts: a tampered copy of a remembered token
  // is checked in full and refused.
  for (std::size_t at : {std::size_t{3}, token.find('.') + 3, token.size() - 1}) {
    auto tampered = token;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    auto checks = jwt_codec::checked_in_full();
    CHECK_FALSE(codec.verify(tampered, 1500).has_value());
    CHECK(jwt_codec::checked_in_full() == checks + 1);
  }
  // A prefix or an extension of it is not it either.
  CHECK_FALSE(codec.verify(token.substr(0, token.size() - 1), 1500).has_value());
  CHECK_FALSE(codec.verify(token + "A", 1500).has_value());
}

TEST_CASE("remembered tokens are bounded: the least recently used goes first") {
  verified_tokens tokens{64};
  token_claims c{"u", "", "customer", 0, 100};
  auto token = [](int i) { return "header.payload.signature-" + std::to_string(i); };
  for (int i = 0; i < 64; ++i)
    tokens.put(1, token(i), c);
  CHECK(tokens.entries() == 64);
  // Token 0 used again: token 1 is now the least recently used.
  CHECK(tokens.find(1, token(0), 50) != nullptr);
  tokens.put(1, token(64), c);
  CHECK(tokens.entries() == 64);
  CHECK(tokens.find(1, token(1), 50) == nullptr);
  CHECK(tokens.find(1, token(0), 50) != nullptr);
  CHECK(tokens.find(1, token(64), 50) != nullptr);
  // Requests that go round 64 users, over and over: every one found.
  int found = 0;
  for (int round = 0; round < 3; ++round)
    for (int i = 2; i <= 64; ++i)
      found += tokens.find(1, token(i), 50) != nullptr;
  CHECK(found == 3 * 63);
  // Owners and expiry are checked; an expired entry is dropped.
  CHECK(tokens.find(2, token(64), 50) == nullptr);
  CHECK(tokens.find(1, token(64), 100) == nullptr);
  CHECK(tokens.entries() == 63);
  CHECK(tokens.find(1, token(64), 50) == nullptr);
  CHECK(tokens.find(1, "", 50) == nullptr);
  // The same token verified by another codec replaces the first's entry.
  tokens.put(2, token(0), c);
  CHECK(tokens.find(2, token(0), 50) != nullptr);
  CHECK(tokens.find(1, token(0), 50) == nullptr);
  CHECK(tokens.entries() == 63);
}

TEST_CASE("an Idempotency-Key gives one positive operation id per scope, user and key") {
  auto id = operation_id_for_key("reduce-stock", "admin-1", "key-1");
  CHECK(id > 0);
  CHECK(id == operation_id_for_key("reduce-stock", "admin-1", "key-1")); // a retry: the same
  // Another key, user or scope is another operation; a boundary moved
  // between the parts is too.
  std::vector<std::int64_t> ids{id,
                                operation_id_for_key("reduce-stock", "admin-1", "key-2"),
                                operation_id_for_key("reduce-stock", "admin-2", "key-1"),
                                operation_id_for_key("other", "admin-1", "key-1"),
                                operation_id_for_key("reduce-stock", "admin-1k", "ey-1"),
                                operation_id_for_key("reduce-stock", "", "")};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK(ids[i] > 0);
    for (std::size_t j = i + 1; j < ids.size(); ++j)
      CHECK(ids[i] != ids[j]);
  }
}
