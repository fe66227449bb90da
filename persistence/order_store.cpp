// Order index and order reads (see order_store.hpp).
#include "persistence/order_store.hpp"

#include "persistence/snapshot_keys.hpp"
#include "persistence/state_codec.hpp"

#include <fmt/format.h>
#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

order_store::order_store(const std::string& path, durability level)
  : db_(path, level) {
}

order_store::~order_store() = default;

std::optional<placed_order> order_store::find_by_key(const std::string& user,
                                                     const std::string& key) {
  auto q = db_.statement("SELECT id, user_id, request_hash, response FROM orders "
                            "WHERE user_id = ? AND idempotency_key = ?");
  q->bind(1, user);
  q->bind(2, key);
  if (!q->executeStep())
    return std::nullopt;
  return placed_order{q->getColumn(0).getInt64(), q->getColumn(1).getString(),
                      q->getColumn(2).getString(), q->getColumn(3).getString()};
}

std::int64_t order_store::max_order_id() {
  auto q = db_.statement("SELECT COALESCE(MAX(id), 0) FROM orders");
  q->executeStep();
  return q->getColumn(0).getInt64();
}

std::vector<order_state> order_store::history(const std::string& user, std::size_t limit) {
  auto q = db_.statement("SELECT e.state FROM orders o JOIN entities e "
                            "ON e.kind = 3 AND e.id = CAST(o.id AS TEXT) "
                            "WHERE o.user_id = ? ORDER BY o.id DESC LIMIT ?");
  q->bind(1, user);
  q->bind(2, static_cast<std::int64_t>(limit));
  std::vector<order_state> out;
  while (q->executeStep())
    if (auto order = decode_order(q->getColumn(0).getString()))
      out.push_back(std::move(*order));
  return out;
}

std::optional<order_store::stored_order> order_store::find(std::int64_t id) {
  auto q = db_.statement("SELECT o.user_id, e.state FROM orders o JOIN entities e "
                            "ON e.kind = 3 AND e.id = CAST(o.id AS TEXT) WHERE o.id = ?");
  q->bind(1, id);
  if (!q->executeStep())
    return std::nullopt;
  return stored_order{q->getColumn(0).getString(), decode_order(q->getColumn(1).getString())};
}

std::vector<order_event> order_store::events_since(const std::string& user, std::int64_t seq,
                                                   std::size_t limit) {
  auto q = db_.statement("SELECT user_id, order_id, payload, seq FROM outbox "
                            "WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?");
  q->bind(1, user);
  q->bind(2, seq);
  q->bind(3, static_cast<std::int64_t>(limit));
  std::vector<order_event> out;
  while (q->executeStep())
    // A row that does not read back as an event is skipped, not served.
    if (auto e = decode_event(q->getColumn(2).getString(), q->getColumn(0).getString(),
                              q->getColumn(1).getInt64(), q->getColumn(3).getInt64()))
      out.push_back(std::move(*e));
  return out;
}

std::vector<std::int64_t> order_store::unfinished(std::uint8_t kind) {
  // The snapshot's status field holds the status number (4 = Confirmed,
  // 5 = Cancelled); a cancelled order whose compensation is not done
  // (compensated = 0) also counts as unfinished.
  namespace key = snapshot_keys::order;
  static const std::string sql = fmt::format(
    "SELECT CAST(id AS INTEGER) FROM entities WHERE kind = ? AND "
    "(json_extract(state, '$.{0}') NOT IN (4, 5) OR "
    " (json_extract(state, '$.{0}') = 5 AND json_extract(state, '$.{1}') = 0))",
    key::status, key::compensated);
  auto q = db_.statement(sql);
  q->bind(1, kind);
  std::vector<std::int64_t> out;
  while (q->executeStep())
    out.push_back(q->getColumn(0).getInt64());
  return out;
}

std::int64_t order_store::prune_events(std::int64_t cutoff_ms, std::size_t limit) {
  write_transaction tx(db_);
  auto highest = db_.statement(
    "SELECT COALESCE(MAX(seq), 0) FROM (SELECT seq FROM outbox WHERE created_at < ? "
    "AND seq < (SELECT MAX(seq) FROM outbox) ORDER BY seq LIMIT ?)");
  highest->bind(1, cutoff_ms);
  highest->bind(2, static_cast<std::int64_t>(limit));
  highest->executeStep();
  auto through = highest->getColumn(0).getInt64();
  if (through == 0)
    return 0;
  // Rows are written in time order, so "older than the cutoff, up to
  // `through`" is a prefix of the table by seq.
  auto remove = db_.statement("DELETE FROM outbox WHERE seq <= ? AND created_at < ?");
  remove->bind(1, through);
  remove->bind(2, cutoff_ms);
  remove->exec();
  auto removed = db_.database().getChanges();
  auto mark = db_.statement(
    "INSERT INTO retention(name, value) VALUES('outbox_pruned_through', ?) "
    "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)");
  mark->bind(1, through);
  mark->exec();
  tx.commit();
  return removed;
}

std::int64_t order_store::events_pruned_through() {
  auto q = db_.statement("SELECT value FROM retention WHERE name = 'outbox_pruned_through'");
  return q->executeStep() ? q->getColumn(0).getInt64() : 0;
}

std::int64_t order_store::forget_idempotency(std::int64_t cutoff_ms, std::size_t limit) {
  auto q = db_.statement(
    "UPDATE orders SET idempotency_key = NULL, request_hash = '', response = '' "
    "WHERE id IN (SELECT id FROM orders WHERE idempotency_key IS NOT NULL AND placed_at < ? "
    "LIMIT ?)");
  q->bind(1, cutoff_ms);
  q->bind(2, static_cast<std::int64_t>(limit));
  q->exec();
  return db_.database().getChanges();
}

void order_store::reclaim(int pages) {
  db_.database().exec(fmt::format("PRAGMA incremental_vacuum({})", pages));
}

} // namespace emporium::persistence
