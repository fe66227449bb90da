// The test-mode payment ledger's retention: the oldest rows deleted up to
// the first one not due, undated rows aged from the step that dated them,
// and the provider sweeping on its own thread.
#include "actors/node_metrics.hpp"
#include "actors/payment/payment_provider.hpp"
#include "persistence/payment_ledger.hpp"
#include "persistence/database.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <chrono>
#include <future>
#include <thread>

using namespace emporium;
using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {

ledger_entry row(const std::string& key, std::int64_t made_ms) {
  return {key, 1, 100, "pm_card_visa", "succeeded", "", "pi_" + key, false, made_ms};
}

std::int64_t rows_in(const std::string& path) {
  SQLite::Database db(path);
  return db.execAndGet("SELECT COUNT(*) FROM payments").getInt64();
}

} // namespace

TEST_CASE("a ledger sweep deletes the oldest rows up to the first one not due") {
  auto path = fresh_db_path("ledger-sweep.db");
  payment_ledger ledger(path, durability::normal);
  for (int i = 0; i < 10; ++i)
    ledger.insert(row("k" + std::to_string(i), 1'000 + i)); // made at 1000..1009
  ledger.insert(row("late", 1'003)); // another node's clock, a little behind
  CHECK(ledger.find("k3")->created_ms == 1'003);

  auto nothing = ledger.sweep(1'000, 100, 0); // nothing made before 1000
  CHECK(nothing.rows == 0);
  CHECK_FALSE(nothing.more);
  CHECK(rows_in(path) == 11);

  auto some = ledger.sweep(1'004, 100, 0); // 1000..1003
  CHECK(some.rows == 4);
  CHECK_FALSE(some.more);
  CHECK_FALSE(ledger.find("k3"));
  CHECK(ledger.find("k4"));
  CHECK(ledger.find("late")); // behind k4..k9: waits for them

  auto limited = ledger.sweep(1'000'000, 3, 0); // all due, 3 a step
  CHECK(limited.rows == 3);
  CHECK(limited.more);
  CHECK_FALSE(ledger.find("k6"));
  CHECK(ledger.find("k7"));
  CHECK(ledger.sweep(1'000'000, 3, 0).rows == 3); // k7..k9
  auto last = ledger.sweep(1'000'000, 3, 0);
  CHECK(last.rows == 1);
  CHECK_FALSE(last.more);
  CHECK_FALSE(ledger.find("late"));
  CHECK(rows_in(path) == 0);
}

TEST_CASE("undated ledger rows age from when dating began; without its record they stay") {
  auto path = fresh_db_path("ledger-undated.db");
  payment_ledger ledger(path, durability::normal);
  {
    // A build of schema 13 writes without the column: the default, 0.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO payments(idempotency_key, order_id, amount, payment_method, status) "
            "VALUES ('old', 1, 100, 'pm_card_visa', 'succeeded')");
    db.exec("UPDATE retention SET value = 5000 WHERE name = 'payments_dated_from'");
  }
  ledger.insert(row("new", 9'000));
  CHECK(ledger.find("old")->created_ms == 0);
  CHECK(ledger.sweep(5'000, 100, 0).rows == 0); // counts as made at 5000
  CHECK(ledger.sweep(5'001, 100, 0).rows == 1);
  CHECK_FALSE(ledger.find("old"));
  CHECK(ledger.find("new"));
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO payments(idempotency_key, order_id, amount, payment_method, status) "
            "VALUES ('hand', 1, 100, 'pm_card_visa', 'succeeded')");
    db.exec("DELETE FROM retention WHERE name = 'payments_dated_from'");
  }
  // "new" (9000) goes; "hand" is undated with no record of when dating began.
  CHECK(ledger.sweep(1'000'000, 100, 0).rows == 1);
  CHECK(ledger.find("hand"));
}

TEST_CASE("schema 14 dates the ledger: rows from before are undated, the step additive") {
  auto path = fresh_db_path("ledger-schema13.db");
  {
    auto db = open_database(path, durability::normal);
    db->exec("ALTER TABLE payments DROP COLUMN created_at; "
             "DELETE FROM retention WHERE name = 'payments_dated_from'; "
             "INSERT INTO payments(idempotency_key, order_id, amount, payment_method, status) "
             "VALUES ('before', 1, 100, 'pm_card_visa', 'succeeded'); PRAGMA user_version = 13");
  }
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  payment_ledger ledger(path, durability::normal); // migrates 13 -> 14
  CHECK(ledger.find("before")->created_ms == 0);
  SQLite::Database db(path);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == current_schema_version());
  auto from =
    db.execAndGet("SELECT value FROM retention WHERE name = 'payments_dated_from'").getInt64();
  CHECK(from >= before / 1000 * 1000);
  CHECK(from <= before + 60'000);
  CHECK(db.execAndGet("SELECT value FROM settings WHERE name = 'oldest_reader_schema'")
          .getString() == "11");
}

TEST_CASE("the test-mode provider sweeps its ledger on its own thread") {
  auto path = fresh_db_path("ledger-provider.db");
  {
    payment_ledger ledger(path, durability::normal);
    ledger.insert(row("ancient", 1)); // made in 1970
  }
  auto& pruned = *node_metrics::get().payments_pruned;
  auto pruned_before = pruned.value();
  test_mode_options opts{path};
  opts.retention = std::chrono::hours(24);
  opts.sweep_every = std::chrono::milliseconds(50);
  auto provider = make_test_mode_provider(opts);
  // A charge made now is kept through the sweeps.
  std::promise<charge_result> paid;
  provider->charge({"order-7", 7, 500, "pm_card_visa"},
                   [&](charge_result r) { paid.set_value(std::move(r)); });
  CHECK(paid.get_future().get().status == charge_status::succeeded);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rows_in(path) != 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(200)); // a few more sweeps
  provider.reset();
  payment_ledger ledger(path, durability::normal);
  CHECK_FALSE(ledger.find("ancient"));
  REQUIRE(ledger.find("order-7"));
  CHECK(ledger.find("order-7")->created_ms > 1'700'000'000'000);
  CHECK(pruned.value() - pruned_before == 1);
}
