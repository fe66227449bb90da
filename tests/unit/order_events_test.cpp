// A resume's read of the outbox: a user's events after a seq, found through
// the user's orders (orders_by_user, then outbox_by_order), in seq order
// across those orders, a page at a time; never another user's.
#include "persistence/entity_store.hpp"
#include "persistence/order_store.hpp"

#include <doctest/doctest.h>
#include "temp_db.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

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

} // namespace

TEST_CASE("a resume gets its user's events across their orders, in seq order, paged") {
  auto path = fresh_db_path("order-events.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  const std::string u(32, 'a'), v(32, 'b');
  // Orders 3 and 15 are u's, 27 is v's; each placed with its first event.
  for (auto [order, user] : {std::pair{3, u}, {15, u}, {27, v}}) {
    std::vector<entity_write> batch{order_write(order)};
    batch[0].placed = order_index_row{order, user, "", "", "", 0};
    batch[0].events.push_back(event(user, order, order_status::submitted));
    store.commit(batch);
  }
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

TEST_CASE("an event row naming another user is not served to the order's user") {
  // A damaged or forged row: the order is u's, the event says v. Neither
  // gets it (u's resume checks the row's user; v has no such order).
  auto path = fresh_db_path("order-events-forged.db");
  entity_store store(path, durability::normal);
  order_store orders(path, durability::normal);
  const std::string u(32, 'a'), v(32, 'b');
  std::vector<entity_write> batch{order_write(3)};
  batch[0].placed = order_index_row{3, u, "", "", "", 0};
  batch[0].events.push_back(event(u, 3, order_status::submitted));
  batch[0].events.push_back(event(v, 3, order_status::confirmed));
  store.commit(batch);
  CHECK(orders.events_since(u, 0, 100).size() == 1);
  CHECK(orders.events_since(v, 0, 100).empty());
}

TEST_CASE("a file from before the outbox was indexed by order is migrated, its events kept") {
  auto path = fresh_db_path("order-events-index.db");
  const std::string u(32, 'a');
  {
    entity_store store(path, durability::normal);
    std::vector<entity_write> batch{order_write(3)};
    batch[0].placed = order_index_row{3, u, "", "", "", 0};
    batch[0].events.push_back(event(u, 3, order_status::submitted));
    store.commit(batch);
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
    db.exec("DROP INDEX outbox_by_order; CREATE INDEX outbox_by_user ON outbox(user_id, seq);"
            "PRAGMA user_version = 10");
  }
  REQUIRE(has("outbox_by_user"));
  order_store orders(path, durability::normal); // opening migrates
  CHECK(has("outbox_by_order"));
  CHECK_FALSE(has("outbox_by_user"));
  REQUIRE(orders.events_since(u, 0, 100).size() == 1);
  CHECK(orders.events_since(u, 0, 100)[0].order == 3);
}
