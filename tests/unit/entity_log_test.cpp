// The cart log (entity_store.hpp): logged snapshots are appended, answered
// from memory by their writer, folded into `entities` in key order, found
// by readers beside the writer, and folded at open after a crash.
#include "persistence/entity_store.hpp"
#include "persistence/fencing.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <algorithm>
#include <map>

using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {

constexpr std::uint8_t cart = 1;
constexpr std::uint8_t stock = 2;

std::vector<entity_write> writes(std::initializer_list<std::pair<std::string, std::string>> rows,
                                 std::uint8_t kind = cart) {
  std::vector<entity_write> out;
  for (const auto& [id, state] : rows)
    out.push_back({kind, id, snapshot_access::make(state), {}});
  return out;
}

std::string text(const snapshot& s) { return snapshot_access::text(s); }

/// Rows of a table as SQL sees them, through a connection of its own.
long long count(const std::string& path, const std::string& sql) {
  SQLite::Database db{path};
  return db.execAndGet(sql).getInt64();
}

/// `entities` as SQL sees it, for one kind: id -> state.
std::map<std::string, std::string> table(const std::string& path, std::uint8_t kind) {
  SQLite::Database db{path};
  SQLite::Statement q{db, "SELECT id, state FROM entities WHERE kind = ?"};
  q.bind(1, kind);
  std::map<std::string, std::string> out;
  while (q.executeStep())
    out[q.getColumn(0).getString()] = q.getColumn(1).getString();
  return out;
}

} // namespace

TEST_CASE("a logged kind is appended, answered from memory, and folded in key order") {
  auto path = fresh_db_path("log.db");
  entity_store store(path, durability::normal, {}, log_kind(cart), {1000, 1 << 20, std::chrono::hours(1)});
  auto first = writes({{"bob", "{\"b\":1}"}, {"alice", "{\"a\":1}"}});
  store.commit(first);
  auto second = writes({{"bob", "{\"b\":2}"}});
  store.commit(second);
  auto other = writes({{"7", "{\"s\":1}"}}, stock); // not logged: upserted at once
  store.commit(other);

  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 3);
  CHECK(store.unfolded_rows() == 3);
  CHECK(table(path, cart).empty());
  CHECK(table(path, stock) == std::map<std::string, std::string>{{"7", "{\"s\":1}"}});
  CHECK(text(store.load(cart, "bob")) == "{\"b\":2}");
  CHECK(text(store.load(cart, "alice")) == "{\"a\":1}");
  CHECK(store.load(cart, "carol").empty());
  CHECK(store.load(stock, "bob").empty()); // the kind is part of the key

  // A reader beside the writer finds the latest row in the log.
  entity_store reader(path, durability::normal);
  CHECK(text(reader.load(cart, "bob")) == "{\"b\":2}");
  auto all = reader.load_all(cart);
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
  REQUIRE(all.size() == 2);
  CHECK(all[0].first == "alice");
  CHECK(text(all[1].second) == "{\"b\":2}");

  store.fold();
  CHECK(store.unfolded_rows() == 0);
  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 0);
  CHECK(table(path, cart) ==
        std::map<std::string, std::string>{{"alice", "{\"a\":1}"}, {"bob", "{\"b\":2}"}});
  CHECK(text(store.load(cart, "bob")) == "{\"b\":2}"); // now from the table
  CHECK(text(reader.load(cart, "bob")) == "{\"b\":2}");

  // After a fold, a newer row is logged over the folded one.
  auto third = writes({{"alice", "{\"a\":2}"}});
  store.commit(third);
  CHECK(text(store.load(cart, "alice")) == "{\"a\":2}");
  CHECK(text(reader.load(cart, "alice")) == "{\"a\":2}");
  CHECK(table(path, cart).at("alice") == "{\"a\":1}");
}

TEST_CASE("a fold is due at the policy's rows, or its age") {
  auto path = fresh_db_path("due.db");
  using std::chrono::milliseconds;
  entity_store store(path, durability::normal, {}, log_kind(cart), {3, 1 << 20, milliseconds(500)});
  auto now = std::chrono::steady_clock::now();
  CHECK_FALSE(store.fold_due(now + std::chrono::hours(1))); // nothing logged
  auto two = writes({{"a", "{}"}, {"b", "{}"}});
  store.commit(two);
  auto logged_at = std::chrono::steady_clock::now();
  CHECK_FALSE(store.fold_due(logged_at));
  CHECK(store.fold_due(logged_at + milliseconds(600)));
  auto again = writes({{"a", "{\"x\":1}"}}); // the same id again still counts a row
  store.commit(again);
  CHECK(store.unfolded_rows() == 3);
  CHECK(store.fold_due(logged_at));
  store.fold();
  CHECK_FALSE(store.fold_due(logged_at + std::chrono::hours(1)));
}

TEST_CASE("a fold is due at the policy's bytes of distinct snapshots") {
  auto path = fresh_db_path("due-bytes.db");
  // 100 bytes: ids and texts of the distinct snapshots not yet folded.
  entity_store store(path, durability::normal, {}, log_kind(cart),
                     {1000, 100, std::chrono::hours(1)});
  auto now = std::chrono::steady_clock::now();
  auto first = writes({{"abc", std::string(80, 'x')}}); // 1 + 3 + 80 = 84
  store.commit(first);
  CHECK_FALSE(store.fold_due(now));
  for (int i = 0; i < 5; ++i) { // the same id again replaces its bytes
    auto again = writes({{"abc", std::string(90, 'y')}}); // 94
    store.commit(again);
  }
  CHECK_FALSE(store.fold_due(now));
  auto shorter = writes({{"abc", std::string(10, 'z')}}); // 14
  store.commit(shorter);
  auto other = writes({{"de", std::string(83, 'w')}}); // 14 + 86 = 100
  store.commit(other);
  CHECK(store.fold_due(now));
  store.fold();
  CHECK_FALSE(store.fold_due(now));
  auto after = writes({{"de", std::string(90, 'v')}}); // counted afresh: 93
  store.commit(after);
  CHECK_FALSE(store.fold_due(now));
}

TEST_CASE("what a crashed writer logged is folded when the next one opens the file") {
  auto path = fresh_db_path("crash.db");
  {
    entity_store writer(path, durability::normal, {}, log_kind(cart));
    for (int i = 0; i < 5; ++i) {
      auto batch = writes({{"alice", "{\"a\":" + std::to_string(i) + "}"},
                           {"bob", "{\"b\":" + std::to_string(i) + "}"}});
      writer.commit(batch);
    }
    writer.fold();
    auto after = writes({{"bob", "{\"b\":9}"}, {"carol", "{\"c\":1}"}, {"bob", "{\"b\":10}"}});
    writer.commit(after);
    // No fold: the writer stops as a killed process would.
  }
  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 3);
  entity_store next(path, durability::normal, {}, log_kind(cart));
  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 0);
  CHECK(next.unfolded_rows() == 0);
  CHECK(table(path, cart) == std::map<std::string, std::string>{
                               {"alice", "{\"a\":4}"}, {"bob", "{\"b\":10}"}, {"carol", "{\"c\":1}"}});
  CHECK(text(next.load(cart, "bob")) == "{\"b\":10}");
}

TEST_CASE("a failed commit leaves nothing logged, in the file or in memory") {
  auto path = fresh_db_path("failed.db");
  entity_store store(path, durability::normal, {}, log_kind(cart));
  auto good = writes({{"alice", "{\"a\":1}"}});
  store.commit(good);
  {
    // A trigger makes the next log insert fail inside the transaction.
    SQLite::Database db{path, SQLite::OPEN_READWRITE};
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON entity_log WHEN NEW.id = 'bad' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END");
  }
  auto mixed = writes({{"alice", "{\"a\":2}"}, {"bad", "{}"}});
  CHECK_THROWS(store.commit(mixed));
  CHECK(store.unfolded_rows() == 1);
  CHECK(text(store.load(cart, "alice")) == "{\"a\":1}");
  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 1);
  store.fold();
  CHECK(table(path, cart) == std::map<std::string, std::string>{{"alice", "{\"a\":1}"}});
}

TEST_CASE("a fenced writer cannot fold, and the log stays for the new owner") {
  auto path = fresh_db_path("fenced-log.db");
  auto epoch = take_ownership(path, "n1", durability::normal);
  REQUIRE(epoch);
  auto fence = std::make_shared<std::atomic<std::int64_t>>(*epoch);
  entity_store old_owner(path, durability::normal, fence, log_kind(cart));
  auto w = writes({{"alice", "{\"a\":1}"}});
  old_owner.commit(w);
  REQUIRE(take_ownership(path, "n2", durability::normal));
  CHECK_THROWS_AS(old_owner.fold(), fenced_error);
  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 1);
  entity_store new_owner(path, durability::normal, {}, log_kind(cart));
  CHECK(table(path, cart) == std::map<std::string, std::string>{{"alice", "{\"a\":1}"}});
  CHECK(text(new_owner.load(cart, "alice")) == "{\"a\":1}");
}

TEST_CASE("ids that share a prefix or hold odd bytes fold to their own rows") {
  auto path = fresh_db_path("odd-ids.db");
  entity_store store(path, durability::normal, {}, log_kind(cart) | log_kind(stock));
  std::string zero("a\0b", 3);
  auto batch = writes({{"a", "{\"1\":1}"}, {"ab", "{\"2\":2}"}, {zero, "{\"3\":3}"},
                       {"\xff\xfe", "{\"4\":4}"}});
  auto stocks = writes({{"a", "{\"s\":1}"}}, stock);
  store.commit(batch);
  store.commit(stocks);
  store.fold();
  entity_store reader(path, durability::normal);
  CHECK(text(reader.load(cart, "a")) == "{\"1\":1}");
  CHECK(text(reader.load(cart, "ab")) == "{\"2\":2}");
  CHECK(text(reader.load(cart, zero)) == "{\"3\":3}");
  CHECK(text(reader.load(cart, "\xff\xfe")) == "{\"4\":4}");
  CHECK(text(reader.load(stock, "a")) == "{\"s\":1}");
  CHECK(count(path, "SELECT COUNT(*) FROM entities") == 5);
  CHECK(count(path, "SELECT COUNT(*) FROM entities WHERE typeof(id) != 'text'") == 0);
}

TEST_CASE("hostile log rows left in a file are folded as they are, never crash the open") {
  auto path = fresh_db_path("hostile-log.db");
  {
    entity_store create(path, durability::normal); // the schema, then rows no store wrote
    SQLite::Database db{path, SQLite::OPEN_READWRITE};
    db.exec("INSERT INTO entity_log(kind, id, state) VALUES "
            "(1, 'not-json', '{\"lines\":[[['), "
            "(1, 'blob', X'00FF10'), "
            "(200, 'odd-kind', '{}'), "
            "(1, '', '{}'), "
            "(1, 'not-json', 'still not json')");
  }
  entity_store writer(path, durability::normal, {}, log_kind(cart));
  CHECK(writer.unfolded_rows() == 0);
  CHECK(count(path, "SELECT COUNT(*) FROM entity_log") == 0);
  CHECK(text(writer.load(cart, "not-json")) == "still not json"); // the latest row
  CHECK_FALSE(read_cart(writer.load(cart, "not-json")).has_value()); // refused when decoded
  CHECK(text(writer.load(cart, "blob")) == std::string("\x00\xff\x10", 3));
  CHECK(text(writer.load(200, "odd-kind")) == "{}");
  CHECK(text(writer.load(cart, "")) == "{}");
  CHECK(count(path, "SELECT COUNT(*) FROM entities") == 4);
}
