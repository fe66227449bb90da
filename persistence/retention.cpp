// Retention of a shard file (see retention.hpp).
#include "persistence/retention.hpp"

#include "persistence/connection.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <fmt/format.h>

namespace emporium::persistence {

std::int64_t prune_events(connection& db, std::int64_t cutoff_ms, std::int64_t limit) {
  write_transaction tx(db);
  // In time order, so that SQLite walks outbox_by_time from the oldest row
  // and stops at the cutoff or the limit. Ordered by seq it walked the
  // table itself, and with nothing due it read every row of the outbox (30
  // days of events) at each sweep while holding the shard's only writer:
  // 0.11 s for 734,000 events alone, and most of a start's first seconds
  // when every shard swept at once (docs/benchmarks.md).
  auto highest = db.statement(
    "SELECT COALESCE(MAX(seq), 0) FROM (SELECT seq FROM outbox WHERE created_at < ? "
    "AND seq < (SELECT MAX(seq) FROM outbox) ORDER BY created_at LIMIT ?)");
  highest->bind(1, cutoff_ms);
  highest->bind(2, limit);
  highest->executeStep();
  auto through = highest->getColumn(0).getInt64();
  highest->reset();
  if (through == 0)
    return 0;
  // Rows are written in time order, so "older than the cutoff, up to
  // `through`" is a prefix of the table by seq (nodes' clocks may disagree
  // a little: a newer row below `through` stays, and the watermark tells a
  // client resuming below it to reload, as for any pruned event).
  auto remove = db.statement("DELETE FROM outbox WHERE seq <= ? AND created_at < ?");
  remove->bind(1, through);
  remove->bind(2, cutoff_ms);
  remove->exec();
  auto removed = db.database().getChanges();
  auto mark = db.statement(
    "INSERT INTO retention(name, value) VALUES('outbox_pruned_through', ?) "
    "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)");
  mark->bind(1, through);
  mark->exec();
  tx.commit();
  return removed;
}

std::int64_t events_pruned_through(connection& db) {
  auto q = db.statement("SELECT value FROM retention WHERE name = 'outbox_pruned_through'");
  return q->executeStep() ? q->getColumn(0).getInt64() : 0;
}

std::int64_t forget_idempotency(connection& db, std::int64_t cutoff_ms, std::int64_t limit) {
  write_transaction tx(db); // fenced like every write to a shard file
  auto q = db.statement(
    "UPDATE orders SET idempotency_key = NULL, request_hash = '', response = '' "
    "WHERE id IN (SELECT id FROM orders WHERE idempotency_key IS NOT NULL AND placed_at < ? "
    "LIMIT ?)");
  q->bind(1, cutoff_ms);
  q->bind(2, limit);
  q->exec();
  auto forgotten = db.database().getChanges();
  tx.commit();
  return forgotten;
}

std::int64_t prune_sales(connection& db, std::int64_t cutoff_ms, std::int64_t limit) {
  write_transaction tx(db);
  // Oldest first through stock_sales_by_age, which holds the key: a sweep
  // with nothing due reads one leaf.
  auto dated = db.statement(
    "DELETE FROM stock_sales WHERE (product, order_id) IN (SELECT product, order_id "
    "FROM stock_sales WHERE sold_at > 0 AND sold_at < ? ORDER BY sold_at LIMIT ?)");
  dated->bind(1, cutoff_ms);
  dated->bind(2, limit);
  dated->exec();
  auto removed = static_cast<std::int64_t>(db.database().getChanges());
  bool undated_due = false;
  {
    auto from = db.statement("SELECT value FROM retention WHERE name = 'stock_sales_dated_from'");
    // No record (a file edited by hand): undated sales are kept.
    undated_due = from->executeStep() && from->getColumn(0).getInt64() < cutoff_ms;
  }
  if (undated_due && removed < limit) {
    auto undated = db.statement(
      "DELETE FROM stock_sales WHERE (product, order_id) IN (SELECT product, order_id "
      "FROM stock_sales WHERE sold_at = 0 LIMIT ?)");
    undated->bind(1, limit - removed);
    undated->exec();
    removed += db.database().getChanges();
  }
  tx.commit();
  return removed;
}

std::int64_t reclaim(connection& db, std::int64_t pages) {
  auto free_pages = [&] { return db.database().execAndGet("PRAGMA freelist_count").getInt64(); };
  auto before = free_pages();
  if (before == 0)
    return 0;
  db.database().exec(fmt::format("PRAGMA incremental_vacuum({})", pages));
  return before - free_pages();
}

retention_swept sweep(connection& db, const retention_cutoffs& cut) {
  retention_swept out;
  if (cut.events_before_ms > 0)
    out.events = prune_events(db, cut.events_before_ms, cut.limit);
  if (cut.keys_before_ms > 0)
    out.keys = forget_idempotency(db, cut.keys_before_ms, cut.limit);
  if (cut.sales_before_ms > 0)
    out.sales = prune_sales(db, cut.sales_before_ms, cut.limit);
  out.more = out.events >= cut.limit || out.keys >= cut.limit || out.sales >= cut.limit;
  out.pages = reclaim(db, cut.reclaim_pages);
  return out;
}

} // namespace emporium::persistence
