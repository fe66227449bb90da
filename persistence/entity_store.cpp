// Entity snapshot reads and batched writes (see entity_store.hpp).
#include "persistence/entity_store.hpp"

#include "persistence/state_codec.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

entity_store::entity_store(const std::string& path, durability level, epoch_fence fence)
  : db_(path, level, std::move(fence)) {
}

entity_store::~entity_store() = default;

snapshot entity_store::load(std::uint8_t kind, const std::string& id) {
  auto q = db_.statement("SELECT state FROM entities WHERE kind = ? AND id = ?");
  q->bind(1, kind);
  q->bind(2, id);
  if (q->executeStep())
    return snapshot_access::make(q->getColumn(0).getString());
  return {};
}

std::vector<std::pair<std::string, snapshot>> entity_store::load_all(std::uint8_t kind) {
  std::vector<std::pair<std::string, snapshot>> rows;
  auto q = db_.statement("SELECT id, state FROM entities WHERE kind = ?");
  q->bind(1, kind);
  while (q->executeStep())
    rows.emplace_back(q->getColumn(0).getString(),
                      snapshot_access::make(q->getColumn(1).getString()));
  return rows;
}

namespace {

void insert_index_row(connection& db, const order_index_row& row) {
  auto q = db.statement("INSERT INTO orders(id, user_id, idempotency_key, request_hash, "
                        "response, placed_at) VALUES(?,?,?,?,?,?)");
  q->bind(1, row.id);
  q->bind(2, row.user_id);
  if (row.idempotency_key.empty())
    q->bind(3); // NULL: the unique index ignores orders without a key
  else
    q->bind(3, row.idempotency_key);
  q->bind(4, row.request_hash);
  q->bind(5, row.response);
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

void write_snapshots(connection& db, std::vector<entity_write>& batch) {
  auto upsert = db.statement("INSERT INTO entities(kind, id, state) VALUES(?, ?, ?) "
                             "ON CONFLICT(kind, id) DO UPDATE SET state = excluded.state");
  auto event =
    db.statement("INSERT INTO outbox(user_id, order_id, payload, created_at) VALUES(?,?,?,?)");
  for (auto& w : batch) {
    if (w.placed)
      insert_index_row(db, *w.placed);
    if (w.sold_to) {
      auto sale = db.statement("INSERT OR IGNORE INTO stock_sales(product, order_id) "
                               "VALUES(CAST(? AS INTEGER), ?)");
      sale->bind(1, w.id);
      sale->bind(2, *w.sold_to);
      sale->exec();
    }
    upsert->bind(1, w.kind);
    upsert->bind(2, w.id);
    upsert->bind(3, snapshot_access::text(w.state));
    upsert->exec();
    upsert->reset();
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

void entity_store::commit(std::vector<entity_write>& batch) {
  if (batch.empty())
    return;
  write_transaction tx(db_);
  write_snapshots(db_, batch);
  tx.commit();
}

} // namespace emporium::persistence
