// The asynchronous payment actor on CAF's test scheduler: a provider whose
// calls the test answers by hand (or never), so that calls in flight, the
// queue beyond the bound, timeouts, late answers and the breaker are all
// deterministic.
#include "actors/node_metrics.hpp"
#include "actors/payment/payment_actor.hpp"
#include "fixture.hpp"

#include <vector>

namespace emporium::testing {
namespace {

/// Holds every call until the test answers it.
class held_provider final : public payment_provider {
public:
  struct held {
    charge_request req;
    bool refund = false;
    charge_done done;
    std::string status_of; // a status call: the payment id asked about
  };
  std::vector<held> calls;

  void charge(const charge_request& req, charge_done done) override {
    calls.push_back({req, false, std::move(done), {}});
  }
  void refund(const charge_request& req, charge_done done) override {
    calls.push_back({req, true, std::move(done), {}});
  }
  void status(const charge_request& req, const std::string& payment_id,
              charge_done done) override {
    calls.push_back({req, false, std::move(done), payment_id});
  }
};

struct payment_fixture : deterministic {
  std::shared_ptr<held_provider> provider = std::make_shared<held_provider>();
  std::shared_ptr<payment_health> health = std::make_shared<payment_health>();
  payment_actor payment;

  explicit payment_fixture(payment_options opts) {
    payment = spawn_payment(sys, provider, opts, health, spawn_mode::workers);
    sched.run();
  }

  ~payment_fixture() {
    caf::anon_send_exit(payment, caf::exit_reason::kill);
    // Requests still waiting end with the actor.
    sched.run();
  }

  std::shared_ptr<reply_box<payment_reply>> charge(order_id order, cents amount = 1500,
                                                    std::int64_t answer_by_ms = 0) {
    auto box = std::make_shared<reply_box<payment_reply>>();
    auto to = payment;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, caf::infinite, charge_order{order, amount, "pm_card_visa", answer_by_ms})
        .then([box](payment_reply& r) { box->value = std::move(r); },
              [box](caf::error& err) { box->error = to_errc(err); });
    });
    return box;
  }

  std::shared_ptr<reply_box<bool>> refund(order_id order, std::int64_t answer_by_ms = 0) {
    auto box = std::make_shared<reply_box<bool>>();
    auto to = payment;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, caf::infinite, refund_order{order, 1500, "pm_card_visa", answer_by_ms})
        .then([box](bool ok) { box->value = ok; },
              [box](caf::error& err) { box->error = to_errc(err); });
    });
    return box;
  }

  void answer(std::size_t i, charge_status status, std::string reason = {}) {
    REQUIRE(i < provider->calls.size());
    provider->calls[i].done({status, std::move(reason),
                             status == charge_status::succeeded
                               ? "pi_" + provider->calls[i].req.idempotency_key
                               : std::string{}});
  }

  /// Runs the simulated clock forward, 10 ms at a time.
  void advance(std::chrono::milliseconds span) {
    for (auto t = std::chrono::milliseconds(0); t < span; t += std::chrono::milliseconds(10)) {
      sched.run();
      sched.advance_time(std::chrono::milliseconds(10));
    }
    sched.run();
  }
};

/// The clock of the tests that set deadlines (`answer_by_ms`), moved by hand.
std::int64_t test_now_ms = 1'000'000;
std::int64_t test_clock() {
  return test_now_ms;
}

payment_options bounded(std::size_t in_flight) {
  payment_options o;
  o.max_in_flight = in_flight;
  o.call_timeout = std::chrono::seconds(1);
  return o;
}

payment_options on_test_clock(std::size_t in_flight) {
  auto o = bounded(in_flight);
  o.now_ms = &test_clock;
  test_now_ms = 1'000'000;
  return o;
}

} // namespace

TEST_CASE("many payment calls are in flight at once; beyond the bound they queue") {
  payment_fixture f(bounded(3));
  std::vector<std::shared_ptr<reply_box<payment_reply>>> replies;
  for (order_id o = 1; o <= 10; ++o)
    replies.push_back(f.charge(o));
  f.sched.run();
  // Three at the provider, none answered, the actor free for more work.
  CHECK(f.provider->calls.size() == 3);
  for (const auto& r : replies)
    CHECK_FALSE(r->value.has_value());
  // Each answer lets one queued call in, in arrival order.
  f.answer(1, charge_status::succeeded);
  f.sched.run();
  CHECK(f.provider->calls.size() == 4);
  CHECK(f.provider->calls[3].req.idempotency_key == "order-4");
  REQUIRE(replies[1]->value.has_value());
  CHECK(replies[1]->value->approved);
  for (std::size_t i = 0; i < 10; ++i) {
    if (i != 1)
      f.answer(i, i == 5 ? charge_status::declined : charge_status::succeeded,
               i == 5 ? "card_declined" : "");
    f.sched.run();
  }
  CHECK(f.provider->calls.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) {
    CAPTURE(i);
    REQUIRE(replies[i]->value.has_value());
    CHECK(replies[i]->value->approved == (i != 5));
  }
  CHECK(replies[5]->value->reason == "card_declined");
}

TEST_CASE("an unanswered call times out and is retried under the same key; its late answer is "
          "ignored") {
  payment_fixture f(bounded(8));
  auto reply = f.charge(42);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 1);
  f.advance(std::chrono::milliseconds(900));
  CHECK(f.provider->calls.size() == 1); // not yet: the timeout is 1 s
  f.advance(std::chrono::milliseconds(300)); // timeout, then the backoff (25..75 ms)
  REQUIRE(f.provider->calls.size() == 2);
  CHECK(f.provider->calls[1].req.idempotency_key == f.provider->calls[0].req.idempotency_key);
  CHECK_FALSE(reply->value.has_value());
  // The first attempt answers after all, too late: it does not decide.
  f.answer(0, charge_status::declined, "card_declined");
  f.sched.run();
  CHECK_FALSE(reply->value.has_value());
  f.answer(1, charge_status::succeeded);
  f.sched.run();
  REQUIRE(reply->value.has_value());
  CHECK(reply->value->approved);
  CHECK(reply->value->payment_id == "pi_order-42");
}

TEST_CASE("a call that never answers gives up after its attempts, and timeouts open the "
          "breaker") {
  auto opts = bounded(8);
  opts.max_attempts = 2;
  opts.breaker_threshold = 3;
  payment_fixture f(opts);
  auto first = f.charge(1);
  f.advance(std::chrono::seconds(3)); // two attempts, both unanswered
  CHECK(f.provider->calls.size() == 2);
  REQUIRE(first->error.has_value());
  CHECK(*first->error == errc::unavailable);
  CHECK(f.health->breaker == 0); // two failures: still closed
  auto second = f.charge(2);
  f.advance(std::chrono::milliseconds(1100)); // the third timeout opens it
  CHECK(f.health->breaker == 1);
  CHECK(f.provider->calls.size() == 3);
  // Open: calls fail fast without reaching the provider.
  auto third = f.charge(3);
  f.sched.run();
  REQUIRE(third->error.has_value());
  CHECK(*third->error == errc::unavailable);
  CHECK(f.provider->calls.size() == 3);
  f.advance(std::chrono::seconds(2)); // the second call's retry is refused too
  REQUIRE(second->error.has_value());
  CHECK(*second->error == errc::unavailable);
}

TEST_CASE("a transient answer is retried with the same key; a refund is a call like any other") {
  payment_fixture f(bounded(8));
  auto reply = f.charge(7);
  f.sched.run();
  f.answer(0, charge_status::transient, "network_error");
  f.advance(std::chrono::milliseconds(200));
  REQUIRE(f.provider->calls.size() == 2);
  CHECK(f.provider->calls[1].req.idempotency_key == "order-7");
  f.answer(1, charge_status::succeeded);
  f.sched.run();
  REQUIRE(reply->value.has_value());
  CHECK(reply->value->approved);

  auto refunded = std::make_shared<std::optional<bool>>();
  auto to = f.payment;
  f.sys.spawn([=](caf::event_based_actor* self) {
    self->request(to, caf::infinite, refund_order{7, 1250, "pm_card_visa"}).then([refunded](bool ok) {
      *refunded = ok;
    });
  });
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 3);
  CHECK(f.provider->calls[2].refund);
  CHECK(f.provider->calls[2].req.idempotency_key == "order-7");
  // The charge's amount and method go along: a provider may replay it.
  CHECK(f.provider->calls[2].req.amount == 1250);
  CHECK(f.provider->calls[2].req.payment_method == "pm_card_visa");
  f.answer(2, charge_status::succeeded);
  f.sched.run();
  REQUIRE(refunded->has_value());
  CHECK(**refunded);
}


TEST_CASE("a card asking for authentication is an answer with its secret; the check asks the "
          "provider about that intent") {
  payment_fixture f(bounded(4));
  auto charged = f.charge(31);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 1);
  f.provider->calls[0].done(
    {charge_status::requires_action, "authentication_required", "pi_31", "pi_31_secret_a"});
  f.sched.run();
  REQUIRE(charged->value.has_value());
  CHECK_FALSE(charged->value->approved);
  CHECK(charged->value->reason == "authentication_required");
  CHECK(charged->value->payment_id == "pi_31");
  CHECK(charged->value->action_secret == "pi_31_secret_a");

  auto checked = std::make_shared<reply_box<payment_reply>>();
  auto to = f.payment;
  f.sys.spawn([=](caf::event_based_actor* self) {
    self->request(to, caf::infinite, check_payment{31, 1500, "pm_card_visa", "pi_31"})
      .then([checked](payment_reply& r) { checked->value = std::move(r); },
            [checked](caf::error& err) { checked->error = to_errc(err); });
  });
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 2);
  CHECK(f.provider->calls[1].status_of == "pi_31");
  CHECK(f.provider->calls[1].req.idempotency_key == "order-31");
  // A transient answer is retried like a charge's, then the verdict comes.
  f.provider->calls[1].done({charge_status::transient, "http 503", {}, {}});
  for (int i = 0; i < 100 && f.provider->calls.size() < 3; ++i)
    f.advance(std::chrono::milliseconds(10));
  REQUIRE(f.provider->calls.size() == 3);
  CHECK(f.provider->calls[2].status_of == "pi_31");
  f.provider->calls[2].done({charge_status::succeeded, "", "pi_31", {}});
  f.sched.run();
  REQUIRE(checked->value.has_value());
  CHECK(checked->value->approved);
  CHECK(checked->value->action_secret.empty());
}

TEST_CASE("a request asked again while its call is open joins it: one provider call answers "
          "every asker") {
  payment_fixture f(on_test_clock(1));
  auto joined = node_metrics::get().payments_joined->value();
  auto busy = f.charge(1); // holds the only place
  auto first = f.refund(5);
  auto again = f.refund(5);    // a compensation asking again after its timeout
  auto charge_5 = f.charge(5); // another question about the order: not joined
  f.sched.run();
  CHECK(f.provider->calls.size() == 1);
  CHECK(node_metrics::get().payments_joined->value() == joined + 1);
  f.answer(0, charge_status::succeeded);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 2);
  CHECK(f.provider->calls[1].refund);
  CHECK(f.provider->calls[1].req.idempotency_key == "order-5");
  f.answer(1, charge_status::succeeded);
  f.sched.run();
  REQUIRE(first->value.has_value());
  REQUIRE(again->value.has_value());
  CHECK((*first->value && *again->value));
  // The charge of order 5 was its own call, after the refund.
  REQUIRE(f.provider->calls.size() == 3);
  CHECK_FALSE(f.provider->calls[2].refund);
  f.answer(2, charge_status::succeeded);
  f.sched.run();
  REQUIRE(charge_5->value.has_value());
  // Once answered, the call is closed: asking again is a new call.
  auto later = f.refund(5);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 4);
  CHECK(f.provider->calls[3].refund);
  CHECK_FALSE(later->value.has_value());
  CHECK(node_metrics::get().payments_joined->value() == joined + 1);
}

TEST_CASE("a call keeps its 16 latest askers; an older one is answered unavailable") {
  payment_fixture f(on_test_clock(1));
  auto busy = f.charge(1);
  std::vector<std::shared_ptr<reply_box<bool>>> asks;
  for (int i = 0; i < 20; ++i)
    asks.push_back(f.refund(8));
  f.sched.run();
  CHECK(f.provider->calls.size() == 1);
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    REQUIRE(asks[i]->error.has_value());
    CHECK(*asks[i]->error == errc::unavailable);
  }
  CHECK_FALSE(asks[4]->error.has_value());
  f.answer(0, charge_status::succeeded);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 2);
  f.answer(1, charge_status::succeeded);
  f.sched.run();
  for (int i = 4; i < 20; ++i) {
    CAPTURE(i);
    REQUIRE(asks[i]->value.has_value());
    CHECK(*asks[i]->value);
  }
}

TEST_CASE("a call whose askers have all stopped waiting is not sent; a joined asker keeps it "
          "alive") {
  payment_fixture f(on_test_clock(1));
  auto expired = node_metrics::get().payments_expired->value();
  auto t0 = test_now_ms;
  // Asked with its deadline already past: answered at once, never sent.
  auto late = f.charge(9, 1500, t0 - 1);
  f.sched.run();
  CHECK(f.provider->calls.empty());
  REQUIRE(late->error.has_value());
  CHECK(*late->error == errc::unavailable);
  CHECK(node_metrics::get().payments_expired->value() == expired + 1);

  auto busy = f.charge(1);
  auto gone = f.charge(2, 1500, t0 + 500);      // its asker leaves while it waits
  auto kept = f.refund(3, t0 + 500);            // ... but this one is asked again:
  auto kept_again = f.refund(3, t0 + 60'000);   // the later deadline holds
  auto patient = f.refund(4);                   // no deadline
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 1);
  test_now_ms = t0 + 600;
  f.answer(0, charge_status::succeeded);
  f.sched.run();
  // Order 2's charge ended unsent; order 3's refund took the place.
  REQUIRE(gone->error.has_value());
  CHECK(*gone->error == errc::unavailable);
  CHECK(node_metrics::get().payments_expired->value() == expired + 2);
  REQUIRE(f.provider->calls.size() == 2);
  CHECK(f.provider->calls[1].refund);
  CHECK(f.provider->calls[1].req.idempotency_key == "order-3");
  f.answer(1, charge_status::succeeded);
  f.sched.run();
  REQUIRE(kept->value.has_value());
  REQUIRE(kept_again->value.has_value());
  CHECK((*kept->value && *kept_again->value));
  test_now_ms = t0 + 3'600'000;
  REQUIRE(f.provider->calls.size() == 3);
  CHECK(f.provider->calls[2].req.idempotency_key == "order-4");
  f.answer(2, charge_status::succeeded);
  f.sched.run();
  REQUIRE(patient->value.has_value());
  CHECK(node_metrics::get().payments_expired->value() == expired + 2);
}

TEST_CASE("a retry that would start after every asker has left is not made") {
  auto opts = on_test_clock(4);
  opts.backoff_base_ms = 2'000; // the first retry waits 1..3 s
  payment_fixture f(opts);
  auto expired = node_metrics::get().payments_expired->value();
  auto retries = node_metrics::get().provider_retries->value();
  auto reply = f.charge(12, 1500, test_now_ms + 900);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 1);
  f.answer(0, charge_status::transient, "network_error");
  f.sched.run();
  REQUIRE(reply->error.has_value());
  CHECK(*reply->error == errc::unavailable);
  CHECK(node_metrics::get().payments_expired->value() == expired + 1);
  CHECK(node_metrics::get().provider_retries->value() == retries);
  f.advance(std::chrono::seconds(4));
  CHECK(f.provider->calls.size() == 1);
  // The same answer with time to spare is retried, as before.
  auto patient = f.charge(13, 1500, test_now_ms + 60'000);
  f.sched.run();
  REQUIRE(f.provider->calls.size() == 2);
  f.answer(1, charge_status::transient, "network_error");
  f.advance(std::chrono::seconds(4));
  REQUIRE(f.provider->calls.size() == 3);
  CHECK(f.provider->calls[2].req.idempotency_key == "order-13");
}
} // namespace emporium::testing
