// A resume's read of the outbox: a user's events after a seq, in seq order
// across their orders, a page at a time, never another user's; through the
// outbox's index by (block of 1,024 seqs, user, seq), one seek per block.
#include "persistence/entity_store.hpp"
#include "persistence/order_store.hpp"

#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <cstdint>

using namespace emporium;
using namespace emporium::persistence;
using emporium::testing::fresh_db_path;

namespace {

entity_write order_write(std::int64_t order) {
  return {3, std::to_string(order), snapshot_access::make("{}"), {}};
}

order_event event(const std::string& user, std::int64_t order, order_status status) {
  return {user, order, status, "", 1000, 500, 0};
}

std::vector<std::pair<std::int64_t, order_status>> seen(const std::vector<order_event>& events) {
  std::vector<std::pair<std::int64_t, order_status>> out;
  for (const auto& e : events)
    out.emplace_back(e.order, e.status);
  return out;
}

/// `count` events of other users' orders (ids from 1,000,000 up), in one
/// commit: the outbox's seqs move on by `count`.
void others(entity_store& store, int count) {
  static std::int64_t next_order = 1'000'000;
  std::vector<entity_write> batch{order_write(next_order)};
  for (int i = 0; i < count; ++i)
    batch[0].events.push_back(event(fmt::format("{:032x}", i % 997), next_order, order_status::submitted));
  ++next_order;
  store.commit(batch);
}

void one(entity_store& store, const std::string& user, std::int64_t order, order_status status) {
  std::vector<entity_write> batch{order_write(order)};
  batch[0].events.push_back(event(user, order, status));
  store.commit(batch);
}

} // namespace

TEST_CASE("a resume gets its user's events across their orders, in seq order, paged") {
  auto path = fresh_db_path("order-events.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  const std::string u(32, 'a'), v(32, 'b');
  for (auto [order, user] : {std::pair{3, u}, {15, u}, {27, v}})
    one(store, user, order, order_status::submitted);
  // Then the three sagas' later steps, interleaved in one commit.
  std::vector<entity_write> batch{order_write(15), order_write(27), order_write(3)};
  batch[0].events.push_back(event(u, 15, order_status::stock_reserved));
  batch[1].events.push_back(event(v, 27, order_status::stock_reserved));
  batch[2].events.push_back(event(u, 3, order_status::stock_reserved));
  batch[2].events.push_back(event(u, 3, order_status::confirmed));
  store.commit(batch);

  using s = order_status;
  auto all = orders.events_since(u, 0, 100);
  CHECK(seen(all) == std::vector<std::pair<std::int64_t, s>>{
                       {3, s::submitted}, {15, s::submitted}, {15, s::stock_reserved},
                       {3, s::stock_reserved}, {3, s::confirmed}});
  for (std::size_t i = 1; i < all.size(); ++i)
    CHECK(all[i - 1].seq < all[i].seq);
  CHECK(seen(orders.events_since(v, 0, 100)) ==
        std::vector<std::pair<std::int64_t, s>>{{27, s::submitted}, {27, s::stock_reserved}});
  CHECK(orders.events_since(std::string(32, 'c'), 0, 100).empty());
  CHECK(orders.events_since(u, -5, 100).size() == 5);                // a negative seq is 0
  CHECK(orders.events_since(u, all.back().seq, 100).empty());        // nothing newer
  CHECK(orders.events_since(u, INT64_MAX, 100).empty());

  // Paged: two at a time, each page going on from the last row read.
  std::int64_t last = -1;
  auto first = orders.events_since(u, 0, 2, &last);
  REQUIRE(first.size() == 2);
  CHECK(last == all[1].seq);
  auto second = orders.events_since(u, last, 2, &last);
  REQUIRE(second.size() == 2);
  CHECK(second[0].seq == all[2].seq);
  auto third = orders.events_since(u, last, 2, &last);
  REQUIRE(third.size() == 1);
  CHECK(third[0].seq == all[4].seq);
  CHECK(last == 0); // every row there was
}

TEST_CASE("a resume across many blocks of other users' events finds every one of its own") {
  auto path = fresh_db_path("order-events-blocks.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  const std::string u(32, 'a');
  // u's events scattered over blocks of 1,024 seqs, two in one block.
  one(store, u, 3, order_status::submitted);
  others(store, 5000);
  one(store, u, 3, order_status::stock_reserved);
  others(store, 9000);
  one(store, u, 3, order_status::payment_authorized);
  one(store, u, 15, order_status::submitted);
  others(store, 4100);
  one(store, u, 3, order_status::confirmed);
  auto all = orders.events_since(u, 0, 100);
  REQUIRE(all.size() == 5);
  CHECK(all[4].seq > 4 * 4096);
  for (std::size_t i = 1; i < all.size(); ++i)
    CHECK(all[i - 1].seq < all[i].seq);
  CHECK(all[2].status == order_status::payment_authorized);
  CHECK(orders.events_since(u, all[1].seq, 100).size() == 3);

  // A page looks at most max_blocks blocks: it says where it stopped, and
  // going on from there, page by page, yields every event once, in order.
  std::vector<std::int64_t> got;
  std::int64_t after = 0;
  int pages = 0;
  for (;;) {
    std::int64_t next = 0;
    for (auto& e : orders.events_since(u, after, 100, &next, 1))
      got.push_back(e.seq);
    ++pages;
    if (next == 0)
      break;
    REQUIRE(next > after); // always moves on
    after = next;
  }
  std::vector<std::int64_t> want;
  for (auto& e : all)
    want.push_back(e.seq);
  CHECK(got == want);
  CHECK(pages >= 5); // one block per page
  // max_blocks 0 is taken as 1: a page still moves on.
  std::int64_t next = 0;
  orders.events_since(u, 0, 100, &next, 0);
  CHECK(next > 0);
}

TEST_CASE("a row's user decides whose resume it is in") {
  // A damaged row: the order is u's, the event says v. The row goes to v's
  // resume (as the index by user always did), never to u's.
  auto path = fresh_db_path("order-events-forged.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  const std::string u(32, 'a'), v(32, 'b');
  std::vector<entity_write> batch{order_write(3)};
  batch[0].events.push_back(event(u, 3, order_status::submitted));
  batch[0].events.push_back(event(v, 3, order_status::confirmed));
  store.commit(batch);
  REQUIRE(orders.events_since(u, 0, 100).size() == 1);
  CHECK(orders.events_since(u, 0, 100)[0].status == order_status::submitted);
  REQUIRE(orders.events_since(v, 0, 100).size() == 1);
  CHECK(orders.events_since(v, 0, 100)[0].status == order_status::confirmed);
}

TEST_CASE("a file from before the outbox's blocks is migrated, its events kept") {
  auto path = fresh_db_path("order-events-index.db");
  const std::string u(32, 'a');
  {
    entity_store store(path, durability::normal);
    one(store, u, 3, order_status::submitted);
  }
  auto has = [&](const char* index) {
    SQLite::Database db(path);
    SQLite::Statement q(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?");
    q.bind(1, index);
    q.executeStep();
    return q.getColumn(0).getInt() == 1;
  };
  {
    // Schema 10 as it shipped: the outbox indexed by user.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(emporium::testing::back_before_schema_13_sql);
    db.exec("DROP INDEX outbox_by_block; CREATE INDEX outbox_by_user ON outbox(user_id, seq);"
            "PRAGMA user_version = 10");
  }
  REQUIRE(has("outbox_by_user"));
  order_store orders(path, durability::normal); // opening migrates
  CHECK(has("outbox_by_block"));
  CHECK_FALSE(has("outbox_by_user"));
  REQUIRE(orders.events_since(u, 0, 100).size() == 1);
  CHECK(orders.events_since(u, 0, 100)[0].order == 3);
}
