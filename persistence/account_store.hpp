// Users and refresh tokens in SQLite. Refresh tokens are stored only as
// hashes, so a copy of the database does not let anyone refresh a session.
#pragma once

#include "domain/records.hpp"
#include "persistence/connection.hpp"

#include <optional>
#include <vector>

namespace emporium::persistence {

class account_store {
public:
  account_store(const std::string& path, durability level, epoch_fence fence = {});
  ~account_store();

  /// One user by id, or by email (case-insensitive, as the column's
  /// NOCASE collation compares); nullopt when there is none. Each is one
  /// index lookup: nothing is held in memory per user.
  std::optional<user_record> find_by_id(const std::string& id);
  std::optional<user_record> find_by_email(const std::string& email);

  /// Inserts a user; false when the email is taken (case-insensitive).
  bool insert_user(const user_record& user, std::int64_t now_ms);

  /// Stores the first token of a login: it starts a family of its own.
  /// Storing the same hash again does nothing (a request delivered twice).
  void insert_refresh(const std::string& token_hash, const std::string& user_id,
                      std::int64_t expires_at_ms);

  /// Rotation: if `old_hash` is live (not revoked, not expired), marks it
  /// rotated and stores `new_hash` in the same family, in one transaction,
  /// and returns the user id. If `old_hash` was already rotated or revoked,
  /// it has been stolen or replayed: the whole family is revoked, the newest
  /// token too (RFC 9700 4.14.2), and the answer is nullopt; unless the
  /// family's live token is `new_hash`: then this is the same rotation
  /// delivered again, answered with the user id as the first time.
  std::optional<std::string> rotate_refresh(const std::string& old_hash,
                                            const std::string& new_hash,
                                            std::int64_t new_expires_at_ms, std::int64_t now_ms);

  /// Deletes tokens that expired before `now_ms` (revoked or not: an expired
  /// token is refused anyway). Returns how many.
  std::int64_t prune_refresh(std::int64_t now_ms);

  void revoke_all(const std::string& user_id);

  /// Gives the user the admin role (the configured admin's email, taken by
  /// a customer account, with --promote-admin).
  void promote_to_admin(const std::string& user_id);

private:
  /// Whether `new_hash` is the live token of `family`, for `user`.
  bool rotated_to(const std::string& family, const std::string& user,
                  const std::string& new_hash);

  connection db_;
};

} // namespace emporium::persistence
