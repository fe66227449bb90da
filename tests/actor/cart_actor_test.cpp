// The cart actor through the directory, on the deterministic scheduler.
#include "fixture.hpp"
#include "persistence/entity_store.hpp"

using namespace emporium;
using namespace emporium::testing;

TEST_CASE_FIXTURE(deterministic, "cart operations answer the whole cart") {
  start("cart-ops");
  auto alice = cart_of("alice");
  auto v = call(alice, add_to_cart{1, 2, 1500, "Kettle"});
  CHECK(v.total == 3000);
  v = call(alice, add_to_cart{2, 1, 250, "Tea"});
  CHECK(v.lines.size() == 2);
  CHECK(v.total == 3250);
  v = call(alice, add_to_cart{1, -1, 9999, "Kettle"});
  CHECK(v.lines[0].quantity == 1);
  CHECK(v.lines[0].unit_price == 1500);
  v = call(alice, set_cart_line{2, 4, 250, "Tea", 100});
  CHECK(v.total == 1500 + 1000);
  v = call(alice, remove_from_cart{1});
  CHECK(v.lines.size() == 1);
  auto missing = ask(alice, remove_from_cart{1});
  sched.run();
  CHECK(missing->error == errc::not_found);
  v = call(alice, clear_cart{});
  CHECK(v.lines.empty());
  CHECK(v.total == 0);
  // Another user's cart is a different entity.
  v = call(cart_of("bob"), get_cart{});
  CHECK(v.lines.empty());
}

TEST_CASE_FIXTURE(deterministic, "a refused change answers an error and changes nothing") {
  start("cart-refused");
  auto alice = cart_of("alice");
  call(alice, add_to_cart{1, 1, 100, "A"});
  auto bad = ask(alice, add_to_cart{3, -2, 100, "C"});
  auto huge = ask(alice, add_to_cart{1, max_line_quantity, 100, "A"});
  sched.run();
  CHECK(bad->error == errc::invalid_argument);
  CHECK(huge->error == errc::quantity_out_of_range);
  auto short_stock = ask(alice, add_to_cart{1, 5, 100, "A", 5});
  sched.run();
  CHECK(short_stock->error == errc::insufficient_stock); // 1 + 5 > 5 available
  CHECK(call(alice, get_cart{}).total == 100);
}

TEST_CASE_FIXTURE(deterministic, "acknowledged cart changes are in the database") {
  start("cart-durable");
  call(cart_of("carol"), add_to_cart{4, 3, 700, "Pan"});
  persistence::entity_store reader(db_path, persistence::durability::normal);
  auto found = reader.load(static_cast<std::uint8_t>(entity_kind::cart), "carol");
  REQUIRE_FALSE(found.empty());
  auto cart = persistence::read_cart(found);
  REQUIRE(cart.has_value());
  REQUIRE(cart->lines.size() == 1);
  CHECK(cart->lines[0].name == "Pan");
  CHECK(cart->lines[0].quantity == 3);
}

TEST_CASE_FIXTURE(deterministic, "a change sent twice with its operation id is applied once") {
  start("cart-once");
  auto dan = cart_of("dan");
  auto v = call(dan, add_to_cart{1, 2, 1500, "Kettle", max_line_quantity, 41});
  CHECK(v.lines[0].quantity == 2);
  v = call(dan, add_to_cart{1, 2, 1500, "Kettle", max_line_quantity, 41}); // resent
  CHECK(v.lines[0].quantity == 2);
  v = call(dan, add_to_cart{1, 2, 1500, "Kettle", max_line_quantity, 42}); // a new change
  CHECK(v.lines[0].quantity == 4);
  v = call(dan, remove_from_cart{1, 43});
  CHECK(v.lines.empty());
  v = call(dan, remove_from_cart{1, 43}); // resent: answers the cart, no not_found
  CHECK(v.lines.empty());
  // Without an id every change applies (the saga's own messages).
  call(dan, add_to_cart{2, 1, 250, "Tea"});
  CHECK(call(dan, add_to_cart{2, 1, 250, "Tea"}).lines[0].quantity == 2);
  // The ids are durable: a new owner of the shard knows them.
  persistence::entity_store reader(db_path, persistence::durability::normal);
  auto cart = persistence::read_cart(
    reader.load(static_cast<std::uint8_t>(entity_kind::cart), "dan"));
  REQUIRE(cart.has_value());
  CHECK(cart->ops == std::vector<cart_op>{41, 42, 43});
}

namespace {

/// A store that holds every save until told `flush`, which answers the
/// oldest held save: the first with storage_failure, every later one as
/// written. Loads find nothing.
using scripted_store = store_actor::extend<caf::reacts_to<atoms::flush>>;

struct scripted_store_state {
  std::vector<caf::response_promise> held;
  int answered = 0;
};

scripted_store::behavior_type
failing_first_store(scripted_store::stateful_pointer<scripted_store_state> self) {
  return {
    [](const load_state&) { return persistence::snapshot{}; },
    [self](save_state&) -> caf::result<void> {
      auto rp = self->make_response_promise();
      self->state.held.push_back(rp);
      return rp;
    },
    [](const was_sold&) { return false; },
    [](const sweep_retention&) { return persistence::retention_swept{}; },
    [self](atoms::flush) {
      auto& st = self->state;
      if (st.held.empty())
        return;
      auto rp = st.held.front();
      st.held.erase(st.held.begin());
      if (st.answered++ == 0)
        rp.deliver(make_error(errc::storage_failure));
      else
        rp.deliver(caf::unit);
    },
  };
}

} // namespace

TEST_CASE_FIXTURE(deterministic,
                  "after a failed write every caller hears an answer and nothing is served") {
  auto stand_in = sys.spawn(failing_first_store);
  store = caf::actor_cast<store_actor>(stand_in);
  restart_directory();
  auto erin = cart_of("erin");
  auto first = ask(erin, add_to_cart{1, 1, 100, "A"});
  auto second = ask(erin, add_to_cart{2, 1, 200, "B"});
  sched.run(); // both saves are held by the store
  CHECK_FALSE(first->value.has_value());
  CHECK_FALSE(second->value.has_value());
  caf::anon_send(stand_in, atoms::flush::value); // the first save fails
  sched.run();
  CHECK(first->error == errc::storage_failure);
  CHECK_FALSE(second->value.has_value());
  CHECK_FALSE(second->error.has_value());
  // The cart in memory holds a change that is not on disk: neither read
  // nor changed until it is gone.
  auto read = ask(erin, get_cart{});
  auto third = ask(erin, add_to_cart{3, 1, 300, "C"});
  sched.run();
  CHECK(read->error == errc::storage_failure);
  CHECK(third->error == errc::storage_failure);
  // The write in flight is answered (it was written, with the first
  // change in its snapshot); before the fix its caller never heard.
  caf::anon_send(stand_in, atoms::flush::value);
  sched.run();
  REQUIRE(second->value.has_value());
  CHECK(second->value->total == 300);
  CHECK(stats().restarts == 1);
  // Its next incarnation serves again, from what the store has (nothing).
  sched.advance_time(std::chrono::seconds(10));
  sched.run();
  auto again = ask(erin, get_cart{});
  sched.run();
  sched.advance_time(std::chrono::seconds(10));
  sched.run();
  REQUIRE(again->value.has_value());
  CHECK(again->value->lines.empty());
}
