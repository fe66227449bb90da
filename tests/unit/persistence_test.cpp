// The SQLite layer: migrations, batched commits, refusal of corrupt files.
#include "persistence/entity_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {
/// The first column of the one row `sql` returns.
int one_int(connection& db, const char* sql) {
  auto q = db.statement(sql);
  REQUIRE(q->executeStep());
  return q->getColumn(0).getInt();
}
std::string one_text(connection& db, const char* sql) {
  auto q = db.statement(sql);
  REQUIRE(q->executeStep());
  return q->getColumn(0).getString();
}
} // namespace

/// Snapshot text as the store keeps it (these tests look inside).
snapshot raw(std::string text) { return snapshot_access::make(std::move(text)); }
std::string text_of(const snapshot& s) { return snapshot_access::text(s); }

TEST_CASE("a batch commits atomically and survives reopening") {
  auto path = fresh_db_path("batch.db");
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> first{{1, "alice", raw("{\"a\":1}"), {}},
                                    {1, "bob", raw("{\"b\":2}"), {}},
                                    {2, "7", raw("{}"), {}}};
    store.commit(first);
    std::vector<entity_write> second{{1, "alice", raw("{\"a\":3}"), {}}};
    store.commit(second);
  }
  entity_store again(path, durability::full);
  CHECK(text_of(again.load(1, "alice")) == "{\"a\":3}");
  CHECK(text_of(again.load(1, "bob")) == "{\"b\":2}");
  CHECK(again.load(2, "alice").empty());
  CHECK(again.load_all(1).size() == 2);
}

TEST_CASE("a corrupt file is refused with a clear error, never reset") {
  auto path = fresh_db_path("corrupt.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i)
      out << "this is not a database file ";
  }
  auto size_before = std::filesystem::file_size(path);
  CHECK_THROWS_WITH_AS(open_database(path, durability::normal),
                       doctest::Contains("not a readable Emporium database"), store_error);
  CHECK(std::filesystem::file_size(path) == size_before);
}

TEST_CASE("a database from a newer schema is refused; a current one reopens") {
  auto path = fresh_db_path("newer.db");
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> batch{{1, "x", raw("{}"), {}}};
    store.commit(batch);
  }
  {
    entity_store store(path, durability::normal); // migrations do not run twice
    CHECK(text_of(store.load(1, "x")) == "{}");
  }
  {
    auto db = open_database(path, durability::normal);
    CHECK(db->execAndGet("PRAGMA user_version").getInt() == current_schema_version());
    // This build's own steps: the oldest build that may open the file is
    // the one before the last step when that step was additive (12: an index).
    CHECK(db->execAndGet("SELECT value FROM settings WHERE name = 'oldest_reader_schema'")
            .getString() == "11");
    // A file from a build two steps ahead, the last of which was not additive.
    db->exec("PRAGMA user_version = 99");
    db->exec("UPDATE settings SET value = '99' WHERE name = 'oldest_reader_schema'");
  }
  CHECK_THROWS_WITH_AS(open_database(path, durability::normal), doctest::Contains("newer"),
                       store_error);
}

TEST_CASE("a newer file whose steps beyond ours are additive opens as it is") {
  auto path = fresh_db_path("newer-additive.db");
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> batch{{1, "x", raw("{\"a\":1}"), {}}};
    store.commit(batch);
  }
  auto newer = current_schema_version() + 1;
  auto set_oldest = [&](const std::string& value) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(fmt::format("PRAGMA user_version = {}", newer));
    db.exec("DELETE FROM settings WHERE name = 'oldest_reader_schema'");
    if (!value.empty())
      db.exec(fmt::format("INSERT INTO settings(name, value) VALUES('oldest_reader_schema', '{}')",
                          value));
  };
  // A build one step ahead whose step was an index: we may read and write.
  set_oldest(std::to_string(current_schema_version()));
  {
    entity_store store(path, durability::normal);
    CHECK(text_of(store.load(1, "x")) == "{\"a\":1}");
    std::vector<entity_write> batch{{1, "y", raw("{}"), {}}};
    store.commit(batch);
  }
  {
    auto db = open_database(path, durability::normal);
    CHECK(db->execAndGet("PRAGMA user_version").getInt() == newer); // not touched
  }
  // Its step was not additive, or the file says nothing, or nonsense: refused.
  for (const auto& value : {std::to_string(newer), std::string{}, std::string{"eleven"}}) {
    set_oldest(value);
    CHECK_THROWS_WITH_AS(open_database(path, durability::normal), doctest::Contains("newer"),
                         store_error);
  }
}

TEST_CASE("a version 3 file keeps its orders and events when the outbox loses AUTOINCREMENT") {
  auto path = fresh_db_path("v3.db");
  {
    // The version 3 tables, as such a file holds them.
    SQLite::Database old(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    old.exec("PRAGMA journal_mode=WAL");
    old.exec(R"sql(
      CREATE TABLE entities (kind INTEGER NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL,
                             PRIMARY KEY (kind, id)) WITHOUT ROWID;
      CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL, first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '', role TEXT NOT NULL DEFAULT 'customer',
        created_at INTEGER NOT NULL);
      CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '', price_cents INTEGER NOT NULL,
        category TEXT NOT NULL DEFAULT '', deleted INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL,
        idempotency_key TEXT, request_hash TEXT NOT NULL DEFAULT '',
        response TEXT NOT NULL DEFAULT '', placed_at INTEGER NOT NULL);
      CREATE UNIQUE INDEX orders_by_key ON orders(user_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
      CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL,
        order_id INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE payments (idempotency_key TEXT PRIMARY KEY, order_id INTEGER NOT NULL,
        amount INTEGER NOT NULL, payment_method TEXT NOT NULL, status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '', payment_id TEXT NOT NULL DEFAULT '',
        refunded INTEGER NOT NULL DEFAULT 0);
      INSERT INTO orders(id, user_id, idempotency_key, response, placed_at)
        VALUES (7, 'u1', 'key-1', '{"orderId":7}', 1);
      INSERT INTO outbox(seq, user_id, order_id, payload) VALUES (41, 'u1', 7, '{}');
      INSERT INTO entities VALUES (3, '7', '{}');
      PRAGMA user_version = 3;
    )sql");
  }
  emporium::order_event placed{"u1", 7, emporium::order_status::stock_reserved, "", 5, 1000, 0};
  std::vector<entity_write> next{{3, "7", raw("{\"s\":2}"), {placed}}};
  entity_store(path, durability::normal).commit(next);
  CHECK(next[0].events[0].seq == 42); // continues after the kept event
  connection db(path, durability::normal);
  CHECK(one_int(db, "PRAGMA user_version") == current_schema_version());
  CHECK(one_text(db, "SELECT response FROM orders WHERE user_id = 'u1' AND "
                     "idempotency_key = 'key-1'") == "{\"orderId\":7}");
  CHECK(one_int(db, "SELECT COUNT(*) FROM sqlite_sequence") == 0);
  // Migration 7: the old row's payload has no `at` (written at 0, pruned
  // first); the new row carries its event's time.
  CHECK(one_int(db, "SELECT created_at FROM outbox WHERE seq = 41") == 0);
  CHECK(one_int(db, "SELECT created_at FROM outbox WHERE seq = 42") == 5);
}

TEST_CASE("statements are prepared once per connection and reset after each use") {
  auto path = fresh_db_path("cache.db");
  connection db(path, durability::normal);
  for (int i = 0; i < 3; ++i) {
    auto q = db.statement("SELECT ? + 1");
    q->bind(1, i);
    REQUIRE(q->executeStep());
    CHECK(q->getColumn(0).getInt() == i + 1);
  }
  // The lease reset the statement: a write transaction can start and see
  // no read snapshot held open by the SELECT above.
  write_transaction tx(db);
  db.statement("CREATE TABLE t(x)")->exec();
  tx.commit();
  {
    write_transaction abandoned(db);
    db.statement("INSERT INTO t VALUES(1)")->exec();
  } // rolled back
  CHECK(one_int(db, "SELECT COUNT(*) FROM t") == 0);
}

TEST_CASE("the WAL is checkpointed off the writer's path") {
  auto path = fresh_db_path("checkpoint.db");
  entity_store store(path, durability::normal);
  std::vector<entity_write> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back({1, "user" + std::to_string(i), raw(std::string(2000, 'x')), {}});
  store.commit(batch);
  // The writer's own threshold is far above this batch: the file's
  // background checkpointer (one per file, shared) copies it, on its tick or
  // on this explicit pass, whichever comes first.
  auto background = checkpointer::for_file(path, durability::normal);
  background->run_once();
  CHECK(background->frames_checkpointed() >= 100); // 200 rows of 2 kB
  // SQLite's own checkpoint inside a commit is off: the WAL hook took its
  // place (the next test).
  connection writer(path, durability::normal);
  CHECK(one_int(writer, "PRAGMA wal_autocheckpoint") == 0);
}

TEST_CASE("a pass asked for runs before the checkpointer's tick") {
  auto path = fresh_db_path("soon.db");
  { connection create(path, durability::normal); }
  checkpointer slow(path, durability::normal, std::chrono::hours(1));
  CHECK(slow.passes() == 0);
  slow.run_soon();
  // Its own thread runs the pass: wait for it, at most 10 s (the tick is an
  // hour away, so only the ask can have started it).
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (slow.passes() == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(slow.passes() == 1);
}

TEST_CASE("a writer that never pauses still has its WAL start over") {
  auto path = fresh_db_path("restart.db");
  connection writer(path, durability::normal);
  {
    write_transaction tx(writer);
    writer.statement("CREATE TABLE t(x BLOB)")->exec();
    tx.commit();
  }
  // Six times the restart length, back to back, a page per row and 16 rows
  // per commit, while the file's checkpointer runs its passes beside. A
  // pass is always behind the latest commit: without the writer's part the
  // log grew to SQLite's fallback (16,384 pages, 64 MiB) before it started
  // over (60 MiB here before 2026-12-04).
  constexpr int rows_per_commit = 16;
  const int commits = 6 * wal_restart_pages / rows_per_commit;
  for (int i = 0; i < commits; ++i) {
    write_transaction tx(writer);
    for (int r = 0; r < rows_per_commit; ++r)
      writer.statement("INSERT INTO t VALUES(randomblob(3000))")->exec();
    tx.commit();
  }
  CHECK(one_int(writer, "SELECT COUNT(*) FROM t") == commits * rows_per_commit);
  // The file keeps the longest length the log reached (nothing truncates
  // it). Seen: 11 MiB, 13.6 MiB beside a busy loop (the writer appends
  // while the asked-for pass runs). The bound leaves room for a slower
  // sanitizer build on a loaded machine and is still a third of the 12,288
  // pages the log held without the writer's part.
  auto longest = std::filesystem::file_size(path + "-wal");
  CHECK(longest <= 4 * wal_restart_pages * (4096 + 24));
  CHECK(longest >= wal_restart_pages * 4096 / 2); // it did grow towards the length
}

TEST_CASE("sales are on file one row each; version 4 stock snapshots carry theirs over") {
  auto path = fresh_db_path("sales.db");
  {
    SQLite::Database old(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    old.exec("PRAGMA journal_mode=WAL");
  }
  {
    // A version 4 file: migrate to 4, then write a stock snapshot whose
    // settled list ("d") holds a commit (1) of order 11 and a release (2).
    auto db = open_database(path, durability::normal);
    // Back to what version 4 had: no sales table, no token families, no
    // retention columns.
    db->exec("ALTER TABLE payments DROP COLUMN created_at; "
             "DROP TABLE stock_sales; DROP INDEX refresh_tokens_by_family; "
             "DROP INDEX refresh_tokens_by_expiry; ALTER TABLE refresh_tokens DROP COLUMN family; "
             "DROP INDEX outbox_by_time; ALTER TABLE outbox DROP COLUMN created_at; "
             "DROP TABLE retention; DROP INDEX orders_by_key_age; DROP TABLE settings; "
             "DROP TABLE shard_epochs; DROP TABLE entity_log; DROP INDEX outbox_by_block; "
             "CREATE INDEX outbox_by_user ON outbox(user_id, seq); PRAGMA user_version = 4");
    db->exec(R"(INSERT INTO entities VALUES (2, '5', '{"v":1,"h":3,"s":1,"r":[],"d":[[11,1],[12,2]]}'))");
  }
  entity_store store(path, durability::normal); // migrates 4 -> 5
  CHECK(store.sold(5, 11));
  CHECK_FALSE(store.sold(5, 12)); // released, not sold
  std::vector<entity_write> batch{{2, "5", raw("{}"), {}}};
  batch[0].sale = sale_change{13};
  store.commit(batch);
  CHECK(store.sold(5, 13));
  CHECK_FALSE(store.sold(6, 13));
  // Given back by its order's cancel: no longer a sale; the others stay.
  batch[0].sale = sale_change{13, true};
  store.commit(batch);
  CHECK_FALSE(store.sold(5, 13));
  CHECK(store.sold(5, 11));
}

TEST_CASE("a schema 12 file's sales stay, undated, and age from the step that dates them") {
  auto path = fresh_db_path("sales-undated.db");
  {
    // Back to schema 12: stock sales without their time.
    auto db = open_database(path, durability::normal);
    db->exec(emporium::testing::back_before_schema_13_sql);
    db->exec("INSERT INTO stock_sales(product, order_id) VALUES (5, 11); PRAGMA user_version = 12");
  }
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  entity_store store(path, durability::normal); // migrates 12 -> 13
  CHECK(store.sold(5, 11));
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  CHECK(db.execAndGet("SELECT sold_at FROM stock_sales WHERE order_id = 11").getInt64() == 0);
  auto from = db.execAndGet("SELECT value FROM retention WHERE name = 'stock_sales_dated_from'")
                .getInt64();
  CHECK(from >= before / 1000 * 1000); // whole seconds
  CHECK(from <= before + 60'000);
  // The step is additive: a schema 12 build may still open the file...
  CHECK(db.execAndGet("SELECT value FROM settings WHERE name = 'oldest_reader_schema'")
          .getString() == "11");
  // ...and its sales, written without the column, are undated too.
  db.exec("INSERT INTO stock_sales(product, order_id) VALUES (5, 12)");
  CHECK(store.sold(5, 12));
  CHECK(db.execAndGet("SELECT sold_at FROM stock_sales WHERE order_id = 12").getInt64() == 0);
  // This build dates its own.
  std::vector<entity_write> batch{{2, "5", raw("{}"), {}}};
  batch[0].sale = sale_change{13, false, 123'456};
  store.commit(batch);
  CHECK(db.execAndGet("SELECT sold_at FROM stock_sales WHERE order_id = 13").getInt64() ==
        123'456);
}

#include "persistence/account_store.hpp"

TEST_CASE("a rotated refresh token presented again revokes its whole family") {
  auto path = fresh_db_path("families.db");
  account_store store{path, durability::normal};
  const std::int64_t now = 1'000'000, later = now + 86'400'000;
  store.insert_refresh("A", "u1", later);
  store.insert_refresh("X", "u1", later); // another login (device): its own family
  CHECK(store.rotate_refresh("A", "B", later, now) == "u1");
  CHECK(store.rotate_refresh("B", "C", later, now) == "u1");
  // A thief replays A (or the owner does after the thief rotated): refused,
  // and the family's newest token C stops working too.
  CHECK_FALSE(store.rotate_refresh("A", "D", later, now));
  CHECK_FALSE(store.rotate_refresh("C", "E", later, now));
  CHECK_FALSE(store.rotate_refresh("D", "F", later, now)); // D was never stored
  // The other login's family is untouched.
  CHECK(store.rotate_refresh("X", "Y", later, now) == "u1");
  // Unknown and expired tokens are refused and revoke nothing.
  CHECK_FALSE(store.rotate_refresh("nope", "Z", later, now));
  store.insert_refresh("old", "u2", now - 1);
  CHECK_FALSE(store.rotate_refresh("old", "new", later, now));
  CHECK(store.prune_refresh(now) == 1); // the expired one
  CHECK(store.prune_refresh(later + 1) == 5); // A, B, C, X, Y: all expired by then
}

TEST_CASE("a token stored or rotated by a request delivered twice answers as the first time") {
  // A router resends these when the node it sent them to died before
  // answering, so the first delivery may have been carried out.
  auto path = fresh_db_path("families-resent.db");
  account_store store{path, durability::normal};
  const std::int64_t now = 1'000'000, later = now + 86'400'000;
  store.insert_refresh("A", "u1", later);
  CHECK_NOTHROW(store.insert_refresh("A", "u1", later)); // stored once
  CHECK(store.rotate_refresh("A", "B", later, now) == "u1");
  CHECK(store.rotate_refresh("A", "B", later, now) == "u1"); // the same rotation again
  CHECK(store.rotate_refresh("B", "C", later, now) == "u1"); // B stayed live
  // Presenting A with another new token is still a replay: the family ends.
  CHECK_FALSE(store.rotate_refresh("A", "D", later, now));
  CHECK_FALSE(store.rotate_refresh("C", "E", later, now));
  // And once the family has ended, the first rotation's resend is refused too.
  CHECK_FALSE(store.rotate_refresh("A", "B", later, now));
  CHECK(store.prune_refresh(later + 1) == 3); // A, B, C
}
