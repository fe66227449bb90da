// Actors that share one behaviour (actors/shared_behavior.hpp): each
// handler must act on the actor it runs for, under the test scheduler and
// on CAF's worker threads alike.
#include "actors/shared_behavior.hpp"
#include "fixture.hpp"

#include <map>
#include <thread>

using namespace emporium;
using namespace emporium::testing;

namespace {

struct tally_state {
  int count = 0;
};

caf::behavior tally_handlers();

class tally final : public shared_behavior_actor<tally_state> {
public:
  using shared_behavior_actor::shared_behavior_actor;
  caf::behavior make_behavior() override {
    static const caf::behavior handlers = tally_handlers();
    return handlers;
  }
};

caf::behavior tally_handlers() {
  return {
    [](int add) { return tally::running()->state.count += add; },
  };
}

} // namespace

TEST_CASE("a handler outside any actor's run is refused, not pointed at a stranger") {
  CHECK_THROWS_AS(tally::running(), std::logic_error);
}

TEST_CASE_FIXTURE(deterministic, "actors sharing one behaviour each keep their own state") {
  auto a = sys.spawn<tally>();
  auto b = sys.spawn<tally>();
  std::map<caf::actor_id, std::vector<int>> answers; // in the order each actor answered
  auto asker = sys.spawn([&](caf::event_based_actor* self) {
    for (const auto& [who, add] : {std::pair{a, 1}, {b, 10}, {a, 2}, {b, 20}, {a, 3}})
      self->request(who, caf::infinite, add).then([&, id = who.id()](int n) {
        answers[id].push_back(n);
      });
  });
  sched.run();
  CHECK(answers[a.id()] == std::vector<int>{1, 3, 6});
  CHECK(answers[b.id()] == std::vector<int>{10, 30});
  CHECK_THROWS_AS(tally::running(), std::logic_error); // unset after each run
  for (const auto& t : {a, b, asker})
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_CASE("actors sharing one behaviour on CAF's worker threads each keep their own state") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 4);
  caf::actor_system sys{cfg};
  constexpr int actors = 64, adds = 500;
  std::vector<caf::actor> tallies;
  for (int i = 0; i < actors; ++i)
    tallies.push_back(sys.spawn<tally>());
  // Two threads, each sending every actor half of its adds, interleaved.
  auto send_half = [&] {
    caf::scoped_actor self{sys};
    for (int k = 0; k < adds / 2; ++k)
      for (int i = 0; i < actors; ++i)
        self->send(tallies[static_cast<std::size_t>(i)], i + 1);
  };
  std::thread one(send_half), two(send_half);
  one.join();
  two.join();
  caf::scoped_actor self{sys};
  for (int i = 0; i < actors; ++i) {
    int total = -1;
    self->request(tallies[static_cast<std::size_t>(i)], caf::infinite, 0)
      .receive([&](int n) { total = n; }, [](caf::error&) {});
    CHECK(total == (i + 1) * adds); // its own adds, every one of them
  }
  for (const auto& t : tallies)
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
}

namespace {

struct asker_state {
  caf::actor target;
  std::vector<int> answers;
};

caf::behavior asker_handlers();

class asker final : public shared_behavior_actor<asker_state> {
public:
  asker(caf::actor_config& cfg, caf::actor target) : shared_behavior_actor(cfg) {
    state.target = std::move(target);
  }
  caf::behavior make_behavior() override {
    static const caf::behavior handlers = asker_handlers();
    return handlers;
  }
};

caf::behavior asker_handlers() {
  return {
    [](int add) {
      auto* self = asker::running();
      self->request(self->state.target, caf::infinite, add).then([self](int n) {
        self->state.answers.push_back(n);
      });
    },
  };
}

} // namespace

TEST_CASE_FIXTURE(deterministic, "an actor that awaits no response frees CAF's table of them") {
  auto counter = sys.spawn<tally>();
  auto handle = sys.spawn<asker>(counter);
  auto* self = static_cast<asker*>(caf::actor_cast<caf::abstract_actor*>(handle));
  sched.run(); // both started
  caf::anon_send(handle, 1);
  caf::anon_send(handle, 2);
  REQUIRE(sched.prioritize(handle));
  sched.run_once(); // the asker alone: a request out, no answer yet
  CHECK(self->response_table_capacity() > 0);
  sched.run();
  CHECK(self->state.answers == std::vector<int>{1, 3});
  CHECK(self->response_table_capacity() == 0); // an idle entity keeps none
  caf::anon_send(handle, 4); // and asks again as before
  sched.run();
  CHECK(self->state.answers == std::vector<int>{1, 3, 7});
  CHECK(self->response_table_capacity() == 0);
  for (const auto& t : {counter, handle})
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  sched.run();
}
