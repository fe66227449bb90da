// Entity snapshot reads and batched writes (see entity_store.hpp).
#include "persistence/entity_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace emporium::persistence {

entity_store::entity_store(const std::string& path, durability level)
  : db_(open_database(path, level)) {
}

entity_store::~entity_store() = default;

std::optional<std::string> entity_store::load(std::uint8_t kind, const std::string& id) {
  SQLite::Statement q(*db_, "SELECT state FROM entities WHERE kind = ? AND id = ?");
  q.bind(1, kind);
  q.bind(2, id);
  if (q.executeStep())
    return q.getColumn(0).getString();
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> entity_store::load_all(std::uint8_t kind) {
  std::vector<std::pair<std::string, std::string>> rows;
  SQLite::Statement q(*db_, "SELECT id, state FROM entities WHERE kind = ?");
  q.bind(1, kind);
  while (q.executeStep())
    rows.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
  return rows;
}

void write_snapshots(SQLite::Database& db, std::vector<entity_write>& batch) {
  SQLite::Statement upsert(db, "INSERT INTO entities(kind, id, state) VALUES(?, ?, ?) "
                               "ON CONFLICT(kind, id) DO UPDATE SET state = excluded.state");
  SQLite::Statement event(db, "INSERT INTO outbox(user_id, order_id, payload) VALUES(?,?,?)");
  for (auto& w : batch) {
    upsert.bind(1, w.kind);
    upsert.bind(2, w.id);
    upsert.bind(3, w.state);
    upsert.exec();
    upsert.reset();
    for (auto& e : w.events) {
      event.bind(1, e.user_id);
      event.bind(2, e.order);
      event.bind(3, e.payload);
      event.exec();
      event.reset();
      e.seq = db.getLastInsertRowid();
    }
  }
}

void entity_store::commit(std::vector<entity_write>& batch) {
  if (batch.empty())
    return;
  SQLite::Transaction tx(*db_);
  write_snapshots(*db_, batch);
  tx.commit();
}

} // namespace emporium::persistence
