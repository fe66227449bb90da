// The store actor on the deterministic scheduler: the cart log's folds (by
// age, and when the store stops), the group commit's wait for more saves,
// and what its savers hear when another node fences its file.
#include "actors/node_metrics.hpp"
#include "fixture.hpp"
#include "persistence/entity_store.hpp"
#include "persistence/fencing.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>

using namespace emporium;
using namespace emporium::testing;

namespace {
/// Rows of the shard file, through a connection of the test's own.
long long rows(const std::string& path, const char* sql) {
  SQLite::Database db{path};
  return db.execAndGet(sql).getInt64();
}
} // namespace

TEST_CASE_FIXTURE(deterministic, "the store logs carts and folds them by age and when it stops") {
  start("cart-log");
  call(cart_of("erin"), add_to_cart{4, 3, 700, "Pan"});
  call(cart_of("erin"), add_to_cart{4, 1, 700, "Pan"});
  // Acknowledged, logged, not folded yet: a stock write goes straight in.
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log WHERE kind = 1 AND id = 'erin'") == 2);
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entities WHERE kind = 1") == 0);
  // The fold timer (the policy's age, 1 s) folds the log into the table.
  sched.advance_time(std::chrono::milliseconds(999));
  sched.run();
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 2);
  sched.advance_time(std::chrono::milliseconds(1));
  sched.run();
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 0);
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entities WHERE kind = 1 AND id = 'erin' AND "
                      "json_valid(state)") == 1);
  // The cart, passivated and read back from the table, is the latest one.
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  sched.run();
  restart_directory();
  CHECK(call(cart_of("erin"), get_cart{}).lines.at(0).quantity == 4);
  // A store asked to stop (its shard moves) folds what it logged first.
  call(cart_of("erin"), add_to_cart{5, 1, 100, "Lid"});
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 1);
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  sched.run();
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  sched.run();
  store = nullptr;
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 0);
  persistence::entity_store reader(db_path, persistence::durability::normal);
  auto cart = persistence::read_cart(
    reader.load(static_cast<std::uint8_t>(entity_kind::cart), "erin"));
  REQUIRE(cart.has_value());
  CHECK(cart->lines.size() == 2);
}

namespace {

/// A store alone, with the given wait for more saves, and saves sent
/// straight to it (answers unread).
struct store_fixture : deterministic {
  caf::scoped_actor sender{sys};

  void open(const std::string& name, std::chrono::microseconds delay) {
    db_path = fresh_db(name);
    store = spawn_store(sys, db_path, persistence::durability::normal, spawn_mode::workers, {},
                        {}, delay);
    sched.run();
  }
  void save(const std::string& id) {
    sender->send(store, save_state{{1, id, persistence::snapshot_access::make("{}"), {}}});
  }
  double commits() {
    auto file = std::filesystem::path{db_path}.filename().string();
    return node_metrics::get().commits->with({file}).value();
  }
};

/// Commits for: two saves at once (a busy store), then one save whose flush
/// comes up while two more arrive behind it.
double commits_with_delay(store_fixture& f, std::chrono::microseconds delay) {
  f.open("group-commit-" + std::to_string(delay.count()), delay);
  auto before = f.commits();
  f.save("x1");
  f.save("x2");
  f.sched.run(); // one commit of two: saves arrive together
  CHECK(f.commits() == before + 1);
  f.save("a");
  f.sched.run_once(); // the store takes "a" in and queues its flush
  f.save("b");
  f.save("c"); // behind the flush
  f.sched.run();
  persistence::entity_store reads(f.db_path, persistence::durability::normal);
  for (const char* id : {"x1", "x2", "a", "b", "c"})
    CHECK_FALSE(reads.load(1, id).empty());
  return f.commits() - before;
}

} // namespace

TEST_CASE_FIXTURE(store_fixture, "with a wait, a flush takes in the saves that arrive behind it") {
  CHECK(commits_with_delay(*this, std::chrono::microseconds(100)) == 2);
}

TEST_CASE_FIXTURE(store_fixture, "without a wait, a flush commits what it has") {
  CHECK(commits_with_delay(*this, std::chrono::microseconds(0)) == 3);
}

namespace {

/// Folds attempted so far on the fixture's file that failed.
double fold_failures(store_fixture& f) {
  auto file = std::filesystem::path{f.db_path}.filename().string();
  return node_metrics::get().fold_failures->with({file}).value();
}

} // namespace

TEST_CASE_FIXTURE(store_fixture, "a failing fold is retried after a growing back-off, not after "
                                 "every commit") {
  open("fold-backoff", std::chrono::microseconds(0));
  // The fold's upsert of this cart fails (as on a full disk); its log
  // append does not.
  {
    SQLite::Database db{db_path, SQLite::OPEN_READWRITE};
    db.exec("CREATE TRIGGER poison BEFORE INSERT ON entities WHEN NEW.id = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
  }
  save("poison");
  sched.run();
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 1);
  sched.advance_time(std::chrono::seconds(1)); // the policy's age: the timer folds
  sched.run();
  CHECK(fold_failures(*this) == 1);
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 1);
  // Saves meanwhile are committed (logged) as usual; their commits find the
  // fold due by age but leave it to the back-off (2 s after the failure).
  sched.advance_time(std::chrono::milliseconds(1500));
  sched.run();
  save("other");
  sched.run();
  save("third");
  sched.run();
  CHECK(fold_failures(*this) == 1);
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 3);
  sched.advance_time(std::chrono::milliseconds(499));
  sched.run();
  CHECK(fold_failures(*this) == 1);
  sched.advance_time(std::chrono::milliseconds(1)); // 2 s after the first failure
  sched.run();
  CHECK(fold_failures(*this) == 2);
  // The cause goes away; the next try waits twice as long (4 s).
  {
    SQLite::Database db{db_path, SQLite::OPEN_READWRITE};
    db.exec("DROP TRIGGER poison");
  }
  sched.advance_time(std::chrono::milliseconds(3999));
  sched.run();
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 3);
  sched.advance_time(std::chrono::milliseconds(1));
  sched.run();
  CHECK(fold_failures(*this) == 2);
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 0);
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entities WHERE kind = 1") == 3);
  // Back to the policy's age after a fold that worked.
  save("fourth");
  sched.run();
  sched.advance_time(std::chrono::seconds(1));
  sched.run();
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 0);
}

TEST_CASE_FIXTURE(store_fixture, "a store that finds its file fenced while folding answers the "
                                 "save it took in before it stops") {
  // Regression: a save taken in, its flush queued behind the fold timer's
  // message; the fold found another node's epoch and the store stopped
  // without answering it. Its cart, asking without a timeout, never ended,
  // and neither did the drain of its shard (a frozen node never gave a
  // shard back after it thawed).
  db_path = fresh_db("fenced-fold");
  auto epoch = persistence::take_ownership(db_path, "n1", persistence::durability::normal);
  REQUIRE(epoch.has_value());
  store = spawn_store(sys, db_path, persistence::durability::normal, spawn_mode::workers, {},
                      std::make_shared<std::atomic<std::int64_t>>(*epoch),
                      std::chrono::microseconds(0));
  sched.run();
  save("logged"); // a cart: logged, and the fold timer armed (1 s)
  sched.run();
  REQUIRE(rows(db_path, "SELECT COUNT(*) FROM entity_log") == 1);
  // Another node takes the shard over (a higher epoch).
  REQUIRE(persistence::take_ownership(db_path, "n2", persistence::durability::normal) > *epoch);
  struct answer {
    bool ok = false;
    std::optional<errc> error;
  };
  auto got = std::make_shared<std::optional<answer>>();
  auto target = store;
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(target, caf::infinite,
                  save_state{{1, "late", persistence::snapshot_access::make("{}"), {}}})
      .then([got]() { *got = answer{true, {}}; },
            [got](caf::error& err) { *got = answer{false, to_errc(err)}; });
  });
  sched.run_once();                            // the save reaches the store's mailbox
  sched.advance_time(std::chrono::seconds(1)); // the fold timer's message behind it
  sched.run();
  REQUIRE(got->has_value());
  CHECK_FALSE((*got)->ok);
  CHECK((*got)->error == errc::unavailable);
  // Nothing of the save reached the file.
  CHECK(rows(db_path, "SELECT COUNT(*) FROM entity_log WHERE id = 'late'") == 0);
  store = nullptr;
}
