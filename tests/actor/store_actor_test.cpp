// The store actor on the deterministic scheduler: the cart log's folds (by
// age, and when the store stops) and the group commit's wait for more saves.
#include "actors/node_metrics.hpp"
#include "fixture.hpp"
#include "persistence/entity_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

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
