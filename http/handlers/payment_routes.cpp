// GET /api/payments/config: how the storefront takes a payment (the
// provider, whether real money moves, Stripe's publishable key for its card
// form). Public: nothing in it is a secret.
//
// POST /api/payments/webhook: Stripe's event deliveries. The signature
// (Stripe-Signature, the endpoint's secret) is the only authentication, so
// nothing is read from the body before it is verified; a failed check is a
// 400 and changes nothing. Verified events about an order go to its saga,
// which acts on each event id once; events Emporium does not act on are
// answered 200, so Stripe stops delivering them.
#include "http/api_context.hpp"
#include "http/response_helpers.hpp"
#include "payments/stripe_webhook.hpp"
#include "support/metrics.hpp"

#include <nlohmann/json.hpp>


namespace emporium::http {

namespace {

namespace stripe = payments::stripe;

metrics::counter& webhook_count(const std::string& outcome) {
  static auto& family = metrics::default_registry().counter_family(
    "emporium_payment_webhooks_total",
    "Payment provider webhook deliveries by outcome (invalid_signature, invalid_event, "
    "ignored, duplicate, authorized, declined, refunding, refund_recorded, failed)",
    {"outcome"});
  return family.with({outcome});
}

std::string_view check_name(stripe::signature_check c) {
  switch (c) {
    case stripe::signature_check::valid: return "valid";
    case stripe::signature_check::malformed: return "malformed";
    case stripe::signature_check::stale: return "outside the 5-minute tolerance";
    case stripe::signature_check::mismatch: return "does not match";
  }
  return "invalid";
}

std::optional<notice_kind> notice_of(stripe::event_kind k) {
  switch (k) {
    case stripe::event_kind::intent_succeeded: return notice_kind::charge_succeeded;
    case stripe::event_kind::intent_failed: return notice_kind::charge_failed;
    case stripe::event_kind::charge_refunded: return notice_kind::refunded;
    case stripe::event_kind::other: break;
  }
  return std::nullopt;
}

response received(const std::string& outcome) {
  webhook_count(outcome).inc();
  return json_response({{"received", true}, {"outcome", outcome}});
}

} // namespace

void add_payment_routes(router& r, api_context& ctx) {
  r.add("GET", "/api/payments/config", [&ctx](request&, responder respond) {
    const auto& p = ctx.payments;
    nlohmann::json key = nullptr;
    if (!p.publishable_key.empty())
      key = p.publishable_key;
    respond(json_response({{"provider", p.provider}, {"livemode", p.live},
                           {"publishableKey", std::move(key)}}));
  });
  r.add("POST", "/api/payments/webhook", [&ctx](request& req, responder respond) {
    if (ctx.stripe_webhook_secret.empty())
      return respond(error_response(errc::not_found, "no payment webhook is configured"));
    auto check = stripe::verify_signature(req.header("stripe-signature"), req.body,
                                          ctx.stripe_webhook_secret, now_seconds());
    if (check != stripe::signature_check::valid) {
      webhook_count("invalid_signature").inc();
      return respond(error_response(
        errc::invalid_argument,
        "Stripe-Signature " + std::string{check_name(check)} + ": event not accepted"));
    }
    auto event = stripe::parse_event(req.body);
    if (!event) {
      webhook_count("invalid_event").inc();
      return respond(error_response(errc::invalid_argument, "not a Stripe event"));
    }
    auto kind = notice_of(event->kind);
    if (!kind)
      return respond(received("ignored"));
    payment_notice n{event->id, *kind, event->intent_id, event->reason, event->refunded};
    ctx.actors.payment_notice(event->order, std::move(n),
                              [respond](errc ec, std::string outcome) {
                                // An order this shop never placed (the Stripe
                                // account may serve others too): nothing to do.
                                if (ec == errc::not_found)
                                  return respond(received("ignored"));
                                if (ec != errc::none) {
                                  // Not 2xx: Stripe delivers it again later.
                                  webhook_count("failed").inc();
                                  return respond(error_response(ec, "event not processed yet"));
                                }
                                respond(received(outcome));
                              });
  });
}

} // namespace emporium::http
