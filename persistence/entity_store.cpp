// Entity snapshot reads and batched writes (see entity_store.hpp).
#include "persistence/entity_store.hpp"

#include "persistence/state_codec.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>

namespace emporium::persistence {

namespace {
/// A snapshot written in place (every unlogged write, and a fold's).
constexpr const char* upsert_entity_sql =
  "INSERT INTO entities(kind, id, state) VALUES(?, ?, ?) "
  "ON CONFLICT(kind, id) DO UPDATE SET state = excluded.state";
} // namespace

entity_store::entity_store(const std::string& path, durability level, epoch_fence fence,
                           logged_kinds logged, fold_policy policy)
  : db_(path, level, std::move(fence)), logged_(logged), policy_(policy) {
  // What a previous writer logged (it crashed, or its shard moved here) is
  // not in `unfolded_`: folded now, loads never need to search the log.
  if (logged_ != 0 && log_holds_rows())
    fold();
}

entity_store::~entity_store() = default;

bool entity_store::log_holds_rows() {
  auto q = db_.statement("SELECT EXISTS (SELECT 1 FROM entity_log)");
  return q->executeStep() && q->getColumn(0).getInt() != 0;
}

std::string entity_store::unfolded_key(std::uint8_t kind, const std::string& id) {
  std::string key(1, static_cast<char>(kind));
  key += id;
  return key;
}

snapshot entity_store::load(std::uint8_t kind, const std::string& id) {
  if (logs(kind)) {
    // The writer: every row of the log is in memory.
    if (auto it = unfolded_.find(unfolded_key(kind, id)); it != unfolded_.end())
      return snapshot_access::make(it->second);
  } else {
    // A reader beside the writer (a test, a tool): the log has no index,
    // it is scanned (at most one fold's worth of rows).
    auto logged = db_.statement(
      "SELECT state FROM entity_log WHERE kind = ? AND id = ? ORDER BY seq DESC LIMIT 1");
    logged->bind(1, kind);
    logged->bind(2, id);
    if (logged->executeStep())
      return snapshot_access::make(logged->getColumn(0).getString());
  }
  auto q = db_.statement("SELECT state FROM entities WHERE kind = ? AND id = ?");
  q->bind(1, kind);
  q->bind(2, id);
  if (q->executeStep())
    return snapshot_access::make(q->getColumn(0).getString());
  return {};
}

std::vector<std::pair<std::string, snapshot>> entity_store::load_all(std::uint8_t kind) {
  if (logs(kind) && log_rows_ != 0)
    fold();
  // A reader beside the writer: the log's latest row of an id wins.
  std::unordered_map<std::string, std::string> logged;
  if (!logs(kind)) {
    auto q = db_.statement("SELECT id, state FROM entity_log WHERE kind = ? ORDER BY seq");
    q->bind(1, kind);
    while (q->executeStep())
      logged.insert_or_assign(q->getColumn(0).getString(), q->getColumn(1).getString());
  }
  std::vector<std::pair<std::string, snapshot>> rows;
  auto q = db_.statement("SELECT id, state FROM entities WHERE kind = ?");
  q->bind(1, kind);
  while (q->executeStep()) {
    auto id = q->getColumn(0).getString();
    auto newer = logged.find(id);
    if (newer == logged.end()) {
      rows.emplace_back(std::move(id), snapshot_access::make(q->getColumn(1).getString()));
    } else {
      rows.emplace_back(std::move(id), snapshot_access::make(std::move(newer->second)));
      logged.erase(newer);
    }
  }
  for (auto& [id, state] : logged) // logged, never folded yet
    rows.emplace_back(id, snapshot_access::make(std::move(state)));
  return rows;
}

namespace {

void insert_index_row(connection& db, const order_index_row& row) {
  auto q = db.statement("INSERT INTO orders(id, user_id, idempotency_key, request_hash, "
                        "response, placed_at) VALUES(?,?,?,?,?,?)");
  q->bind(1, row.id);
  q->bind(2, row.user_id);
  if (row.idempotency_key.empty()) {
    // NULL: the unique index ignores orders without a key. Nothing can
    // replay such an order's answer, so neither it nor the request's hash
    // is kept (~190 bytes an order, as the key retention leaves a row).
    q->bind(3);
    q->bind(4, std::string{});
    q->bind(5, std::string{});
  } else {
    q->bind(3, row.idempotency_key);
    q->bind(4, row.request_hash);
    q->bind(5, row.response);
  }
  q->bind(6, row.placed_at);
  q->exec();
}

} // namespace

bool entity_store::sold(std::int64_t product, std::int64_t order) {
  auto q = db_.statement("SELECT 1 FROM stock_sales WHERE product = ? AND order_id = ?");
  q->bind(1, product);
  q->bind(2, order);
  return q->executeStep();
}

void write_snapshots(connection& db, std::vector<entity_write>& batch, logged_kinds logged) {
  auto upsert = db.statement(upsert_entity_sql);
  auto append = db.statement("INSERT INTO entity_log(kind, id, state) VALUES(?, ?, ?)");
  auto event =
    db.statement("INSERT INTO outbox(user_id, order_id, payload, created_at) VALUES(?,?,?,?)");
  for (auto& w : batch) {
    if (w.placed)
      insert_index_row(db, *w.placed);
    if (w.sale) {
      auto sale = db.statement(w.sale->given_back
                                 ? "DELETE FROM stock_sales WHERE product = CAST(? AS INTEGER) "
                                   "AND order_id = ?"
                                 : "INSERT OR IGNORE INTO stock_sales(product, order_id, sold_at) "
                                   "VALUES(CAST(? AS INTEGER), ?, ?)");
      sale->bind(1, w.id);
      sale->bind(2, w.sale->order);
      if (!w.sale->given_back)
        sale->bind(3, w.sale->at);
      sale->exec();
    }
    auto& write = (logged & log_kind(w.kind)) != 0 ? append : upsert;
    write->bind(1, w.kind);
    write->bind(2, w.id);
    write->bind(3, snapshot_access::text(w.state));
    write->exec();
    write->reset();
    for (auto& e : w.events) {
      event->bind(1, e.user);
      event->bind(2, e.order);
      event->bind(3, encode(e));
      event->bind(4, e.at);
      event->exec();
      event->reset();
      e.seq = db.last_insert_rowid();
    }
  }
}

void entity_store::commit(std::vector<entity_write>& batch,
                          std::chrono::steady_clock::time_point now) {
  if (batch.empty())
    return;
  write_transaction tx(db_);
  write_snapshots(db_, batch, logged_);
  tx.commit();
  if (logged_ == 0)
    return;
  for (const auto& w : batch)
    if (logs(w.kind)) {
      if (log_rows_++ == 0)
        oldest_unfolded_ = now;
      const auto& text = snapshot_access::text(w.state);
      auto [it, fresh] = unfolded_.try_emplace(unfolded_key(w.kind, w.id));
      unfolded_bytes_ += fresh ? it->first.size() : 0;
      unfolded_bytes_ -= it->second.size();
      it->second = text;
      unfolded_bytes_ += text.size();
    }
}

bool entity_store::fold_due(std::chrono::steady_clock::time_point now) const {
  return log_rows_ != 0 && (log_rows_ >= policy_.rows || unfolded_bytes_ >= policy_.bytes ||
                            now - oldest_unfolded_ >= policy_.after);
}

void entity_store::fold() {
  // Each id's latest snapshot, in key order: `entities` is walked once,
  // left to right. From memory when this store wrote the whole log; the
  // log itself when a previous writer left it (at open). DELETE without
  // WHERE drops the log's pages whole.
  write_transaction tx(db_);
  if (unfolded_.empty()) {
    db_.statement("INSERT INTO entities(kind, id, state) "
                  "SELECT kind, id, state FROM entity_log "
                  "WHERE seq IN (SELECT MAX(seq) FROM entity_log GROUP BY kind, id) "
                  "ORDER BY kind, id "
                  "ON CONFLICT(kind, id) DO UPDATE SET state = excluded.state")
      ->exec();
  } else {
    std::vector<const std::pair<const std::string, std::string>*> latest;
    latest.reserve(unfolded_.size());
    for (const auto& entry : unfolded_)
      latest.push_back(&entry);
    // The key is the kind byte then the id: byte order is (kind, id) order.
    std::sort(latest.begin(), latest.end(), [](auto* a, auto* b) { return a->first < b->first; });
    auto upsert = db_.statement(upsert_entity_sql);
    std::string id;
    for (const auto* entry : latest) {
      const auto& key = entry->first;
      id.assign(key, 1);
      upsert->bind(1, static_cast<std::uint8_t>(key[0]));
      upsert->bindNoCopy(2, id); // text, as every other write binds it
      upsert->bindNoCopy(3, entry->second);
      upsert->exec();
      upsert->reset();
    }
  }
  db_.statement("DELETE FROM entity_log")->exec();
  tx.commit();
  unfolded_.clear();
  log_rows_ = 0;
  unfolded_bytes_ = 0;
}

} // namespace emporium::persistence
