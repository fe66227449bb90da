// Retention in the SQLite layer: old outbox events pruned (never the
// newest, so no seq comes back) with a watermark, Idempotency-Keys
// forgotten after their time while orders stay, and the space handed back
// (disk use flat over cycles of activity and pruning).
#include "persistence/order_store.hpp"
#include "persistence/retention.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <filesystem>

using namespace emporium;
using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {

/// `count` events of user "u" for order `order`, at times from..from+count-1.
std::vector<std::int64_t> write_events(entity_store& store, std::int64_t order, millis from,
                                       int count) {
  std::vector<entity_write> batch{{3, std::to_string(order), snapshot_access::make("{}"), {}}};
  for (int i = 0; i < count; ++i)
    batch[0].events.push_back(
      {"u", order, order_status::submitted, std::string(120, 'r'), from + i, 100, 0});
  store.commit(batch);
  std::vector<std::int64_t> seqs;
  for (const auto& e : batch[0].events)
    seqs.push_back(e.seq);
  return seqs;
}

std::int64_t pragma(const std::string& path, const char* name) {
  SQLite::Database db(path);
  return db.execAndGet(std::string{"PRAGMA "} + name).getInt64();
}

} // namespace

TEST_CASE("old events are pruned, never the newest, and the watermark says up to where") {
  auto path = fresh_db_path("retention-events.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  connection db(path, durability::normal); // the writer's connection
  auto seqs = write_events(store, 1, 100, 10); // at 100..109
  CHECK(events_pruned_through(db) == 0);
  CHECK(prune_events(db, 105, 1000) == 5);  // 100..104
  CHECK(events_pruned_through(db) == seqs[4]);
  auto left = orders.events_since("u", 0, 100);
  REQUIRE(left.size() == 5);
  CHECK(left.front().seq == seqs[5]);
  // Everything old: the newest row stays, so the next seq is still new.
  CHECK(prune_events(db, 1'000'000, 1000) == 4);
  CHECK(orders.events_since("u", 0, 100).size() == 1);
  CHECK(events_pruned_through(db) == seqs[8]);
  auto next = write_events(store, 1, 200, 1);
  CHECK(next[0] > seqs.back());
  // A limit bounds one sweep; the watermark never goes back.
  write_events(store, 1, 300, 20);
  CHECK(prune_events(db, 1'000'000, 7) == 7);
  CHECK(prune_events(db, 10, 1000) == 0);
  CHECK(events_pruned_through(db) > seqs[8]);
}

namespace {
int count_progress(void* calls) {
  ++*static_cast<int*>(calls);
  return 0; // go on
}
} // namespace

TEST_CASE("a sweep with nothing due reads the oldest events, not the whole outbox") {
  auto path = fresh_db_path("retention-nothing-due.db");
  entity_store store(path, durability::normal);
  connection db(path, durability::normal); // the writer's connection
  write_events(store, 1, 1'000'000, 20'000);
  // SQLite calls the handler every 100 virtual-machine steps: a walk over
  // 20,000 rows takes thousands of calls; a seek to the oldest, a few.
  int calls = 0;
  sqlite3_progress_handler(db.database().getHandle(), 100, &count_progress, &calls);
  CHECK(prune_events(db, 500'000, 5'000) == 0); // every event is newer
  CHECK(calls < 20);
  calls = 0;
  CHECK(prune_events(db, 1'000'100, 5'000) == 100); // the oldest hundred
  CHECK(calls < 100);
  sqlite3_progress_handler(db.database().getHandle(), 0, nullptr, nullptr);
  CHECK(prune_events(db, 1'000'200, 5'000) == 100);
  CHECK(events_pruned_through(db) > 0);
}

TEST_CASE("Idempotency-Keys are forgotten after their time; the orders stay") {
  auto path = fresh_db_path("retention-keys.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  connection db(path, durability::normal); // the writer's connection
  std::vector<entity_write> batch;
  for (std::int64_t id : {1, 2}) {
    entity_write w{3, std::to_string(id), snapshot_access::make("{}"), {}};
    w.placed = order_index_row{id, "u", "key-" + std::to_string(id), "hash", "{\"orderId\":1}",
                               id == 1 ? 1'000 : 9'000};
    batch.push_back(std::move(w));
  }
  store.commit(batch);
  CHECK(forget_idempotency(db, 5'000, 100) == 1);
  CHECK_FALSE(orders.find_by_key("u", "key-1").has_value());
  REQUIRE(orders.find_by_key("u", "key-2").has_value());
  CHECK(orders.find_by_key("u", "key-2")->response == "{\"orderId\":1}");
  CHECK(orders.find(1).has_value()); // the order itself is a record
  CHECK(orders.max_order_id() == 2);
  CHECK(forget_idempotency(db, 5'000, 100) == 0);
}

TEST_CASE("disk use is flat over cycles of activity and pruning") {
  auto path = fresh_db_path("retention-flat.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  connection db(path, durability::normal); // the writer's connection
  CHECK(pragma(path, "auto_vacuum") == 2); // incremental, set on a new file
  std::vector<std::int64_t> pages;
  millis now = 1'000'000;
  for (int cycle = 0; cycle < 6; ++cycle) {
    write_events(store, 1, now, 3000);
    auto grown = pragma(path, "page_count");
    now += 3000;
    while (prune_events(db, now, 1000) > 0) {
    }
    reclaim(db, 100'000);
    pages.push_back(pragma(path, "page_count"));
    CHECK(pages.back() < grown); // space went back
    CHECK(pragma(path, "freelist_count") == 0);
  }
  // Six cycles of 3,000 events each (~0.5 MB): the file ends where the
  // first cycle left it, give or take a page or two of index.
  CHECK(pages.back() <= pages.front() + 2);
}

TEST_CASE("a client resuming from before the watermark gets a reset, not a silent gap") {
  auto path = fresh_db_path("retention-page.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  auto seqs = write_events(store, 1, 100, 6); // at 100..105
  auto page = orders.events_page("u", seqs[1], 100);
  CHECK_FALSE(page.reset);
  CHECK(page.events.size() == 4);
  // 100..102 gone
  CHECK(store.sweep({.events_before_ms = 103, .limit = 1000, .reclaim_pages = 100}).events == 3);
  page = orders.events_page("u", seqs[1], 100); // it missed seqs[2]
  CHECK(page.reset);
  CHECK(page.events.empty());
  CHECK(page.resume_from == seqs[5]);
  page = orders.events_page("u", seqs[2], 100); // saw everything pruned
  CHECK_FALSE(page.reset);
  REQUIRE(page.events.size() == 3);
  CHECK(page.events.front().seq == seqs[3]);
  // Keys are forgotten only with a cutoff; a sweep at a limit says so.
  auto swept = store.sweep({.events_before_ms = 1'000, .limit = 2, .reclaim_pages = 100});
  CHECK(swept.events == 2);
  CHECK(swept.keys == 0);
  CHECK(swept.sales == 0);
  CHECK(swept.more);
}

namespace {
/// Stock record `product`'s sale to `order`, made at `at` (0: undated).
void sell(entity_store& store, std::int64_t product, std::int64_t order, std::int64_t at) {
  std::vector<entity_write> batch{{2, std::to_string(product), snapshot_access::make("{}"), {}}};
  batch[0].sale = sale_change{order, false, at};
  store.commit(batch);
}

void set_dated_from(const std::string& path, std::int64_t at) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec("UPDATE retention SET value = " + std::to_string(at) +
          " WHERE name = 'stock_sales_dated_from'");
}
} // namespace

TEST_CASE("stock sales are deleted after their time, by a daily pass in key order") {
  auto path = fresh_db_path("retention-sales.db");
  entity_store store(path, durability::normal);
  connection db(path, durability::normal); // the writer's connection
  set_dated_from(path, 5'000);
  sell(store, 7, 1, 1'000);
  sell(store, 7, 2, 2'000);
  sell(store, 8, 3, 3'000);
  sell(store, 8, 4, 9'000);
  sell(store, 9, 5, 0); // undated: as if made at 5,000
  const std::int64_t day = 100'000;
  // A step looks at two keys: (7, 1) and (7, 2), both due.
  auto step = prune_sales(db, 2'500, 2, day);
  CHECK(step.deleted == 2);
  CHECK(step.more);
  CHECK_FALSE(store.sold(7, 1));
  CHECK_FALSE(store.sold(7, 2));
  step = prune_sales(db, 2'500, 2, day); // (8, 3) and (8, 4): not due
  CHECK(step.deleted == 0);
  CHECK(step.more);
  step = prune_sales(db, 2'500, 2, day); // (9, 5), undated: not due; the end
  CHECK(step.deleted == 0);
  CHECK_FALSE(step.more);
  // The pass is over; the next starts once the cutoff has moved a "day".
  step = prune_sales(db, 3'500, 10, day);
  CHECK(step.deleted == 0);
  CHECK_FALSE(step.more);
  CHECK(store.sold(8, 3)); // due now, but no pass yet
  step = prune_sales(db, 2'500 + day, 10, day);
  CHECK(step.deleted == 3); // (8, 3), (8, 4) and the undated one
  CHECK_FALSE(step.more);
  CHECK_FALSE(store.sold(9, 5));
}

TEST_CASE("the sweep steps the pass of stock sales and asks to be run again while it goes on") {
  auto path = fresh_db_path("retention-sales-sweep.db");
  entity_store store(path, durability::normal);
  sell(store, 1, 1, 1'000);
  sell(store, 2, 2, 1'000);
  sell(store, 3, 3, 50'000);
  retention_cutoffs cut{.sales_before_ms = 10'000, .sales_scan = 2, .reclaim_pages = 100};
  auto swept = store.sweep(cut);
  CHECK(swept.sales == 2);
  CHECK(swept.events == 0);
  CHECK(swept.more);
  swept = store.sweep(cut);
  CHECK(swept.sales == 0);
  CHECK_FALSE(swept.more); // the end of the table
  CHECK(store.sold(3, 3));
  CHECK_FALSE(store.sold(1, 1));
}

TEST_CASE("a step of the sales pass reads its share of the table, not all of it") {
  auto path = fresh_db_path("retention-sales-step.db");
  entity_store store(path, durability::normal);
  connection db(path, durability::normal);
  set_dated_from(path, 5'000);
  std::vector<entity_write> batch;
  for (std::int64_t order = 1; order <= 20'000; ++order) {
    batch.push_back({2, std::to_string(order % 50), snapshot_access::make("{}"), {}});
    batch.back().sale = sale_change{order, false, 1'000'000 + order};
  }
  store.commit(batch);
  int calls = 0;
  sqlite3_progress_handler(db.database().getHandle(), 100, &count_progress, &calls);
  auto step = prune_sales(db, 1'000, 200); // nothing is due
  CHECK(step.deleted == 0);
  CHECK(step.more);
  // SQLite calls the handler every 100 virtual-machine steps: 200 rows are
  // tens of calls, the table's 20,000 thousands.
  CHECK(calls < 200);
  calls = 0;
  step = prune_sales(db, 1'000, 200); // the next 200 from the cursor
  CHECK(calls < 200);
  sqlite3_progress_handler(db.database().getHandle(), 0, nullptr, nullptr);
  int steps = 2;
  while (prune_sales(db, 1'000, 200).more)
    ++steps;
  CHECK(steps == 100); // 20,000 rows, 200 a step
}

TEST_CASE("a file from before retention gets incremental vacuum when prepared") {
  auto path = fresh_db_path("retention-old.db");
  {
    SQLite::Database old(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    old.exec("CREATE TABLE leftover(a)");
  }
  CHECK(pragma(path, "auto_vacuum") == 0);
  prepare_database(path, durability::normal);
  CHECK(pragma(path, "auto_vacuum") == 2);
}
