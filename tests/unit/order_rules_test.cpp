// The saga's transition table and the circuit breaker, without actors.
#include "domain/order_rules.hpp"
#include "domain/circuit_breaker.hpp"

#include <doctest/doctest.h>

using namespace emporium;

TEST_CASE("the transition table: every allowed edge and that terminals absorb") {
  using S = order_status;
  using E = saga_event;
  CHECK(next_status(S::submitted, E::reserved) == S::stock_reserved);
  CHECK(next_status(S::submitted, E::out_of_stock) == S::cancelled);
  CHECK(next_status(S::submitted, E::reserve_failed) == S::cancelled);
  CHECK(next_status(S::submitted, E::user_cancel) == S::cancelled);
  CHECK(next_status(S::submitted, E::cart_refused) == S::cancelled);
  CHECK_FALSE(next_status(S::stock_reserved, E::cart_refused));
  CHECK_FALSE(next_status(S::payment_authorized, E::cart_refused));
  CHECK_FALSE(next_status(S::submitted, E::authorized));
  CHECK(next_status(S::stock_reserved, E::authorized) == S::payment_authorized);
  CHECK(next_status(S::stock_reserved, E::declined) == S::cancelled);
  CHECK(next_status(S::stock_reserved, E::payment_timed_out) == S::cancelled);
  CHECK_FALSE(next_status(S::stock_reserved, E::committed));
  CHECK(next_status(S::payment_authorized, E::committed) == S::confirmed);
  CHECK(next_status(S::payment_authorized, E::commit_failed) == S::cancelled);
  CHECK(next_status(S::payment_authorized, E::user_cancel) == S::cancelled);
  CHECK_FALSE(next_status(S::payment_authorized, E::declined));
  for (auto e : {E::reserved, E::out_of_stock, E::authorized, E::declined, E::committed,
                 E::user_cancel, E::payment_timed_out, E::cart_refused,
                 E::authentication_needed}) {
    CHECK_FALSE(next_status(S::confirmed, e));
    CHECK_FALSE(next_status(S::cancelled, e));
  }
}

TEST_CASE("a card that asks for authentication waits for it, then goes on like a charge") {
  using S = order_status;
  using E = saga_event;
  CHECK(next_status(S::stock_reserved, E::authentication_needed) == S::authentication_required);
  CHECK(next_status(S::authentication_required, E::authorized) == S::payment_authorized);
  CHECK(next_status(S::authentication_required, E::declined) == S::cancelled);
  CHECK(next_status(S::authentication_required, E::payment_timed_out) == S::cancelled);
  CHECK(next_status(S::authentication_required, E::user_cancel) == S::cancelled);
  CHECK_FALSE(next_status(S::authentication_required, E::authentication_needed));
  CHECK_FALSE(next_status(S::authentication_required, E::committed));
  CHECK_FALSE(next_status(S::submitted, E::authentication_needed));
  CHECK_FALSE(next_status(S::payment_authorized, E::authentication_needed));
  // Given up while waiting: the stock goes back and the intent is voided.
  auto undo = compensation_for(S::authentication_required, E::payment_timed_out);
  CHECK(undo.release_stock);
  CHECK(undo.refund_payment);
  CHECK(awaiting_payment(S::stock_reserved));
  CHECK(awaiting_payment(S::authentication_required));
  CHECK_FALSE(awaiting_payment(S::payment_authorized));
  CHECK_FALSE(is_terminal(S::authentication_required));
  CHECK(seed_status_name(S::authentication_required) == "Pending");
  CHECK(parse_status("AuthenticationRequired") == S::authentication_required);

  // The client secret is kept only while it is needed.
  order_state o;
  CHECK(apply_event(o, E::reserved, "", 10));
  o.payment_action = "pi_1_secret_2";
  CHECK(apply_event(o, E::authentication_needed, "", 20));
  CHECK(o.payment_action == "pi_1_secret_2");
  CHECK(apply_event(o, E::authorized, "", 30));
  CHECK(o.payment_action.empty());
  CHECK(o.status == S::payment_authorized);
  order_state given_up;
  given_up.status = S::authentication_required;
  given_up.payment_action = "pi_3_secret_4";
  CHECK(apply_event(given_up, E::payment_timed_out, "payment_timeout", 40));
  CHECK(given_up.payment_action.empty());
  CHECK(given_up.reason == "payment_timeout");

  // The provider's notices act while the order waits for authentication.
  CHECK(notice_effect_of(given_up, notice_kind::charge_succeeded, "evt_1", 0) ==
        notice_effect::refund_again);
  order_state waiting;
  waiting.status = S::authentication_required;
  CHECK(notice_effect_of(waiting, notice_kind::charge_succeeded, "evt_2", 0) ==
        notice_effect::authorize);
  CHECK(notice_effect_of(waiting, notice_kind::charge_failed, "evt_3", 0) ==
        notice_effect::decline);
}

TEST_CASE("compensation: release always on cancel, refund once a charge was possible") {
  using S = order_status;
  using E = saga_event;
  auto a = compensation_for(S::submitted, E::out_of_stock);
  CHECK(a.release_stock);
  CHECK_FALSE(a.refund_payment);
  auto b = compensation_for(S::stock_reserved, E::payment_timed_out);
  CHECK(b.refund_payment);
  auto c = compensation_for(S::payment_authorized, E::commit_failed);
  CHECK(c.release_stock);
  CHECK(c.refund_payment);
  auto d = compensation_for(S::payment_authorized, E::committed);
  CHECK_FALSE(d.release_stock);
  CHECK_FALSE(d.refund_payment);
}

TEST_CASE("apply_event records the timeline and the reason; status names map to the seed's") {
  order_state o;
  CHECK(apply_event(o, saga_event::reserved, "", 10));
  CHECK(apply_event(o, saga_event::declined, "card_declined", 20));
  CHECK_FALSE(apply_event(o, saga_event::authorized, "", 30));
  CHECK(o.status == order_status::cancelled);
  CHECK(o.reason == "card_declined");
  REQUIRE(o.timeline.size() == 2);
  CHECK(o.timeline[1].at == 20);
  CHECK(seed_status_name(order_status::stock_reserved) == "Pending");
  CHECK(seed_status_name(order_status::confirmed) == "Completed");
  CHECK(seed_status_name(order_status::cancelled) == "Cancelled");
  CHECK(parse_status("PaymentAuthorized") == order_status::payment_authorized);
  CHECK(order_total({{1, 2, 150, "a"}, {2, 1, 99, "b"}}) == 399);
}

TEST_CASE("payment notices: each event once, and only where it still matters") {
  order_state o;
  o.status = order_status::stock_reserved;
  using k = notice_kind;
  CHECK(notice_effect_of(o, k::charge_succeeded, "evt_1", 0) == notice_effect::authorize);
  CHECK(notice_effect_of(o, k::charge_failed, "evt_1", 0) == notice_effect::decline);
  remember_notice(o, "evt_1");
  CHECK(notice_effect_of(o, k::charge_succeeded, "evt_1", 0) == notice_effect::duplicate);
  o.status = order_status::cancelled;
  CHECK(notice_effect_of(o, k::charge_succeeded, "evt_2", 0) == notice_effect::refund_again);
  CHECK(notice_effect_of(o, k::charge_failed, "evt_2", 0) == notice_effect::nothing);
  o.status = order_status::confirmed;
  CHECK(notice_effect_of(o, k::charge_succeeded, "evt_2", 0) == notice_effect::nothing);
  CHECK(notice_effect_of(o, k::refunded, "evt_3", 500) == notice_effect::record_refund);
  o.refunded = 500;
  CHECK(notice_effect_of(o, k::refunded, "evt_4", 500) == notice_effect::nothing);
  CHECK(notice_effect_name(notice_effect::refund_again) == "refunding");
  // Only the last 16 are kept: an order's notices are few.
  for (int i = 0; i < 20; ++i)
    remember_notice(o, "evt_x" + std::to_string(i));
  CHECK(o.payment_events.size() == remembered_notices);
  CHECK(o.payment_events.front() == "evt_x4");
  CHECK(o.payment_events.back() == "evt_x19");
}

TEST_CASE("circuit breaker: opens after the threshold, probes once after the cooldown") {
  circuit_breaker b;
  b.threshold = 3;
  b.cooldown_ms = 1000;
  for (int i = 0; i < 2; ++i) {
    CHECK(breaker_allows(b, 0));
    breaker_failure(b, 0);
  }
  CHECK(breaker_state_name(b) == "closed");
  breaker_failure(b, 0);
  CHECK(breaker_state_name(b) == "open");
  CHECK_FALSE(breaker_allows(b, 999));
  CHECK(breaker_allows(b, 1000)); // the probe
  CHECK(breaker_state_name(b) == "half_open");
  CHECK_FALSE(breaker_allows(b, 1001)); // only one probe at a time
  breaker_failure(b, 1001);
  CHECK(breaker_state_name(b) == "open");
  CHECK(breaker_allows(b, 2001));
  breaker_success(b);
  CHECK(breaker_state_name(b) == "closed");
  CHECK(breaker_allows(b, 2002));
}
