// Order index and order reads (see order_store.hpp).
#include "persistence/order_store.hpp"
#include "persistence/retention.hpp"

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
                                                   std::size_t limit, std::int64_t* last_read) {
  // The user's orders (orders_by_user), then each order's events after
  // `seq` (outbox_by_order): one index seek per order the user has in this
  // file, and an event is an append to both indexes when it is written.
  // user_id is checked again on the event row: an order's events are its
  // user's. The index is named so the plan cannot turn into a scan of
  // every event after `seq` (rowid order matches ORDER BY seq).
  auto q = db_.statement("SELECT user_id, order_id, payload, seq FROM outbox "
                         "INDEXED BY outbox_by_order "
                         "WHERE order_id IN (SELECT id FROM orders WHERE user_id = ?1) "
                         "AND seq > ?2 AND user_id = ?1 ORDER BY seq LIMIT ?3");
  q->bind(1, user);
  q->bind(2, seq);
  q->bind(3, static_cast<std::int64_t>(limit));
  std::vector<order_event> out;
  std::size_t rows = 0;
  while (q->executeStep()) {
    ++rows;
    if (last_read)
      *last_read = q->getColumn(3).getInt64();
    // A row that does not read back as an event is skipped, not served.
    if (auto e = decode_event(q->getColumn(2).getString(), q->getColumn(0).getString(),
                              q->getColumn(1).getInt64(), q->getColumn(3).getInt64()))
      out.push_back(std::move(*e));
  }
  if (last_read && rows < limit)
    *last_read = 0; // every row there was
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

event_page order_store::events_page(const std::string& user, std::int64_t seq,
                                    std::size_t limit) {
  event_page page;
  page.events = events_since(user, seq, limit, &page.more_after);
  // The watermark is read after the events and only ever rises: if the
  // read above missed rows, the prune that deleted them had committed, and
  // this read sees its mark.
  if (seq < events_pruned_through(db_)) {
    page.reset = true;
    page.events.clear();
    page.more_after = 0;
    auto newest = db_.statement("SELECT COALESCE(MAX(seq), 0) FROM outbox");
    newest->executeStep();
    page.resume_from = newest->getColumn(0).getInt64();
  }
  return page;
}

} // namespace emporium::persistence
