// The orders a start-up resumes: listed from a partial index of the orders
// in flight (schema 12), kept current by the store's ordinary writes, and
// never failed by a row that is not an order's JSON.
#include "persistence/order_store.hpp"
#include "persistence/state_codec.hpp"

#include "temp_db.hpp"
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>

using namespace emporium;
using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {

constexpr std::uint8_t order_kind = 3; // entity_kind::order

/// An order's snapshot as the saga writes it.
entity_write order_write(std::int64_t id, order_status status, bool compensated = false) {
  order_state o;
  o.id = id;
  o.user = "0123456789abcdef0123456789abcdef";
  o.status = status;
  o.compensated = compensated;
  return {order_kind, std::to_string(id), snapshot_access::make(encode(o)), {}};
}

entity_write raw_write(std::uint8_t kind, std::string id, std::string text) {
  return {kind, std::move(id), snapshot_access::make(std::move(text)), {}};
}

std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

/// Rows of the partial index (what a start-up reads).
std::int64_t index_rows(const std::string &path) {
  SQLite::Database db(path);
  return db
      .execAndGet("SELECT COUNT(*) FROM entities INDEXED BY entities_unfinished_orders "
                  "WHERE kind = 3 AND json_valid(state) AND "
                  "(json_extract(state, '$.s') NOT IN (4, 5) OR "
                  " (json_extract(state, '$.s') = 5 AND json_extract(state, '$.c') = 0))")
      .getInt64();
}

} // namespace

TEST_CASE("unfinished orders: every status before the end, and a cancel not yet undone") {
  auto path = fresh_db_path("unfinished.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  std::vector<entity_write> batch{
      order_write(1, order_status::submitted),
      order_write(2, order_status::stock_reserved),
      order_write(3, order_status::payment_authorized),
      order_write(4, order_status::confirmed),
      order_write(5, order_status::cancelled, false), // its releases still to do
      order_write(6, order_status::cancelled, true),
      // Other kinds are never orders, whatever their snapshot holds.
      raw_write(1, "7", R"({"s":1,"c":0})"),
      raw_write(2, "8", R"({"s":2})"),
  };
  store.commit(batch);
  CHECK(sorted(orders.unfinished_orders()) == std::vector<std::int64_t>{1, 2, 3, 5});
  CHECK(index_rows(path) == 4);

  // An order that ends leaves the index; one that starts joins it.
  std::vector<entity_write> next{order_write(1, order_status::confirmed),
                                 order_write(5, order_status::cancelled, true),
                                 order_write(9, order_status::submitted)};
  store.commit(next);
  CHECK(sorted(orders.unfinished_orders()) == std::vector<std::int64_t>{2, 3, 9});
  CHECK(index_rows(path) == 3);
}

TEST_CASE("unfinished orders: a row that is not an order's JSON is left out, and fails "
          "nothing") {
  auto path = fresh_db_path("unfinished-hostile.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  std::vector<entity_write> batch{
      order_write(1, order_status::submitted),
      raw_write(order_kind, "2", "not json {"), // malformed: json_extract would throw
      raw_write(order_kind, "3", "[1,2,3]"),    // JSON, no status
      raw_write(order_kind, "4", ""),           // empty
      raw_write(order_kind, "5", R"({"s":"Confirmed"})"), // a status of the wrong type
  };
  store.commit(batch); // the index's WHERE does not fail the write
  // The wrong-typed status is listed: its saga reads the row, finds it
  // does not decode, and deals with that (as it did before the index).
  CHECK(sorted(orders.unfinished_orders()) == std::vector<std::int64_t>{1, 5});
  // Rewriting a malformed row into a real order puts it in the index.
  std::vector<entity_write> fixed{order_write(2, order_status::stock_reserved)};
  store.commit(fixed);
  CHECK(sorted(orders.unfinished_orders()) == std::vector<std::int64_t>{1, 2, 5});
}

TEST_CASE("unfinished orders: a schema 11 file with orders and a malformed row gets the "
          "index") {
  auto path = fresh_db_path("unfinished-v11.db");
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> batch{order_write(1, order_status::confirmed),
                                    order_write(2, order_status::payment_authorized)};
    store.commit(batch);
  }
  {
    // Back to what schema 11 had, plus a row no index may choke on.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(emporium::testing::back_before_schema_13_sql);
    db.exec("DROP INDEX entities_unfinished_orders");
    db.exec("INSERT INTO entities VALUES (3, '3', 'garbage')");
    db.exec("PRAGMA user_version = 11");
  }
  order_store orders(path, durability::normal); // migrates
  CHECK(orders.unfinished_orders() == std::vector<std::int64_t>{2});
  SQLite::Database db(path);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == current_schema_version());
  CHECK(db.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                      "name = 'entities_unfinished_orders'")
            .getInt() == 1);
}
