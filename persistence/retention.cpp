// Retention of a shard file (see retention.hpp).
#include "persistence/retention.hpp"

#include "persistence/connection.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

namespace emporium::persistence {

std::optional<std::int64_t> retention_value(connection& db, const char* name) {
  auto q = db.statement("SELECT value FROM retention WHERE name = ?");
  q->bind(1, name);
  if (!q->executeStep())
    return std::nullopt;
  return q->getColumn(0).getInt64();
}

namespace {

void set_retention_value(connection& db, const char* name, std::int64_t value) {
  auto q = db.statement("INSERT INTO retention(name, value) VALUES(?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
  q->bind(1, name);
  q->bind(2, value);
  q->exec();
}

} // namespace

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
  return retention_value(db, "outbox_pruned_through").value_or(0);
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

sales_step prune_sales(connection& db, std::int64_t cutoff_ms, std::int64_t scan,
                       std::int64_t pass_every_ms) {
  constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
  write_transaction tx(db);
  // The cursor: the last key the pass looked at; none between passes.
  auto product = retention_value(db, "stock_sales_pass_product");
  auto order = retention_value(db, "stock_sales_pass_order");
  if (!product || !order) {
    auto last_start = retention_value(db, "stock_sales_pass_cutoff").value_or(lowest);
    if (last_start > lowest && cutoff_ms - last_start < pass_every_ms) {
      tx.commit();
      return {};
    }
    set_retention_value(db, "stock_sales_pass_cutoff", cutoff_ms);
    product = order = lowest;
  }
  // No record of when dating began (a file edited by hand): undated kept.
  auto dated_from = retention_value(db, "stock_sales_dated_from");
  bool undated_due = dated_from && *dated_from < cutoff_ms;
  // Where this step ends: the scan-th key after the cursor (a walk of the
  // primary key), or the end of the table.
  std::optional<std::pair<std::int64_t, std::int64_t>> last;
  {
    auto q = db.statement("SELECT product, order_id FROM stock_sales "
                          "WHERE (product, order_id) > (?, ?) "
                          "ORDER BY product, order_id LIMIT 1 OFFSET ?");
    q->bind(1, *product);
    q->bind(2, *order);
    q->bind(3, std::max<std::int64_t>(scan, 1) - 1);
    if (q->executeStep())
      last.emplace(q->getColumn(0).getInt64(), q->getColumn(1).getInt64());
  }
  constexpr auto highest = std::numeric_limits<std::int64_t>::max();
  auto remove = db.statement(
    "DELETE FROM stock_sales WHERE (product, order_id) > (?, ?) AND (product, order_id) <= (?, ?) "
    "AND ((sold_at > 0 AND sold_at < ?) OR (sold_at = 0 AND ?))");
  remove->bind(1, *product);
  remove->bind(2, *order);
  remove->bind(3, last ? last->first : highest);
  remove->bind(4, last ? last->second : highest);
  remove->bind(5, cutoff_ms);
  remove->bind(6, undated_due ? 1 : 0);
  remove->exec();
  sales_step step{static_cast<std::int64_t>(db.database().getChanges()), last.has_value()};
  if (last) {
    set_retention_value(db, "stock_sales_pass_product", last->first);
    set_retention_value(db, "stock_sales_pass_order", last->second);
  } else {
    db.database().exec("DELETE FROM retention WHERE name IN "
                       "('stock_sales_pass_product', 'stock_sales_pass_order')");
  }
  tx.commit();
  return step;
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
  bool sales_pass_goes_on = false;
  if (cut.sales_before_ms > 0) {
    auto step = prune_sales(db, cut.sales_before_ms, cut.sales_scan);
    out.sales = step.deleted;
    sales_pass_goes_on = step.more;
  }
  out.more = out.events >= cut.limit || out.keys >= cut.limit || sales_pass_goes_on;
  out.pages = reclaim(db, cut.reclaim_pages);
  return out;
}

} // namespace emporium::persistence
