// The order index on the deterministic scheduler: ids in the shard's
// residue class, placements written by the shard's store (with their event),
// Idempotency-Key answers replayed, and a retry racing the first placement
// waiting for its answer instead of placing twice.
#include "actors/order/order_index_actor.hpp"
#include "persistence/snapshot.hpp"
#include "fixture.hpp"
#include "persistence/order_store.hpp"

#include <nlohmann/json.hpp>

using namespace emporium;
using namespace emporium::testing;

namespace {

struct index_fixture : deterministic {
  std::vector<order_event> published;
  order_index_actor index;

  void open(const std::string& name, bool fresh = true) {
    if (fresh)
      db_path = fresh_db(name);
    persistence::prepare_database(db_path, persistence::durability::normal);
    store = spawn_store(sys, db_path, persistence::durability::normal, spawn_mode::workers,
                        [this](const order_event& row) { published.push_back(row); });
    // The index starts each saga through this directory; with no stock the
    // sagas end Cancelled (out_of_stock), which shows they were started.
    directory = spawn_directory(sys, {}, {store, {}, {}, {}, {}});
    directories.push_back(directory);
    index = spawn_order_index(sys, db_path, persistence::durability::normal, store, directory,
                              {3, 12}, spawn_mode::workers);
    sched.run();
  }

  ~index_fixture() {
    caf::anon_send_exit(index, caf::exit_reason::kill);
    sched.run();
  }

  static order_state draft() {
    order_state o;
    o.user = "buyer";
    o.lines = {{1, 2, 500, "A"}};
    o.total = order_total(o.lines);
    o.payment_method = "pm_card_visa";
    return o;
  }

  /// Places the draft; without one, only looks the key up (as the edge
  /// does first for a retried key).
  std::shared_ptr<reply_box<std::string>> place(const std::string& key, const std::string& hash,
                                                std::optional<order_state> body = draft()) {
    auto box = std::make_shared<reply_box<std::string>>();
    auto target = index;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(target, caf::infinite,
                    place_order{"buyer", key, hash, !body, body.value_or(order_state{}),
                                R"({"message":"Order placed"})"})
        .then([box](std::string& answer) { box->value = std::move(answer); },
              [box](caf::error& err) { box->error = to_errc(err); });
    });
    return box;
  }

  static std::int64_t id_of(const std::string& answer) {
    return nlohmann::json::parse(answer).at("orderId").get<std::int64_t>();
  }

  /// Published events with `status`, in publication order.
  std::vector<order_event> events(const std::string& status) {
    std::vector<order_event> out;
    for (const auto& row : published)
      if (status_name(row.status) == status)
        out.push_back(row);
    return out;
  }

  std::vector<order_state> history() {
    persistence::order_store reads(db_path, persistence::durability::normal);
    return reads.history("buyer", 10);
  }
};

} // namespace

TEST_CASE_FIXTURE(index_fixture, "placements get ids of the shard's class and their event") {
  open("index-ids");
  auto a = place("", "h");
  auto b = place("", "h");
  sched.run();
  REQUIRE(a->value);
  REQUIRE(b->value);
  CHECK(id_of(*a->value) == 3);
  CHECK(id_of(*b->value) == 15);
  CHECK(history().size() == 2);
  auto submitted = events("Submitted");
  REQUIRE(submitted.size() == 2);
  CHECK(submitted[0].order == 3);
  CHECK(submitted[1].seq > submitted[0].seq);
  CHECK(events("Cancelled").size() == 2); // both sagas ran (no stock)
}

TEST_CASE_FIXTURE(index_fixture, "ids continue after a restart") {
  open("index-restart");
  place("", "h");
  sched.run();
  caf::anon_send_exit(index, caf::exit_reason::kill);
  sched.run();
  index = spawn_order_index(sys, db_path, persistence::durability::normal, store, directory,
                            {3, 12}, spawn_mode::workers);
  auto next = place("", "h");
  sched.run();
  REQUIRE(next->value);
  CHECK(id_of(*next->value) == 15);
}

TEST_CASE_FIXTURE(index_fixture, "a retried key answers the original; another body is 409") {
  open("index-key");
  auto first = place("k1", "h1");
  sched.run();
  REQUIRE(first->value);
  auto again = place("k1", "h1", std::nullopt); // a lookup, as the edge sends it first
  auto other = place("k1", "h2");
  sched.run();
  REQUIRE(again->value);
  CHECK(*again->value == *first->value);
  REQUIRE(other->error);
  CHECK(*other->error == errc::conflict);
  CHECK(history().size() == 1);
}

TEST_CASE_FIXTURE(index_fixture, "a retry racing the first placement waits for its answer") {
  open("index-race");
  // Both requests are in the index's mailbox before the store has written
  // the first one: the second must not place a second order.
  auto first = place("k1", "h1");
  auto racing = place("k1", "h1");
  auto conflicting = place("k1", "h2");
  sched.run();
  REQUIRE(first->value);
  REQUIRE(racing->value);
  CHECK(*racing->value == *first->value);
  REQUIRE(conflicting->error);
  CHECK(*conflicting->error == errc::conflict);
  CHECK(history().size() == 1);
  CHECK(events("Submitted").size() == 1);
}
