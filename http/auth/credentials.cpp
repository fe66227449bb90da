// Password hashing pool and token helpers (see credentials.hpp).
#include "http/auth/credentials.hpp"

#include "actors/cluster/shard_map.hpp"

#include "http/auth/jwt.hpp"
#include "support/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <sodium.h>

namespace emporium::http {

struct password_hasher::impl {
  impl(unsigned threads, hash_cost c) : pool(threads), cost(c) {
  }
  boost::asio::thread_pool pool;
  hash_cost cost;
};

password_hasher::password_hasher(unsigned threads, hash_cost cost)
  : impl_(std::make_unique<impl>(std::max(1u, threads), cost)) {
}

password_hasher::~password_hasher() {
  impl_->pool.join();
}

void password_hasher::hash(std::string password, std::function<void(std::string)> done) {
  bool minimal = impl_->cost == hash_cost::minimal;
  boost::asio::post(impl_->pool, [password = std::move(password), done = std::move(done),
                                  minimal] {
    char out[crypto_pwhash_STRBYTES];
    bool ok = crypto_pwhash_str(
                out, password.data(), password.size(),
                minimal ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                minimal ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    // A handler's continuation: shielded, since a pool thread that lets an
    // exception escape ends the process (its dropped responder answers 500).
    log::shielded("hasher_callback_threw", [&] { done(ok ? std::string{out} : std::string{}); });
  });
}

void password_hasher::verify(std::string password, std::string encoded,
                             std::function<void(bool)> done) {
  boost::asio::post(impl_->pool, [password = std::move(password),
                                  encoded = std::move(encoded), done = std::move(done)] {
    bool ok = !encoded.empty() &&
              crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
    log::shielded("hasher_callback_threw", [&] { done(ok); });
  });
}

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64url_encode(raw);
}

std::string token_hash(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string new_user_id() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return hex;
}

std::string new_user_id_for(const std::string& email, std::uint32_t shards) {
  auto want = cluster::shard_of_email(email, shards);
  for (;;) { // about `shards` draws on average
    auto id = new_user_id();
    if (cluster::shard_of_user(id, shards) == want)
      return id;
  }
}

std::string new_refresh_token(const std::string& user_id) {
  return user_id + "." + random_token(32);
}

std::string refresh_token_user(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == token.size())
    return {};
  return token.substr(0, dot);
}

} // namespace emporium::http
