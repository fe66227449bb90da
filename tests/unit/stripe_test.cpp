// Stripe's API as data: request bodies, what every kind of answer means,
// webhook signatures and events (payments/stripe_*.hpp).
#include "payments/form_encoding.hpp"
#include "payments/https_client.hpp"
#include "payments/stripe_messages.hpp"
#include "payments/stripe_provider.hpp"
#include "payments/stripe_webhook.hpp"

#include <doctest/doctest.h>
#include <sodium.h>

using namespace emporium;
using namespace emporium::payments;
using namespace emporium::payments::stripe;

TEST_CASE("form encoding escapes brackets, spaces and non-ASCII bytes") {
  CHECK(form_encode({{"metadata[order_id]", "42"}, {"a b", "x&y=z"}}) ==
        "metadata%5Border_id%5D=42&a%20b=x%26y%3Dz");
  CHECK(percent_encode("pm_card_visa-1.~") == "pm_card_visa-1.~");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
}

TEST_CASE("a charge is a confirmed PaymentIntent in cents, keyed per order and step") {
  auto c = create_intent({42, 2599, "usd", "pm_card_visa"}, "emporium-ab-order-42-charge");
  CHECK(c.post);
  CHECK(c.path == "/v1/payment_intents");
  CHECK(c.idempotency_key == "emporium-ab-order-42-charge");
  CHECK(c.body ==
        "amount=2599&currency=usd&payment_method=pm_card_visa&payment_method_types%5B%5D=card"
        "&confirm=true&metadata%5Border_id%5D=42");
  auto probe = create_intent({42, 2599, "usd", "pm_card_visa"}, "k", false);
  CHECK(probe.body.find("confirm=false") != std::string::npos);
  CHECK(refund_intent("pi_1", "k-refund").body == "payment_intent=pi_1");
  CHECK(cancel_intent("pi_1", "k").path == "/v1/payment_intents/pi_1/cancel");
  CHECK(get_intent("pi/../x").path == "/v1/payment_intents/pi%2F..%2Fx");
  CHECK_FALSE(get_intent("pi_1").post);
  CHECK(stripe_key("emporium-ab", "order-42", "refund") == "emporium-ab-order-42-refund");
}

TEST_CASE("intent answers: success, declines with their reasons, action, retries") {
  auto ok = read_intent_answer(200, R"({"id":"pi_1","status":"succeeded"})");
  CHECK(ok.what == verdict::succeeded);
  CHECK(ok.intent_id == "pi_1");

  auto decline = [](const char* code, const char* decline_code) {
    std::string body = std::string{R"({"error":{"type":"card_error","code":")"} + code +
                       R"(","decline_code":")" + decline_code +
                       R"(","payment_intent":{"id":"pi_2","status":"requires_payment_method"}}})";
    return read_intent_answer(402, body);
  };
  CHECK(decline("card_declined", "generic_decline").reason == "card_declined");
  CHECK(decline("card_declined", "insufficient_funds").reason == "insufficient_funds");
  CHECK(decline("expired_card", "expired_card").reason == "expired_card");
  CHECK(decline("incorrect_cvc", "incorrect_cvc").reason == "incorrect_cvc");
  CHECK(decline("card_declined", "generic_decline").what == verdict::declined);
  CHECK(decline("card_declined", "generic_decline").intent_id == "pi_2");

  auto action = read_intent_answer(200, R"({"id":"pi_3","status":"requires_action"})");
  CHECK(action.what == verdict::requires_action);
  CHECK(action.reason == "authentication_required");
  CHECK(action.client_secret.empty());
  auto with_secret = read_intent_answer(
    200, R"({"id":"pi_3","status":"requires_action","client_secret":"pi_3_secret_Ab9",
             "next_action":{"type":"use_stripe_sdk"}})");
  CHECK(with_secret.what == verdict::requires_action);
  CHECK(with_secret.intent_id == "pi_3");
  CHECK(with_secret.client_secret == "pi_3_secret_Ab9");
  // The holder failed 3-D Secure: the intent is back at requires_payment_method.
  auto failed = read_intent_answer(
    200, R"({"id":"pi_3","status":"requires_payment_method","client_secret":"pi_3_secret_Ab9",
             "last_payment_error":{"code":"payment_intent_authentication_failure"}})");
  CHECK(failed.what == verdict::declined);
  CHECK(failed.reason == "authentication_failed");

  CHECK(read_intent_answer(0, "").what == verdict::retry);
  CHECK(read_intent_answer(500, "{}").what == verdict::retry);
  CHECK(read_intent_answer(503, "not json").what == verdict::retry);
  CHECK(read_intent_answer(429, "{}").what == verdict::retry);
  CHECK(read_intent_answer(409, R"({"error":{"type":"idempotency_error",
                                  "code":"idempotency_key_in_use"}})")
          .what == verdict::retry);
  CHECK(read_intent_answer(200, "<html>").what == verdict::retry);
  CHECK(read_intent_answer(200, R"({"id":"pi_1"})").what == verdict::retry);

  CHECK(read_intent_answer(400, R"({"error":{"type":"idempotency_error"}})").what ==
        verdict::key_reused);
  auto missing = read_intent_answer(
    400, R"({"error":{"type":"invalid_request_error","code":"resource_missing",
             "param":"payment_method"}})");
  CHECK(missing.what == verdict::declined);
  CHECK(missing.reason == "invalid_payment_method");
  auto bad_key = read_intent_answer(401, R"({"error":{"type":"invalid_request_error"}})");
  CHECK(bad_key.what == verdict::rejected);
  CHECK(bad_key.reason.find("401") != std::string::npos);

  auto confirmed_declined = read_intent_answer(
    200, R"({"id":"pi_4","status":"requires_payment_method",
             "last_payment_error":{"code":"card_declined","decline_code":"stolen_card"}})");
  CHECK(confirmed_declined.what == verdict::declined);
  // A stolen card reads as a plain decline to the buyer (Stripe's advice).
  CHECK(confirmed_declined.reason == "card_declined");
  for (const char* reported : {"lost_card", "fraudulent", "pickup_card"}) {
    auto declined = read_intent_answer(
      402, std::string{R"({"error":{"type":"card_error","code":"card_declined","decline_code":")"} +
             reported + R"("}})");
    CHECK_MESSAGE(declined.what == verdict::declined, reported);
    CHECK_MESSAGE(declined.reason == "card_declined", reported);
  }
  CHECK(read_intent_answer(200, R"({"id":"pi_5","status":"requires_confirmation"})").what ==
        verdict::unsettled);
  CHECK(read_intent_answer(200, R"({"id":"pi_6","status":"canceled"})").what ==
        verdict::canceled);
  CHECK(read_intent_answer(200, R"({"id":"pi_7","status":"processing"})").what ==
        verdict::processing);
}

TEST_CASE("refund and cancel answers: done, already done, retry, rejected") {
  CHECK(read_settle_answer(200, "{}") == settle_verdict::done);
  CHECK(read_settle_answer(400, R"({"error":{"code":"charge_already_refunded"}})") ==
        settle_verdict::done);
  CHECK(read_settle_answer(400, R"({"error":{"code":"payment_intent_unexpected_state"}})") ==
        settle_verdict::retry);
  CHECK(read_settle_answer(0, "") == settle_verdict::retry);
  CHECK(read_settle_answer(502, "") == settle_verdict::retry);
  CHECK(read_settle_answer(401, "{}") == settle_verdict::rejected);
}

TEST_CASE("Stripe-Signature: HMAC-SHA256 of t.payload, 5-minute tolerance") {
  REQUIRE(sodium_init() >= 0);
  std::string payload = R"({"id":"evt_1","type":"payment_intent.succeeded"})";
  std::int64_t t = 1'700'000'000;
  auto header = sign_payload(payload, "whsec_test", t);
  CHECK(header.rfind("t=1700000000,v1=", 0) == 0);
  CHECK(verify_signature(header, payload, "whsec_test", t + 10) == signature_check::valid);
  CHECK(verify_signature(header, payload + " ", "whsec_test", t) == signature_check::mismatch);
  CHECK(verify_signature(header, payload, "whsec_other", t) == signature_check::mismatch);
  CHECK(verify_signature(header, payload, "whsec_test", t + 301) == signature_check::stale);
  CHECK(verify_signature(header, payload, "whsec_test", t - 301) == signature_check::stale);
  CHECK(verify_signature("", payload, "whsec_test", t) == signature_check::malformed);
  CHECK(verify_signature("t=abc,v1=00", payload, "whsec_test", t) == signature_check::malformed);
  CHECK(verify_signature("t=1700000000", payload, "whsec_test", t) == signature_check::malformed);
  CHECK(verify_signature("t=1700000000,v1=zz", payload, "whsec_test", t) ==
        signature_check::malformed);
  // Several v1 (a secret being rolled): any one may match; v0 is ignored.
  auto v1 = header.substr(header.find("v1="));
  auto rolled = "t=1700000000,v1=" + std::string(64, '0') + ",v0=abc," + v1;
  CHECK(verify_signature(rolled, payload, "whsec_test", t) == signature_check::valid);
}

TEST_CASE("webhook events: the order, the intent and what happened") {
  auto ok = parse_event(R"({"id":"evt_1","type":"payment_intent.succeeded","data":{"object":
    {"id":"pi_9","object":"payment_intent","metadata":{"order_id":"42"}}}})");
  REQUIRE(ok);
  CHECK(ok->kind == event_kind::intent_succeeded);
  CHECK(ok->order == 42);
  CHECK(ok->intent_id == "pi_9");

  auto failed = parse_event(R"({"id":"evt_2","type":"payment_intent.payment_failed",
    "data":{"object":{"id":"pi_9","metadata":{"order_id":"42"},
    "last_payment_error":{"code":"card_declined","decline_code":"insufficient_funds"}}}})");
  REQUIRE(failed);
  CHECK(failed->kind == event_kind::intent_failed);
  CHECK(failed->reason == "insufficient_funds");

  auto refunded = parse_event(R"({"id":"evt_3","type":"charge.refunded","data":{"object":
    {"id":"ch_1","payment_intent":"pi_9","amount_refunded":2599,"metadata":{"order_id":"42"}}}})");
  REQUIRE(refunded);
  CHECK(refunded->kind == event_kind::charge_refunded);
  CHECK(refunded->refunded == 2599);

  auto other = parse_event(R"({"id":"evt_4","type":"customer.created","data":{"object":{}}})");
  REQUIRE(other);
  CHECK(other->kind == event_kind::other);
  // No usable order id: nothing to act on.
  for (auto meta : {R"({})", R"({"order_id":"x"})", R"({"order_id":"-3"})", R"({"order_id":7})"}) {
    auto e = parse_event(std::string{R"({"id":"evt_5","type":"payment_intent.succeeded",
      "data":{"object":{"id":"pi_1","metadata":)"} + meta + "}}}");
    REQUIRE(e);
    CHECK(e->kind == event_kind::other);
  }
  CHECK_FALSE(parse_event("not json"));
  CHECK_FALSE(parse_event(R"({"type":"charge.refunded"})"));
  CHECK_FALSE(parse_event(R"([1,2])"));
}

TEST_CASE("the API base must be https with a sane host and port") {
  std::string why;
  auto u = parse_https_url("https://api.stripe.com", why);
  REQUIRE(u);
  CHECK(u->host == "api.stripe.com");
  CHECK(u->port == "443");
  CHECK(u->prefix.empty());
  auto local = parse_https_url("https://127.0.0.1:8443/stripe/", why);
  REQUIRE(local);
  CHECK(local->port == "8443");
  CHECK(local->prefix == "/stripe");
  CHECK_FALSE(parse_https_url("http://api.stripe.com", why));
  CHECK(why.find("https") != std::string::npos);
  CHECK_FALSE(parse_https_url("https://", why));
  CHECK_FALSE(parse_https_url("https://host:0", why));
  CHECK_FALSE(parse_https_url("https://host:99999", why));
  CHECK_FALSE(parse_https_url("https://user@host", why));
}
