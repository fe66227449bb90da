// Database opening and schema migrations (see database.hpp).
#include "persistence/database.hpp"

#include "persistence/wal_write_buffer.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace emporium::persistence {

namespace {

// Each entry migrates version i to i + 1. Append only; never edit a shipped one.
constexpr std::array migrations = {
  // 1: entity snapshots (carts, stock records) as JSON text.
  R"sql(
    CREATE TABLE entities (
      kind  INTEGER NOT NULL,
      id    TEXT    NOT NULL,
      state TEXT    NOT NULL,
      PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
  )sql",
  // 2: accounts, refresh tokens and the catalog's write side.
  R"sql(
    CREATE TABLE users (
      id            TEXT PRIMARY KEY,
      email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash TEXT NOT NULL,
      first_name    TEXT NOT NULL DEFAULT '',
      last_name     TEXT NOT NULL DEFAULT '',
      role          TEXT NOT NULL DEFAULT 'customer',
      created_at    INTEGER NOT NULL
    );
    CREATE TABLE refresh_tokens (
      token_hash TEXT PRIMARY KEY,
      user_id    TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      revoked    INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX refresh_tokens_by_user ON refresh_tokens(user_id);
    CREATE TABLE products (
      id          INTEGER PRIMARY KEY,
      name        TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      price_cents INTEGER NOT NULL,
      category    TEXT NOT NULL DEFAULT '',
      deleted     INTEGER NOT NULL DEFAULT 0
    );
  )sql",
  // 3: orders (index, idempotency, original answers), the outbox of events
  // each order transition publishes, and the test-mode payment ledger.
  R"sql(
    CREATE TABLE orders (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id         TEXT NOT NULL,
      idempotency_key TEXT,
      request_hash    TEXT NOT NULL DEFAULT '',
      response        TEXT NOT NULL DEFAULT '',
      placed_at       INTEGER NOT NULL
    );
    CREATE INDEX orders_by_user ON orders(user_id, id);
    CREATE UNIQUE INDEX orders_by_key ON orders(user_id, idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    CREATE TABLE outbox (
      seq      INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id  TEXT NOT NULL,
      order_id INTEGER NOT NULL,
      payload  TEXT NOT NULL
    );
    CREATE INDEX outbox_by_user ON outbox(user_id, seq);
    CREATE TABLE payments (
      idempotency_key TEXT PRIMARY KEY,
      order_id        INTEGER NOT NULL,
      amount          INTEGER NOT NULL,
      payment_method  TEXT NOT NULL,
      status          TEXT NOT NULL,
      reason          TEXT NOT NULL DEFAULT '',
      payment_id      TEXT NOT NULL DEFAULT '',
      refunded        INTEGER NOT NULL DEFAULT 0
    );
  )sql",
  // 4: outbox and orders without AUTOINCREMENT. Its bookkeeping row in
  // sqlite_sequence was one more page in nearly every commit. Ids stay
  // unique and increasing: rows are never deleted, so max(rowid) + 1 never
  // reuses one, and order ids are allocated by the index anyway.
  R"sql(
    CREATE TABLE outbox_v4 (
      seq      INTEGER PRIMARY KEY,
      user_id  TEXT NOT NULL,
      order_id INTEGER NOT NULL,
      payload  TEXT NOT NULL
    );
    INSERT INTO outbox_v4 SELECT seq, user_id, order_id, payload FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v4 RENAME TO outbox;
    CREATE INDEX outbox_by_user ON outbox(user_id, seq);
    CREATE TABLE orders_v4 (
      id              INTEGER PRIMARY KEY,
      user_id         TEXT NOT NULL,
      idempotency_key TEXT,
      request_hash    TEXT NOT NULL DEFAULT '',
      response        TEXT NOT NULL DEFAULT '',
      placed_at       INTEGER NOT NULL
    );
    INSERT INTO orders_v4 SELECT id, user_id, idempotency_key, request_hash, response, placed_at
      FROM orders;
    DROP TABLE orders;
    ALTER TABLE orders_v4 RENAME TO orders;
    CREATE INDEX orders_by_user ON orders(user_id, id);
    CREATE UNIQUE INDEX orders_by_key ON orders(user_id, idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    DELETE FROM sqlite_sequence WHERE name IN ('outbox', 'orders');
  )sql",
  // 5 ("d" was the stock snapshot's settled-orders key then; see
  // snapshot_keys.def): the orders each product's stock sold to, one row per sale, so a
  // repeated commit is recognised however long ago it was made. Stock
  // snapshots kept them (up to 4096, ~55 kB rewritten on every change) and
  // now keep only the last few; the sales they held are carried over.
  R"sql(
    CREATE TABLE stock_sales (
      product  INTEGER NOT NULL,
      order_id INTEGER NOT NULL,
      PRIMARY KEY (product, order_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO stock_sales(product, order_id)
      SELECT CAST(e.id AS INTEGER), json_extract(d.value, '$[0]')
      FROM entities e, json_each(e.state, '$.d') d
      WHERE e.kind = 2 AND json_extract(d.value, '$[1]') = 1;
  )sql",
  // 6: refresh-token families (RFC 9700): a login starts one, rotation keeps
  // it, and a rotated token presented again revokes the whole family. Tokens
  // from before carry their own hash as family. Expiry is indexed for pruning.
  R"sql(
    ALTER TABLE refresh_tokens ADD COLUMN family TEXT;
    UPDATE refresh_tokens SET family = token_hash WHERE family IS NULL;
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family);
    CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
  )sql",
  // 7: retention. Outbox rows carry when they were written (older rows take
  // their event's `at`; a row that is not JSON gets 0 and goes at the first
  // sweep) so old ones can be pruned by time; `retention` keeps the highest
  // seq pruned, which tells a client resuming from before it that it missed
  // events.
  R"sql(
    ALTER TABLE outbox ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
    UPDATE outbox SET created_at = CASE WHEN json_valid(payload)
      THEN COALESCE(CAST(json_extract(payload, '$.at') AS INTEGER), 0) ELSE 0 END;
    CREATE INDEX outbox_by_time ON outbox(created_at);
    CREATE TABLE retention (
      name  TEXT PRIMARY KEY,
      value INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX orders_by_key_age ON orders(placed_at) WHERE idempotency_key IS NOT NULL;
  )sql",
  // 8: settings an installation makes once and keeps (its id, which starts
  // the idempotency keys it sends a payment provider).
  R"sql(
    CREATE TABLE settings (
      name  TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) WITHOUT ROWID;
  )sql",
  // 9: shard ownership epochs (fencing.hpp): one row per opening of a shard
  // file by a node, with the span of its writes. (emporium.db gets the
  // table too and leaves it empty: one schema for every file.)
  R"sql(
    CREATE TABLE shard_epochs (
      epoch         INTEGER PRIMARY KEY,
      node          TEXT    NOT NULL,
      pid           INTEGER NOT NULL,
      opened_ns     INTEGER NOT NULL,
      last_write_ns INTEGER NOT NULL
    );
  )sql",
  // 10: the log of snapshots a shard's store appends instead of upserting
  // (entity_store.hpp), folded into `entities` in batches.
  R"sql(
    CREATE TABLE entity_log (
      seq   INTEGER PRIMARY KEY,
      kind  INTEGER NOT NULL,
      id    TEXT    NOT NULL,
      state TEXT    NOT NULL
    );
  )sql",
  // 11: the outbox's index by user split into blocks of 1,024 seqs (see
  // outbox_block_bits in order_store.cpp). Keyed (user, seq), every event
  // went to a random leaf of the whole index (user ids are random), a page
  // written per event once the index outgrew a commit's locality (5.2 of a
  // commit's 14.7 pages at 2.8 million events). Keyed (block, user, seq),
  // events go to the newest block's few leaves, and a resume still reads
  // its user's events in seq order with one seek per block.
  R"sql(
    DROP INDEX IF EXISTS outbox_by_user;
    CREATE INDEX outbox_by_block ON outbox(seq >> 10, user_id, seq);
  )sql",
  // 12: the orders a start-up resumes, indexed (order_store::unfinished_orders
  // repeats this WHERE word for word and names the index: SQLite uses a
  // partial index only for a query whose WHERE contains the index's terms).
  // Orders stay forever, so listing them by reading every snapshot cost a
  // shard's order index ~0.3 s per 200,000 orders at every start and
  // takeover; the index holds only the orders in flight. kind 3 is
  // entity_kind::order; 's' is the status (4 Confirmed, 5 Cancelled) and
  // 'c' whether a cancellation's compensation is done. json_valid first:
  // a row that is not JSON is left out instead of failing every write (and
  // this migration) with "malformed JSON".
  R"sql(
    CREATE INDEX IF NOT EXISTS entities_unfinished_orders ON entities(kind, id)
      WHERE kind = 3 AND json_valid(state) AND
            (json_extract(state, '$.s') NOT IN (4, 5) OR
             (json_extract(state, '$.s') = 5 AND json_extract(state, '$.c') = 0));
  )sql",
  // 13: when each stock sale was made, so that retention can delete sales
  // no saga will ask about again (persistence/retention.hpp: a pass in key
  // order, no index by time, which would cost every commit). Rows from
  // before carry 0 ("undated") and count as made when this step ran,
  // recorded in `retention`; a build of schema 11 or 12 still writes its
  // sales with the column's default, so this step is additive.
  R"sql(
    ALTER TABLE stock_sales ADD COLUMN sold_at INTEGER NOT NULL DEFAULT 0;
    INSERT INTO retention(name, value)
      VALUES('stock_sales_dated_from', CAST(strftime('%s', 'now') AS INTEGER) * 1000)
      ON CONFLICT(name) DO NOTHING;
  )sql",
  // 14: when each row of the test-mode payment ledger was made, so that
  // retention can delete old ones (payment_ledger.hpp: a walk in rowid
  // order, which is the order rows are written in, so no index). As in 13,
  // rows from before, and rows a build of schema 13 writes, carry 0
  // ("undated") and count as made when this step ran.
  R"sql(
    ALTER TABLE payments ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
    INSERT INTO retention(name, value)
      VALUES('payments_dated_from', CAST(strftime('%s', 'now') AS INTEGER) * 1000)
      ON CONFLICT(name) DO NOTHING;
  )sql",
};

// The versions whose step only adds what SQLite keeps up to date by itself
// (an index), or a column whose default is right for rows an older build
// writes: a build of the version before still reads and writes such a
// file correctly. Append a version here only for such a step.
constexpr std::array additive_steps = {12, 13, 14};

/// The oldest schema whose builds may open a file at `version`: the file
/// records it (settings.oldest_reader_schema), so that a build meets a file
/// a newer build migrated (a rolling upgrade moving shards between builds)
/// and opens it when the steps it lacks are additive. Builds before schema
/// 12 do not read the record and refuse every newer file.
int oldest_reader(int version) {
  int oldest = 0;
  for (int v = 1; v <= version; ++v)
    if (std::find(additive_steps.begin(), additive_steps.end(), v) == additive_steps.end())
      oldest = v;
  return oldest;
}

/// What a newer file says about the builds that may open it (0: nothing).
int recorded_oldest_reader(SQLite::Database& db) {
  try {
    SQLite::Statement q(db, "SELECT value FROM settings WHERE name = 'oldest_reader_schema'");
    return q.executeStep() ? std::stoi(q.getColumn(0).getString()) : 0;
  } catch (const std::exception&) {
    return 0; // no settings table, or a value that is not a number: refuse
  }
}

void migrate(SQLite::Database& db, const std::string& path) {
  int version = db.execAndGet("PRAGMA user_version").getInt();
  int target = static_cast<int>(migrations.size());
  if (version > target) {
    int oldest = recorded_oldest_reader(db);
    if (oldest > 0 && oldest <= target)
      return; // what we lack is additive: open it as it is
    throw store_error(fmt::format(
      "{}: schema version {} is newer than this build understands ({}); refusing to open",
      path, version, target));
  }
  for (int v = version; v < target; ++v) {
    SQLite::Transaction tx(db);
    db.exec(migrations[static_cast<std::size_t>(v)]);
    db.exec(fmt::format("PRAGMA user_version = {}", v + 1));
    if (v + 1 >= 8) // the settings table's migration
      db.exec(fmt::format("INSERT INTO settings(name, value) VALUES('oldest_reader_schema', '{}') "
                          "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                          oldest_reader(v + 1)));
    tx.commit();
  }
}

} // namespace

void prepare_database(const std::string& path, durability level) {
  auto db = open_database(path, level);
  if (db->execAndGet("PRAGMA auto_vacuum").getInt() == 2)
    return;
  // A file from before retention: VACUUM rewrites it with the new mode.
  // It needs the file to itself; another node holding it open makes this
  // fail, and the file then keeps reusing its free pages without returning
  // them (tried again at the next start).
  try {
    db->setBusyTimeout(0); // busy: give up at once, never delay the start
    db->exec("PRAGMA auto_vacuum=INCREMENTAL");
    db->exec("VACUUM");
  } catch (const SQLite::Exception&) {
  }
}

int current_schema_version() {
  return static_cast<int>(migrations.size());
}

std::unique_ptr<SQLite::Database> open_database(const std::string& path, durability level) {
  try {
    // NOMUTEX: every connection belongs to one actor, which never runs on
    // two threads at once, so SQLite's per-call mutex is pure overhead.
    // The buffered-WAL VFS writes each commit's log frames in one call.
    auto db = std::make_unique<SQLite::Database>(
      path.c_str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, 0,
      buffered_wal_vfs());
    db->setBusyTimeout(5000);
    // The first statement reads the header: a file that is not a database
    // fails here with SQLITE_NOTADB instead of being silently replaced.
    // Space freed by retention goes back to the file system a little at a
    // time (incremental_vacuum). The mode must be chosen before the file
    // gets its first page (switching to WAL writes one); prepare_database
    // converts an older file once.
    if (db->execAndGet("SELECT COUNT(*) FROM sqlite_master").getInt() == 0)
      db->exec("PRAGMA auto_vacuum=INCREMENTAL");
    auto mode = db->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (mode != "wal")
      throw store_error(fmt::format("{}: cannot switch to WAL mode (got '{}')", path, mode));
    db->exec(level == durability::full ? "PRAGMA synchronous=FULL"
                                       : "PRAGMA synchronous=NORMAL");
    db->exec("PRAGMA foreign_keys=ON");
    migrate(*db, path);
    return db;
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error(
      fmt::format("{}: not a readable Emporium database: {}", path, e.what()));
  }
}

} // namespace emporium::persistence
