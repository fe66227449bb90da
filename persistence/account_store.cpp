// Users and refresh tokens (see account_store.hpp).
#include "persistence/account_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

account_store::account_store(const std::string& path, durability level, epoch_fence fence)
  : db_(path, level, std::move(fence)) {
}

account_store::~account_store() = default;

namespace {

std::optional<user_record> one_user(statement_lease& q) {
  if (!q->executeStep())
    return std::nullopt;
  return user_record{q->getColumn(0).getString(), q->getColumn(1).getString(),
                     q->getColumn(2).getString(), q->getColumn(3).getString(),
                     q->getColumn(4).getString(), q->getColumn(5).getString()};
}

} // namespace

std::optional<user_record> account_store::find_by_id(const std::string& id) {
  auto q = db_.statement("SELECT id, email, password_hash, first_name, last_name, role "
                         "FROM users WHERE id = ?");
  q->bind(1, id);
  return one_user(q);
}

std::optional<user_record> account_store::find_by_email(const std::string& email) {
  auto q = db_.statement("SELECT id, email, password_hash, first_name, last_name, role "
                         "FROM users WHERE email = ?");
  q->bind(1, email);
  return one_user(q);
}

bool account_store::insert_user(const user_record& u, std::int64_t now_ms) {
  write_transaction tx(db_); // fenced like every write to a shard file
  auto q = db_.statement("INSERT INTO users(id, email, password_hash, first_name, "
                            "last_name, role, created_at) VALUES(?,?,?,?,?,?,?) "
                            "ON CONFLICT DO NOTHING");
  q->bind(1, u.id);
  q->bind(2, u.email);
  q->bind(3, u.password_hash);
  q->bind(4, u.first_name);
  q->bind(5, u.last_name);
  q->bind(6, u.role);
  q->bind(7, now_ms);
  bool inserted = q->exec() == 1;
  tx.commit();
  return inserted;
}

void account_store::insert_refresh(const std::string& token_hash, const std::string& user_id,
                                   std::int64_t expires_at_ms) {
  write_transaction tx(db_); // fenced like every write to a shard file
  // A token hash is 256 random bits: one already here is this very token,
  // stored by the same request delivered again (a router resends it when
  // the node it went to died before answering).
  auto q = db_.statement("INSERT INTO refresh_tokens(token_hash, user_id, expires_at, family) "
                            "VALUES(?,?,?,?) ON CONFLICT(token_hash) DO NOTHING");
  q->bind(1, token_hash);
  q->bind(2, user_id);
  q->bind(3, expires_at_ms);
  q->bind(4, token_hash); // a login's first token names its family
  q->exec();
  tx.commit();
}

std::int64_t account_store::prune_refresh(std::int64_t now_ms) {
  write_transaction tx(db_); // fenced like every write to a shard file
  auto q = db_.statement("DELETE FROM refresh_tokens WHERE expires_at <= ?");
  q->bind(1, now_ms);
  auto pruned = q->exec();
  tx.commit();
  return pruned;
}

bool account_store::rotated_to(const std::string& family, const std::string& user,
                               const std::string& new_hash) {
  auto q = db_.statement("SELECT 1 FROM refresh_tokens WHERE token_hash = ? AND family = ? AND "
                         "user_id = ? AND revoked = 0");
  q->bind(1, new_hash);
  q->bind(2, family);
  q->bind(3, user);
  return q->executeStep();
}

std::optional<std::string> account_store::rotate_refresh(const std::string& old_hash,
                                                         const std::string& new_hash,
                                                         std::int64_t new_expires_at_ms,
                                                         std::int64_t now_ms) {
  write_transaction tx(db_);
  auto find = db_.statement("SELECT user_id, revoked, expires_at > ?, family FROM refresh_tokens "
                               "WHERE token_hash = ?");
  find->bind(1, now_ms);
  find->bind(2, old_hash);
  if (!find->executeStep())
    return std::nullopt;
  auto user = find->getColumn(0).getString();
  bool revoked = find->getColumn(1).getInt() != 0;
  bool live = find->getColumn(2).getInt() != 0;
  auto family = find->getColumn(3).getString();
  find->reset();
  if (revoked && rotated_to(family, user, new_hash)) {
    // This very rotation, delivered again (a router resends it when the
    // node it went to died before answering): its new token is the
    // family's live one. A thief replaying the old token brings a new hash
    // of its own, and ends the family below.
    tx.commit();
    return user;
  }
  if (revoked) {
    // Presented after its rotation: whoever holds the family's newest token
    // may be a thief. End the session everywhere.
    auto all = db_.statement("UPDATE refresh_tokens SET revoked = 1 WHERE family = ?");
    all->bind(1, family);
    all->exec();
    tx.commit();
    return std::nullopt;
  }
  if (!live)
    return std::nullopt;
  auto revoke = db_.statement("UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ?");
  revoke->bind(1, old_hash);
  revoke->exec();
  auto add = db_.statement("INSERT INTO refresh_tokens(token_hash, user_id, expires_at, family) "
                              "VALUES(?,?,?,?)");
  add->bind(1, new_hash);
  add->bind(2, user);
  add->bind(3, new_expires_at_ms);
  add->bind(4, family);
  add->exec();
  tx.commit();
  return user;
}

void account_store::promote_to_admin(const std::string& user_id) {
  write_transaction tx(db_); // fenced like every write to a shard file
  auto q = db_.statement("UPDATE users SET role = 'admin' WHERE id = ?");
  q->bind(1, user_id);
  q->exec();
  tx.commit();
}

void account_store::revoke_all(const std::string& user_id) {
  write_transaction tx(db_); // fenced like every write to a shard file
  auto q = db_.statement("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ?");
  q->bind(1, user_id);
  q->exec();
  tx.commit();
}

} // namespace emporium::persistence
