// Password hashing pool and token helpers (see credentials.hpp).
#include "http/auth/credentials.hpp"

#include "actors/cluster/shard_map.hpp"

#include "http/auth/jwt.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <sodium.h>

namespace emporium::http {

struct password_hasher::impl {
  explicit impl(unsigned threads) : pool(threads) {
  }
  boost::asio::thread_pool pool;
};

password_hasher::password_hasher(unsigned threads)
  : impl_(std::make_unique<impl>(std::max(1u, threads))) {
}

password_hasher::~password_hasher() {
  impl_->pool.join();
}

void password_hasher::hash(std::string password, std::function<void(std::string)> done) {
  boost::asio::post(impl_->pool, [password = std::move(password), done = std::move(done)] {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
      return done(std::string{});
    done(std::string{out});
  });
}

void password_hasher::verify(std::string password, std::string encoded,
                             std::function<void(bool)> done) {
  boost::asio::post(impl_->pool, [password = std::move(password),
                                  encoded = std::move(encoded), done = std::move(done)] {
    bool ok = !encoded.empty() &&
              crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
    done(ok);
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
