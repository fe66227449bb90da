// The directory: activation, passivation (idle and cap), supervision.
#include "fixture.hpp"

using namespace emporium;
using namespace emporium::testing;

namespace {
cart_view add_one(deterministic& t, const std::string& user, product_id p) {
  return t.call(cart_of(user), add_to_cart{p, 1, 100, "Item"});
}
} // namespace

TEST_CASE_FIXTURE(deterministic, "a crashed entity restarts with its persisted state") {
  start("dir-crash");
  add_one(*this, "dana", 1);
  add_one(*this, "dana", 2);
  auto first = whereis(cart_of("dana"));
  REQUIRE(first);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  sched.run(); // the directory sees the crash and schedules a restart
  CHECK(stats().restarts == 1);
  // Messages sent while it restarts wait and are delivered afterwards.
  auto parked = ask(cart_of("dana"), add_to_cart{3, 1, 100, "Item"});
  sched.run();
  CHECK_FALSE(parked->value.has_value());
  sched.trigger_timeouts(); // backoff elapses
  sched.run();
  REQUIRE(parked->value.has_value());
  CHECK(parked->value->lines.size() == 3);
  auto second = whereis(cart_of("dana"));
  CHECK(second);
  CHECK(second != first);
}

TEST_CASE_FIXTURE(deterministic, "repeated crashes back off exponentially") {
  directory_options opts;
  opts.backoff_base = std::chrono::milliseconds(100);
  opts.backoff_max = std::chrono::milliseconds(1000);
  start("dir-backoff", opts);
  add_one(*this, "erin", 1);
  auto t0 = sched.clock().current_time;
  std::vector<caf::timespan> delays;
  for (int i = 0; i < 5; ++i) {
    auto a = whereis(cart_of("erin"));
    REQUIRE(a);
    caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
    auto before = sched.clock().current_time;
    // Wake the entity by asking for it; it answers only after its backoff.
    auto box = ask(cart_of("erin"), get_cart{});
    sched.run();
    while (!box->value) {
      REQUIRE(sched.trigger_timeout());
      sched.run();
    }
    delays.push_back(sched.clock().current_time - before);
  }
  (void)t0;
  REQUIRE(delays.size() == 5);
  CHECK(delays[0] <= std::chrono::milliseconds(100));
  CHECK(delays[1] <= std::chrono::milliseconds(200));
  CHECK(delays[2] > delays[1]);
  CHECK(delays[4] <= std::chrono::milliseconds(1000));
}

TEST_CASE_FIXTURE(deterministic,
                  "a message for an entity whose restart is far off is refused at once") {
  directory_options opts;
  opts.backoff_base = std::chrono::milliseconds(800);
  opts.backoff_max = std::chrono::seconds(10);
  start("dir-far-restart", opts);
  add_one(*this, "fay", 1);
  // First crash: restart in 800 ms, within the second a caller waits.
  caf::anon_send_exit(whereis(cart_of("fay")), caf::exit_reason::kill);
  sched.run();
  auto waits = ask(cart_of("fay"), get_cart{});
  sched.run();
  CHECK_FALSE(waits->value.has_value());
  CHECK_FALSE(waits->error.has_value());
  // Crashed again before its calm period: restart in 1.6 s. What waited
  // is answered now, and so is what comes meanwhile: unavailable (503).
  while (!waits->value) {
    REQUIRE(sched.trigger_timeout());
    sched.run();
  }
  auto parked = ask(cart_of("fay"), add_to_cart{2, 1, 100, "Item"});
  caf::anon_send_exit(whereis(cart_of("fay")), caf::exit_reason::kill);
  sched.run();
  auto refused = ask(cart_of("fay"), get_cart{});
  sched.run();
  CHECK(refused->error == errc::unavailable);
  // Once it is back, it serves its durable state.
  while (!whereis(cart_of("fay")))
    REQUIRE(sched.trigger_timeout());
  auto back = ask(cart_of("fay"), get_cart{});
  sched.run();
  REQUIRE(back->value.has_value());
  CHECK((parked->value || parked->error)); // answered either way, never dropped
  CHECK(back->value->lines.size() == (parked->value ? 2u : 1u));
  CHECK(stats().restarts == 2);
}

TEST_CASE_FIXTURE(deterministic, "a passivated entity comes back with its state") {
  directory_options opts;
  opts.idle_timeout = std::chrono::seconds(10);
  start("dir-idle", opts);
  add_one(*this, "fay", 1);
  add_one(*this, "fay", 2);
  CHECK(stats().resident == 1);
  sched.advance_time(std::chrono::seconds(20)); // sweeps run, fay is idle
  sched.run();
  auto s = stats();
  CHECK(s.resident == 0);
  CHECK(s.passivations == 1);
  CHECK_FALSE(whereis(cart_of("fay")));
  auto back = call(cart_of("fay"), get_cart{});
  CHECK(back.lines.size() == 2);
  CHECK(stats().activations == 2);
}

TEST_CASE_FIXTURE(deterministic, "the cap passivates the least recently used entity") {
  directory_options opts;
  opts.max_resident = 2;
  start("dir-cap", opts);
  add_one(*this, "a", 1);
  add_one(*this, "b", 1);
  add_one(*this, "a", 2); // a is now more recent than b
  add_one(*this, "c", 1); // over the cap: b goes
  CHECK(whereis(cart_of("a")));
  CHECK_FALSE(whereis(cart_of("b")));
  CHECK(whereis(cart_of("c")));
  CHECK(stats().resident == 2);
  CHECK(call(cart_of("b"), get_cart{}).lines.size() == 1);
  CHECK_FALSE(whereis(cart_of("a"))); // bringing b back pushed out a (least recent now)
}

TEST_CASE_FIXTURE(deterministic, "recency follows every use: from the middle, the end and the front") {
  directory_options opts;
  opts.max_resident = 3;
  start("dir-recency", opts);
  auto resident = [&] {
    std::string out;
    for (const char* u : {"a", "b", "c", "d", "e"})
      if (whereis(cart_of(u)))
        out += u;
    return out;
  };
  add_one(*this, "a", 1);
  add_one(*this, "b", 1);
  add_one(*this, "c", 1); // newest first: c b a
  add_one(*this, "b", 2); // the middle: b c a
  add_one(*this, "d", 1); // a goes: d b c
  CHECK(resident() == "bcd");
  add_one(*this, "c", 2); // the oldest: c d b
  add_one(*this, "e", 1); // b goes: e c d
  CHECK(resident() == "cde");
  add_one(*this, "e", 2); // already the newest: e c d
  add_one(*this, "a", 2); // d goes: a e c
  CHECK(resident() == "ace");
  CHECK(stats().resident == 3);
  CHECK(call(cart_of("d"), get_cart{}).lines.size() == 1); // c goes: d a e
  CHECK(resident() == "ade");
}

TEST_CASE_FIXTURE(deterministic, "a stock record holding reservations is not passivated") {
  directory_options opts;
  opts.idle_timeout = std::chrono::seconds(10);
  start("dir-pin", opts);
  call(stock_of(1), set_stock{3});
  call(stock_of(1), reserve_stock{1, 1, 3'600'000});
  call(stock_of(2), set_stock{3});
  sched.advance_time(std::chrono::seconds(20));
  sched.run();
  CHECK(whereis(stock_of(1)));
  CHECK_FALSE(whereis(stock_of(2)));
}

TEST_CASE_FIXTURE(deterministic, "a new directory (node restart) recovers state from SQLite") {
  start("dir-recover");
  add_one(*this, "gus", 7);
  call(stock_of(7), set_stock{12});
  call(stock_of(7), reserve_stock{5, 2, 3'600'000});
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  sched.run();
  restart_directory();
  CHECK(call(cart_of("gus"), get_cart{}).lines.at(0).product == 7);
  auto v = call(stock_of(7), get_stock{});
  CHECK(v.on_hand == 12);
  CHECK(v.reserved == 2);
}

TEST_CASE_FIXTURE(deterministic, "invalid entity keys are refused") {
  start("dir-keys");
  auto bad = ask(entity_key{entity_kind::stock, "abc"}, get_stock{});
  auto empty = ask(cart_of(""), get_cart{});
  sched.run();
  CHECK(bad->error == errc::invalid_argument);
  CHECK(empty->error == errc::invalid_argument);
  CHECK(stats().resident == 0);
}

namespace {
struct boom_state {
  entity_runtime rt;
  static inline const char* name = "boom";
};

/// An entity whose first incarnation throws from its handler; a restarted
/// one answers. Stands in for a bug, since real entities do not throw.
caf::behavior throwing_entity(caf::stateful_actor<boom_state>* self, entity_ref key,
                              std::shared_ptr<int> incarnations) {
  self->state.rt.key = std::move(key);
  crash_on_exception(self);
  int incarnation = ++*incarnations;
  return {
    [incarnation](const get_cart&) -> std::int32_t {
      if (incarnation == 1)
        throw std::runtime_error("bug in a handler");
      return incarnation;
    },
    [self](atoms::passivate) { self->quit(); },
  };
}
} // namespace

TEST_CASE_FIXTURE(deterministic, "an exception inside an entity is its crash: restarted, node goes on") {
  auto incarnations = std::make_shared<int>(0);
  directory_options opts;
  opts.spawn = [incarnations](caf::actor_system& sys, const entity_ref& key,
                              const shared_services&, const caf::message&) {
    if (key.id == "boom")
      return sys.spawn(throwing_entity, key, incarnations);
    return spawn_entity(sys, key, std::make_shared<const entity_services>(), caf::message{});
  };
  start("dir-throw", opts);
  auto first = ask_raw<std::int32_t>(cart_of("boom"), get_cart{});
  sched.run();
  CHECK_FALSE(first->value.has_value());
  REQUIRE(first->error.has_value()); // the caller learns, it is not left waiting
  CHECK(stats().restarts == 1);
  // Other entities on the same directory were never touched.
  CHECK(add_one(*this, "fay", 7).lines.size() == 1);
  auto second = ask_raw<std::int32_t>(cart_of("boom"), get_cart{});
  sched.run();
  while (!second->value && !second->error) {
    REQUIRE(sched.trigger_timeout()); // the restart backoff
    sched.run();
  }
  REQUIRE(second->value.has_value());
  CHECK(*second->value == 2);
  CHECK(*incarnations == 2);
}

TEST_CASE("a slot's key (entity_ref) hashes and compares like the entity_key a message carries") {
  const entity_key key{entity_kind::cart, "9f86d081884c7d659a2feaa0c55ad015"};
  const entity_ref ref{key};
  CHECK(ref.id.view() == key.id);
  CHECK(entity_ref_hash{}(ref) == entity_ref_hash{}(key));
  CHECK(entity_ref_equal{}(ref, key));
  CHECK(entity_ref_equal{}(key, ref));
  CHECK_FALSE(entity_ref_equal{}(ref, entity_key{entity_kind::stock, key.id}));
  CHECK_FALSE(entity_ref_equal{}(ref, entity_key{entity_kind::cart, "9f86d081884c7d659a2feaa0c55ad016"}));
  CHECK(ref.key() == key);
}

TEST_CASE_FIXTURE(deterministic, "a directory asked to stop waits for its entities; asked again, "
                                 "it kills those that never stop and ends") {
  auto stubborn_ended = std::make_shared<bool>(false);
  directory_options opts;
  opts.spawn = [stubborn_ended](caf::actor_system& sys, const entity_ref& key,
                                const shared_services&, const caf::message&) {
    return key.id == "stubborn"
             ? spawn_never_stopping(sys, stubborn_ended)
             : spawn_entity(sys, key, std::make_shared<const entity_services>(), caf::message{});
  };
  start("dir-force", opts);
  auto reply = ask(cart_of("stubborn"), get_cart{});
  CHECK(add_one(*this, "gus", 3).lines.size() == 1);
  sched.run();
  REQUIRE(reply->value.has_value());
  auto ended = std::make_shared<bool>(false);
  directory->attach_functor([ended](const caf::error&) { *ended = true; });
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK_FALSE(*ended); // the stubborn one still runs: the drain waits for it
  CHECK_FALSE(*stubborn_ended);
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown); // the router's deadline
  sched.run();
  CHECK(*stubborn_ended);
  CHECK(*ended);
}
