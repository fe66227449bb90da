// Plain records of accounts and products as actors and the edge exchange
// them (no CAF here; inspect overloads live in protocol.hpp).
#pragma once

#include "domain/money.hpp"

#include <cstdint>
#include <string>

namespace emporium {

struct user_record {
  std::string id;
  std::string email;
  std::string password_hash; // argon2id string from crypto_pwhash_str
  std::string first_name;
  std::string last_name;
  std::string role = "customer"; // customer | admin
};

/// What the account's shard says to a login that may go on: the account
/// to check the password against (none: check a dummy hash, so that the
/// answer's timing names no accounts) and the account's failed logins in
/// the last minute (from any address; the edge slows those down).
struct login_admission {
  std::uint32_t retry_after_s = 0; ///< > 0: refused, nothing counted
  bool found = false;
  user_record user;
  std::uint32_t recent_failures = 0;
};

enum class login_outcome : std::uint8_t {
  succeeded,      ///< the attempt is taken back
  wrong_password, ///< it stays counted, and the account's failures grow
  not_checked,    ///< our failure (the hash queue full): taken back
};

struct product_record {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  cents price = 0;
  std::string category;
};

} // namespace emporium
