// The stock actor: atomic check-and-take, idempotency, expiry by timer.
#include "fixture.hpp"
#include "persistence/entity_store.hpp"
#include "persistence/snapshot.hpp"

using namespace emporium;
using namespace emporium::testing;

namespace {
constexpr millis ttl = 60'000;
}

TEST_CASE_FIXTURE(deterministic, "20 concurrent reservations against 7 units: exactly 7") {
  start("stock-race");
  auto product = stock_of(42);
  call(product, set_stock{7});
  std::vector<std::shared_ptr<reply_box<reserve_reply>>> replies;
  for (order_id order = 1; order <= 20; ++order)
    replies.push_back(ask(product, reserve_stock{order, 1, ttl}));
  sched.run(); // all 20 requests are queued before any is processed
  int granted = 0, refused = 0;
  for (auto& r : replies) {
    REQUIRE(r->value.has_value());
    if (r->value->status == reserve_status::granted)
      ++granted;
    else if (r->value->status == reserve_status::insufficient)
      ++refused;
  }
  CHECK(granted == 7);
  CHECK(refused == 13);
  auto v = call(product, get_stock{});
  CHECK(v.available == 0);
  CHECK(v.reserved == 7);
  CHECK(v.on_hand == v.available + v.reserved);
}

TEST_CASE_FIXTURE(deterministic, "duplicate reserve, release and commit are no-ops") {
  start("stock-idempotent");
  auto product = stock_of(5);
  call(product, set_stock{10});
  CHECK(call(product, reserve_stock{1, 3, ttl})
          .status == reserve_status::granted);
  CHECK(call(product, reserve_stock{1, 3, ttl})
          .status == reserve_status::already_held);
  CHECK(call(product, get_stock{}).reserved == 3);
  auto once = call(product, commit_stock{1});
  auto twice = call(product, commit_stock{1});
  CHECK(once.on_hand == 7);
  CHECK(twice.on_hand == 7);
  CHECK(twice.sold == 3);
  CHECK(call(product, reserve_stock{2, 2, ttl})
          .status == reserve_status::granted);
  CHECK(call(product, release_stock{2}));
  CHECK_FALSE(call(product, release_stock{2}));
  auto v = call(product, get_stock{});
  CHECK(v.available == 7);
  CHECK(v.reserved == 0);
  auto late = ask(product, commit_stock{2});
  sched.run();
  CHECK(late->error == errc::not_found);
}

TEST_CASE_FIXTURE(deterministic, "a commit repeated long after is still recognised from file") {
  start("stock-sales-on-file");
  auto product = stock_of(8);
  call(product, set_stock{1000});
  auto sell = [&](order_id order) {
    call(product, reserve_stock{order, 1, ttl});
    return call(product, commit_stock{order});
  };
  sell(1);
  // Push order 1 out of the snapshot's short memory of settlements.
  for (order_id o = 2; o <= static_cast<order_id>(max_remembered_settlements) + 5; ++o)
    sell(o);
  auto sold = call(product, get_stock{}).sold;
  // Also after a restart (the entity is read back from SQLite).
  restart_directory();
  auto again = call(stock_of(8), commit_stock{1});
  CHECK(again.sold == sold); // recognised, not sold twice
  auto never = ask(stock_of(8), commit_stock{999'999});
  sched.run();
  CHECK(never->error == errc::not_found);
}

TEST_CASE_FIXTURE(deterministic,
                  "a cancelled order's sale goes back to stock once, also long after") {
  start("stock-sale-returned");
  auto product = stock_of(6);
  call(product, set_stock{100});
  auto sell = [&](order_id order, std::int32_t quantity) {
    call(stock_of(6), reserve_stock{order, quantity, ttl});
    return call(stock_of(6), commit_stock{order});
  };
  sell(1, 3);
  CHECK(call(product, release_stock{1, 3}));
  auto v = call(product, get_stock{});
  CHECK(v.on_hand == 100);
  CHECK(v.sold == 0);
  CHECK_FALSE(call(product, release_stock{1, 3})); // a repeat gives nothing
  CHECK(call(product, get_stock{}).on_hand == 100);
  auto late = ask(product, commit_stock{1});
  sched.run();
  CHECK(late->error == errc::not_found); // given back: not a sale any more
  // A sale the snapshot no longer remembers is given back from file, and
  // that is remembered across a restart.
  sell(2, 4);
  for (order_id o = 3; o <= static_cast<order_id>(max_remembered_settlements) + 5; ++o)
    sell(o, 1);
  restart_directory();
  auto before = call(stock_of(6), get_stock{});
  CHECK(call(stock_of(6), release_stock{2, 4}));
  auto after = call(stock_of(6), get_stock{});
  CHECK(after.on_hand == before.on_hand + 4);
  CHECK(after.sold == before.sold - 4);
  restart_directory();
  CHECK_FALSE(call(stock_of(6), release_stock{2, 4}));
  CHECK_FALSE(call(stock_of(6), release_stock{999'999, 4})); // never sold
  CHECK(call(stock_of(6), get_stock{}).on_hand == after.on_hand);
}

TEST_CASE_FIXTURE(deterministic, "reservations expire when their timer fires") {
  start("stock-expiry");
  auto product = stock_of(9);
  call(product, set_stock{4});
  call(product, reserve_stock{77, 3, 1000});
  CHECK(call(product, get_stock{}).available == 1);
  sched.trigger_timeouts();
  sched.run();
  auto v = call(product, get_stock{});
  CHECK(v.available == 4);
  CHECK(v.reserved == 0);
  // The expired order cannot be committed, and a redelivered reserve is refused.
  auto commit = ask(product, commit_stock{77});
  sched.run();
  CHECK(commit->error == errc::not_found);
  CHECK(call(product, reserve_stock{77, 3, 1000})
          .status == reserve_status::settled);
}

TEST_CASE_FIXTURE(deterministic, "admin stock changes never go below reserved") {
  start("stock-admin");
  auto product = stock_of(3);
  call(product, set_stock{5});
  call(product, reserve_stock{1, 4, ttl});
  auto bad = ask(product, adjust_stock{-2});
  sched.run();
  CHECK(bad->error == errc::insufficient_stock);
  auto v = call(product, adjust_stock{10});
  CHECK(v.on_hand == 15);
  CHECK(v.available == 11);
  auto invalid = ask(stock_of(3), reserve_stock{2, 0, ttl});
  sched.run();
  CHECK(invalid->error == errc::invalid_argument);
}

TEST_CASE_FIXTURE(deterministic, "an adjustment with an id applies once, also after the record "
                                 "crashed and came back from its file") {
  start("stock-adjust-once");
  auto product = stock_of(11);
  call(product, set_stock{20});
  CHECK(call(product, adjust_stock{-5, 901}).on_hand == 15);
  CHECK(call(product, adjust_stock{-5, 901}).on_hand == 15); // a resend
  // The id is on file: a record restarted from it still knows it.
  caf::anon_send_exit(whereis(product), caf::exit_reason::kill);
  sched.run();
  REQUIRE(stats().restarts == 1);
  while (!whereis(product)) // restarted after its backoff, from the file
    REQUIRE(sched.trigger_timeout());
  sched.run();
  auto again = call(stock_of(11), adjust_stock{-5, 901});
  CHECK(again.on_hand == 15);
  CHECK(again.available == 15);
  auto other = ask(stock_of(11), adjust_stock{-4, 901});
  sched.run();
  CHECK(other->error == errc::conflict);
  CHECK(call(stock_of(11), adjust_stock{-5, 902}).on_hand == 10); // a new id applies
  persistence::entity_store reader(db_path, persistence::durability::normal);
  auto stock = persistence::read_stock(
    reader.load(static_cast<std::uint8_t>(entity_kind::stock), "11"));
  REQUIRE(stock.has_value());
  CHECK(stock->on_hand == 10);
  CHECK(stock->adjustments == std::vector<applied_adjustment>{{901, -5}, {902, -5}});
}

TEST_CASE_FIXTURE(deterministic,
                  "a stock record restarted after a crash expires its reservations unasked") {
  start("stock-restart-expiry");
  auto product = stock_of(9);
  call(product, set_stock{4});
  call(product, reserve_stock{78, 3, 1000});
  caf::anon_send_exit(whereis(product), caf::exit_reason::kill);
  sched.run();
  REQUIRE(stats().restarts == 1);
  // Nothing is sent to it from here on: the restart alone must bring back
  // its expiry timer (a lazily started actor slept until asked).
  while (!whereis(product))
    REQUIRE(sched.trigger_timeout());
  sched.run();
  sched.trigger_timeouts();
  sched.run();
  persistence::entity_store reader(db_path, persistence::durability::normal);
  auto stock = persistence::read_stock(
    reader.load(static_cast<std::uint8_t>(entity_kind::stock), "9"));
  REQUIRE(stock.has_value());
  CHECK(stock->reservations.empty());
  CHECK(stock->on_hand == 4);
}
