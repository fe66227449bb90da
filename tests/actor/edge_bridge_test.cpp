// The edge's bridges (http/actor_backend.cpp) give up on an actor call by a
// deadline of their own instead of CAF's request timeout, which CAF 0.17
// never cancels: a call answered in time leaves nothing in CAF's clock, a
// call not answered gets errc::timeout once, and an answer after that is
// dropped.
#include "fixture.hpp"

#include "http/actor_backend.hpp"

#include <caf/detail/test_actor_clock.hpp>

#include <vector>

using namespace emporium;
using namespace std::chrono_literals;

namespace {

/// A router that answers an entity call only when told to: (call's index,
/// cart total) answers that call with a cart of that total. A promise is
/// delivered from within the router (outside a handler, CAF's test
/// scheduler would hand it a stale execution unit).
struct held_calls {
  std::vector<caf::typed_response_promise<cart_view>> promises;
};

caf::behavior holding_router(caf::event_based_actor* self, std::shared_ptr<held_calls> held) {
  return {
    [self, held](entity_key&, caf::message&) -> caf::typed_response_promise<cart_view> {
      held->promises.push_back(self->make_response_promise<cart_view>());
      return held->promises.back();
    },
    [held](std::int32_t index, std::int64_t total) {
      cart_view v;
      v.total = total;
      held->promises.at(static_cast<std::size_t>(index)).deliver(std::move(v));
    },
  };
}

struct answers {
  std::vector<std::pair<errc, cart_view>> got;
  http::done_fn<cart_view> fn() {
    return [this](errc e, cart_view v) { got.emplace_back(e, std::move(v)); };
  }
};


} // namespace

TEST_CASE_FIXTURE(testing::deterministic,
                  "an edge call answered in time leaves no timer; one not answered gets "
                  "errc::timeout once, and its late answer is dropped") {
  auto held = std::make_shared<held_calls>();
  auto router = sys.spawn(holding_router, held);
  auto backend = http::make_actor_backend(sys, {router, {}, {}, {}}, 100ms, 1);
  sched.run();
  auto pending_timers = [&] { return sched.clock().schedule().size(); };
  REQUIRE(pending_timers() == 0);

  // 50 calls answered at once: the answers arrive, and what CAF's clock
  // holds is the bridge's one timer (a CAF request timeout each would be 50).
  answers quick;
  for (int i = 0; i < 50; ++i)
    backend->cart("u" + std::to_string(i), {}, quick.fn());
  sched.run();
  REQUIRE(held->promises.size() == 50);
  for (int i = 0; i < 50; ++i)
    caf::anon_send(router, static_cast<std::int32_t>(i), std::int64_t{i});
  sched.run();
  REQUIRE(quick.got.size() == 50);
  CHECK(quick.got[7].first == errc::none);
  CHECK(quick.got[7].second.total == 7);
  CHECK(pending_timers() == 1);
  // The timer finds nothing late, and is not set again.
  sched.advance_time(100ms);
  sched.run();
  CHECK(quick.got.size() == 50);
  CHECK(pending_timers() == 0);

  // A call nobody answers: nothing before its deadline, errc::timeout at it.
  answers slow;
  backend->cart("late", {}, slow.fn());
  sched.run();
  REQUIRE(held->promises.size() == 51);
  sched.advance_time(99ms);
  sched.run();
  CHECK(slow.got.empty());
  sched.advance_time(1ms);
  sched.run();
  REQUIRE(slow.got.size() == 1);
  CHECK(slow.got[0].first == errc::timeout);
  // Its answer after the deadline is dropped: the caller heard once.
  caf::anon_send(router, static_cast<std::int32_t>(50), std::int64_t{50});
  sched.run();
  CHECK(slow.got.size() == 1);
  CHECK(pending_timers() == 0);

  // Two calls, the second answered: only the first times out.
  answers mixed;
  backend->cart("first", {}, mixed.fn());
  sched.run();
  sched.advance_time(30ms);
  backend->cart("second", {}, mixed.fn());
  sched.run();
  REQUIRE(held->promises.size() == 53);
  caf::anon_send(router, static_cast<std::int32_t>(52), std::int64_t{52});
  sched.run();
  REQUIRE(mixed.got.size() == 1);
  CHECK(mixed.got[0].second.total == 52);
  sched.advance_time(70ms);
  sched.run();
  REQUIRE(mixed.got.size() == 2);
  CHECK(mixed.got[1].first == errc::timeout);
  sched.advance_time(100ms);
  sched.run();
  CHECK(mixed.got.size() == 2);

  backend.reset();
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  sched.run();
}
