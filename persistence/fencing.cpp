// Shard ownership epochs (see fencing.hpp).
#include "persistence/fencing.hpp"

#include "domain/wall_clock.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>

namespace emporium::persistence {

shard_ownership current_ownership(const std::string& path, durability level) {
  auto db = open_database(path, level);
  SQLite::Statement q{*db, "SELECT epoch, node FROM shard_epochs ORDER BY epoch DESC LIMIT 1"};
  if (!q.executeStep())
    return {};
  return {q.getColumn(0).getInt64(), q.getColumn(1).getString()};
}

void record_epoch(SQLite::Database& db, std::int64_t epoch, const std::string& node) {
  SQLite::Statement insert{db, "INSERT INTO shard_epochs(epoch, node, pid, opened_ns, "
                               "last_write_ns) VALUES(?, ?, ?, ?, ?)"};
  auto now = wall_clock_ns();
  insert.bind(1, epoch);
  insert.bind(2, node);
  insert.bind(3, static_cast<std::int64_t>(::getpid()));
  insert.bind(4, now);
  insert.bind(5, now);
  insert.exec();
}

std::optional<std::int64_t> take_ownership(const std::string& path, const std::string& node,
                                           durability level, std::int64_t above) {
  auto db = open_database(path, level);
  db->setBusyTimeout(0);
  std::optional<SQLite::Transaction> tx;
  try {
    tx.emplace(*db, SQLite::TransactionBehavior::IMMEDIATE);
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_BUSY || e.getErrorCode() == SQLITE_LOCKED)
      return std::nullopt;
    throw;
  }
  auto epoch =
    std::max(db->execAndGet("SELECT COALESCE(MAX(epoch), 0) FROM shard_epochs").getInt64(), above) +
    1;
  record_epoch(*db, epoch, node);
  tx->commit();
  return epoch;
}

} // namespace emporium::persistence
