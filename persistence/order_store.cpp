// Order index and order reads (see order_store.hpp).
#include "persistence/order_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

order_store::order_store(const std::string& path, durability level, order_id_space ids)
  : db_(open_database(path, level)), ids_(ids) {
}

order_store::~order_store() = default;

void order_store::begin() {
  db_->exec("BEGIN IMMEDIATE");
}

void order_store::commit() {
  db_->exec("COMMIT");
}

void order_store::rollback() {
  try {
    db_->exec("ROLLBACK");
  } catch (...) {
  }
}

std::optional<placed_order> order_store::find_by_key(const std::string& user,
                                                     const std::string& key) {
  SQLite::Statement q(*db_, "SELECT id, user_id, request_hash, response FROM orders "
                            "WHERE user_id = ? AND idempotency_key = ?");
  q.bind(1, user);
  q.bind(2, key);
  if (!q.executeStep())
    return std::nullopt;
  return placed_order{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                      q.getColumn(2).getString(), q.getColumn(3).getString()};
}

std::int64_t order_store::insert_index(const std::string& user,
                                       const std::optional<std::string>& key,
                                       const std::string& request_hash, std::int64_t now_ms) {
  SQLite::Statement q(*db_, "INSERT INTO orders(id, user_id, idempotency_key, request_hash, "
                            "placed_at) VALUES((SELECT COALESCE(MAX(id), ? - ?) + ? FROM orders),"
                            "?,?,?,?)");
  q.bind(1, ids_.offset);
  q.bind(2, ids_.stride);
  q.bind(3, ids_.stride);
  q.bind(4, user);
  if (key)
    q.bind(5, *key);
  else
    q.bind(5);
  q.bind(6, request_hash);
  q.bind(7, now_ms);
  q.exec();
  return db_->getLastInsertRowid();
}

void order_store::set_response(std::int64_t id, const std::string& response) {
  SQLite::Statement q(*db_, "UPDATE orders SET response = ? WHERE id = ?");
  q.bind(1, response);
  q.bind(2, id);
  q.exec();
}

std::vector<std::string> order_store::history(const std::string& user, std::size_t limit) {
  SQLite::Statement q(*db_, "SELECT e.state FROM orders o JOIN entities e "
                            "ON e.kind = 3 AND e.id = CAST(o.id AS TEXT) "
                            "WHERE o.user_id = ? ORDER BY o.id DESC LIMIT ?");
  q.bind(1, user);
  q.bind(2, static_cast<std::int64_t>(limit));
  std::vector<std::string> out;
  while (q.executeStep())
    out.push_back(q.getColumn(0).getString());
  return out;
}

std::optional<std::pair<std::string, std::string>> order_store::find(std::int64_t id) {
  SQLite::Statement q(*db_, "SELECT o.user_id, e.state FROM orders o JOIN entities e "
                            "ON e.kind = 3 AND e.id = CAST(o.id AS TEXT) WHERE o.id = ?");
  q.bind(1, id);
  if (!q.executeStep())
    return std::nullopt;
  return std::pair{q.getColumn(0).getString(), q.getColumn(1).getString()};
}

std::vector<outbox_row> order_store::events_since(const std::string& user, std::int64_t seq,
                                                  std::size_t limit) {
  SQLite::Statement q(*db_, "SELECT user_id, order_id, payload, seq FROM outbox "
                            "WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?");
  q.bind(1, user);
  q.bind(2, seq);
  q.bind(3, static_cast<std::int64_t>(limit));
  std::vector<outbox_row> out;
  while (q.executeStep())
    out.push_back(outbox_row{q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                             q.getColumn(2).getString(), q.getColumn(3).getInt64()});
  return out;
}

std::vector<std::int64_t> order_store::unfinished(std::uint8_t kind) {
  // The snapshot's "s" field holds the status number (4 = Confirmed,
  // 5 = Cancelled); a cancelled order whose compensation is not done ("c":0)
  // also counts as unfinished.
  SQLite::Statement q(*db_, "SELECT CAST(id AS INTEGER) FROM entities WHERE kind = ? AND "
                            "(json_extract(state, '$.s') NOT IN (4, 5) OR "
                            " (json_extract(state, '$.s') = 5 AND json_extract(state, '$.c') = 0))");
  q.bind(1, kind);
  std::vector<std::int64_t> out;
  while (q.executeStep())
    out.push_back(q.getColumn(0).getInt64());
  return out;
}

} // namespace emporium::persistence
