// Shard ownership epochs: a writer of an older epoch fails its commit and
// writes nothing; each epoch's span of writes is on file.
#include "persistence/account_store.hpp"
#include "persistence/entity_store.hpp"
#include "domain/wall_clock.hpp"
#include "persistence/fencing.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

using namespace emporium::persistence;
using emporium::wall_clock_ns;
using emporium::testing::fresh_db_path;

namespace {

std::shared_ptr<std::atomic<std::int64_t>> fence_at(std::int64_t epoch) {
  return std::make_shared<std::atomic<std::int64_t>>(epoch);
}

std::vector<entity_write> one_write(const std::string& id, const std::string& state) {
  return {{1, id, snapshot_access::make(state), {}}};
}

struct epoch_row {
  std::int64_t epoch;
  std::string node;
  std::int64_t opened_ns;
  std::int64_t last_write_ns;
};

std::vector<epoch_row> epochs(const std::string& path) {
  SQLite::Database db{path};
  SQLite::Statement q{db, "SELECT epoch, node, opened_ns, last_write_ns FROM shard_epochs "
                          "ORDER BY epoch"};
  std::vector<epoch_row> rows;
  while (q.executeStep())
    rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                    q.getColumn(2).getInt64(), q.getColumn(3).getInt64()});
  return rows;
}

} // namespace

TEST_CASE("each opening raises the epoch and names its node") {
  auto path = fresh_db_path("epochs.db");
  CHECK(current_ownership(path, durability::normal).epoch == 0);
  CHECK(take_ownership(path, "n1", durability::normal) == 1);
  CHECK(take_ownership(path, "n2", durability::normal) == 2);
  auto now = current_ownership(path, durability::normal);
  CHECK(now.epoch == 2);
  CHECK(now.node == "n2");
}

TEST_CASE("a writer from an older epoch is fenced and writes nothing") {
  auto path = fresh_db_path("fenced.db");
  auto first = fence_at(*take_ownership(path, "n1", durability::normal));
  entity_store old_owner(path, durability::normal, first);
  auto w = one_write("alice", "{\"v\":1}");
  old_owner.commit(w);

  // n2 takes the shard over while n1 still has the file open (frozen, cut off).
  auto second = fence_at(*take_ownership(path, "n2", durability::normal));
  entity_store new_owner(path, durability::normal, second);
  auto stale = one_write("alice", "{\"v\":2}");
  CHECK_THROWS_AS(old_owner.commit(stale), fenced_error);
  auto fresh = one_write("alice", "{\"v\":3}");
  new_owner.commit(fresh);
  // The fenced transaction was rolled back, and the store can still read.
  CHECK(snapshot_access::text(old_owner.load(1, "alice")) == "{\"v\":3}");
  auto again = one_write("bob", "{}");
  CHECK_THROWS_AS(old_owner.commit(again), fenced_error);
  CHECK(new_owner.load(1, "bob").empty());
}

TEST_CASE("each epoch's writes are recorded and never interleave") {
  auto path = fresh_db_path("spans.db");
  auto first = fence_at(*take_ownership(path, "n1", durability::normal));
  entity_store a(path, durability::normal, first);
  for (int i = 0; i < 3; ++i) {
    auto w = one_write("k" + std::to_string(i), "{}");
    a.commit(w);
  }
  auto second = fence_at(*take_ownership(path, "n2", durability::normal));
  entity_store b(path, durability::normal, second);
  auto w = one_write("k9", "{}");
  b.commit(w);
  auto rows = epochs(path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].node == "n1");
  CHECK(rows[0].last_write_ns > rows[0].opened_ns);
  CHECK(rows[0].last_write_ns <= rows[1].opened_ns);
  CHECK(rows[1].last_write_ns > rows[1].opened_ns);
}

TEST_CASE("the last write is brought up to date at most once per interval") {
  auto path = fresh_db_path("witness.db");
  auto fence = fence_at(*take_ownership(path, "n1", durability::normal));
  entity_store store(path, durability::normal, fence);
  auto started = std::chrono::steady_clock::now();
  std::set<std::int64_t> seen;
  for (int i = 0; i < 20; ++i) {
    auto w = one_write("k" + std::to_string(i), "{}");
    store.commit(w);
    seen.insert(epochs(path)[0].last_write_ns);
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - started).count();
  // The first commit records; later ones only once an interval has passed.
  CHECK(seen.size() <= static_cast<std::size_t>(elapsed / epoch_witness_interval_ns) + 1);
  CHECK(*seen.begin() > epochs(path)[0].opened_ns);
  std::this_thread::sleep_for(std::chrono::nanoseconds(epoch_witness_interval_ns) +
                              std::chrono::milliseconds(5));
  auto later = one_write("late", "{}");
  auto before = wall_clock_ns();
  store.commit(later);
  CHECK(epochs(path)[0].last_write_ns >= before);
}

TEST_CASE("taking ownership never waits for a writer inside a transaction") {
  auto path = fresh_db_path("busy.db");
  REQUIRE(take_ownership(path, "n1", durability::normal) == 1);
  SQLite::Database holder{path, SQLite::OPEN_READWRITE};
  holder.exec("BEGIN IMMEDIATE"); // a writer frozen mid-transaction
  CHECK_FALSE(take_ownership(path, "n2", durability::normal).has_value());
  holder.exec("COMMIT");
  CHECK(take_ownership(path, "n2", durability::normal) == 2);
}

TEST_CASE("a file without a fence is written as before") {
  auto path = fresh_db_path("unfenced.db");
  entity_store plain(path, durability::normal);
  take_ownership(path, "n1", durability::normal);
  auto w = one_write("x", "{}");
  CHECK_NOTHROW(plain.commit(w));
  CHECK(snapshot_access::text(plain.load(1, "x")) == "{}");
}

TEST_CASE("accounts and refresh tokens on a shard file are fenced too") {
  auto path = fresh_db_path("fenced-accounts.db");
  auto first = fence_at(*take_ownership(path, "n1", durability::normal));
  account_store old_owner(path, durability::normal, first);
  emporium::user_record ann{"a1", "ann@example.com", "hash", "", "", "customer"};
  CHECK(old_owner.insert_user(ann, 1));
  take_ownership(path, "n2", durability::normal);
  emporium::user_record bob{"b2", "bob@example.com", "hash", "", "", "customer"};
  CHECK_THROWS_AS(old_owner.insert_user(bob, 2), fenced_error);
  CHECK_THROWS_AS(old_owner.insert_refresh("h", "a1", 100), fenced_error);
  CHECK_THROWS_AS(old_owner.revoke_all("a1"), fenced_error);
  account_store reader(path, durability::normal);
  REQUIRE(reader.find_by_id("a1").has_value());
  CHECK(reader.find_by_id("a1")->email == "ann@example.com");
  CHECK(reader.find_by_email("ANN@example.com")->id == "a1"); // case-insensitive
  CHECK_FALSE(reader.find_by_id("b2").has_value());
  CHECK_FALSE(reader.find_by_email("bob@example.com").has_value());
}
