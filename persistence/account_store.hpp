// Users and refresh tokens in SQLite. Refresh tokens are stored only as
// hashes, so a copy of the database does not let anyone refresh a session.
#pragma once

#include "actors/records.hpp"
#include "persistence/connection.hpp"

#include <optional>
#include <vector>

namespace emporium::persistence {

class account_store {
public:
  account_store(const std::string& path, durability level);
  ~account_store();

  std::vector<user_record> load_users();

  /// Inserts a user; false when the email is taken (case-insensitive).
  bool insert_user(const user_record& user, std::int64_t now_ms);

  void insert_refresh(const std::string& token_hash, const std::string& user_id,
                      std::int64_t expires_at_ms);

  /// Marks `old_hash` revoked and stores `new_hash` in one transaction, if
  /// `old_hash` is live (not revoked, not expired). Returns its user id.
  std::optional<std::string> rotate_refresh(const std::string& old_hash,
                                            const std::string& new_hash,
                                            std::int64_t new_expires_at_ms, std::int64_t now_ms);

  void revoke_all(const std::string& user_id);

private:
  connection db_;
};

} // namespace emporium::persistence
