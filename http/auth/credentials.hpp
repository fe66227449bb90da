// Password hashing (argon2id via crypto_pwhash_str) on a small worker pool,
// so neither the I/O threads nor the actors ever run the deliberately slow
// hash; plus random tokens and their stored hashes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>

namespace emporium::http {

/// argon2id's work factors: `interactive` is libsodium's recommendation
/// for logins (~100 ms, 64 MiB); `minimal` is for fuzzing the auth routes,
/// where the hash is not what is under test.
enum class hash_cost { interactive, minimal };

/// Two pools: logins verify on their own workers, so a burst of
/// registrations (each a 64 MiB, ~100 ms hash) never queues in front of a
/// login. Each pool's queue is bounded; a full queue refuses at once (the
/// caller answers 503 + Retry-After) instead of growing without limit.
class password_hasher {
public:
  explicit password_hasher(unsigned threads, hash_cost cost = hash_cost::interactive,
                           std::size_t max_queued = 64);
  ~password_hasher();

  /// Hashes on a registration worker; `done` gets the encoded hash (empty
  /// on failure). False, and `done` is never called, when the queue is full.
  bool hash(std::string password, std::function<void(std::string)> done);

  /// Verifies on a login worker after `delay` (a timer, no thread waits);
  /// `done` gets the verdict. An empty `encoded` (unknown email) verifies
  /// against a dummy hash of the same cost and answers false, so timing
  /// does not tell which emails have accounts. False when the queue is full.
  bool verify(std::string password, std::string encoded, std::function<void(bool)> done,
              std::chrono::milliseconds delay = std::chrono::milliseconds(0));

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// `bytes` random bytes, base64url-encoded.
std::string random_token(std::size_t bytes);

/// The signing secret: `configured` when set, else the one kept in
/// `data_dir`/jwt.secret (created with owner-only permissions on first
/// start, so tokens outlive a restart).
std::string jwt_secret(const std::string& configured, const std::string& data_dir);

/// Hex SHA-256 of a token (what the database keeps of refresh tokens).
std::string token_hash(const std::string& token);

/// The operation id (positive, never 0) an entity remembers for a client's
/// Idempotency-Key: the same (scope, user, key) always gives the same id,
/// so a client's retry is applied once; another user's or another scope's
/// same key gives another id. 62 bits of SHA-256: ids drawn at random by
/// the edge (also positive) meet one only by a 2^-62 chance.
std::int64_t operation_id_for_key(std::string_view scope, std::string_view user,
                                  std::string_view key);

/// Refresh tokens carry their user's id ("<userId>.<random>") so a rotation
/// finds the shard that stores them; the random part is the secret.
std::string new_refresh_token(const std::string& user_id);
/// The user id a refresh token claims to belong to ("" if malformed).
std::string refresh_token_user(const std::string& token);

} // namespace emporium::http
