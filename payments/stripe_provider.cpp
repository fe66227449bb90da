// The Stripe provider (see stripe_provider.hpp).
//
// Charge: POST /v1/payment_intents with confirm=true under the key
// "<prefix>-order-<id>-charge". succeeded authorizes; a card_error declines
// with its reason; requires_action (3-D Secure) hands the intent's client
// secret to the saga, which waits for the buyer's browser, when the
// storefront can run it (buyer_authenticates); otherwise it cancels the
// intent and declines with authentication_required.
//
// Status (after the buyer's browser acted): GET the intent; succeeded
// authorizes, back at requires_payment_method declines with why, still
// requires_action (or processing) waits on.
//
// Refund (compensation of a cancelled order; the saga repeats it until it
// answers, across restarts) must give back money from a charge whose answer
// may never have come, without charging a card that was never charged. It
// first sends the charge's request under the charge's key with
// confirm=false, a probe:
//   - the key was never used: Stripe creates an unconfirmed intent that
//     holds no money and keeps the key: a charge arriving later under it
//     gets idempotency_error instead of charging. The probe's intent is
//     canceled.
//   - the key went with the real charge: Stripe answers idempotency_error
//     (same key, other parameters), and the real request replayed gives the
//     stored answer and with it the intent.
// The intent is then read as it stands now (a replay answers as it stood)
// and refunded if it holds money, canceled if it may still take some.
#include "payments/stripe_provider.hpp"

#include "payments/stripe_messages.hpp"
#include "support/log.hpp"
#include "support/repeat_filter.hpp"

#include <fmt/format.h>

#include <chrono>
#include <mutex>

namespace emporium::payments {

std::string stripe_key(const std::string& prefix, const std::string& order_key,
                       std::string_view step) {
  return fmt::format("{}-{}-{}", prefix, order_key, step);
}

namespace {

using namespace stripe;

/// One warning per distinct failure and at most one per 10 s for a repeat:
/// a provider that is down fails every call, and the log must stay readable.
class failure_log {
public:
  void note(const std::string& what, const std::string& why) {
    std::lock_guard lock{mutex_};
    if (auto held = filter_.admit(why, std::chrono::steady_clock::now()))
      log::write(log::level::warn, "payment_call_failed",
                 {{"provider", "stripe"},
                  {"call", what},
                  {"error", why},
                  {"suppressed", std::to_string(*held)}});
  }

private:
  std::mutex mutex_;
  repeat_filter filter_{std::chrono::seconds(10)};
};

/// The charge's result when the intent is settled either way (it holds
/// the money, or never will from this card); none while it is not.
std::optional<charge_result> settled(const intent_answer& a) {
  switch (a.what) {
    case verdict::succeeded: return charge_result{charge_status::succeeded, {}, a.intent_id};
    case verdict::declined:
      return charge_result{charge_status::declined, a.reason.empty() ? "canceled" : a.reason, {}};
    case verdict::canceled: return charge_result{charge_status::declined, "canceled", {}};
    default: return std::nullopt;
  }
}

class stripe_provider final : public payment_provider {
public:
  explicit stripe_provider(stripe_options opts)
    : opts_(std::move(opts)), client_(opts_.http) {
  }

  void charge(const charge_request& req, charge_done done) override {
    auto params = params_of(req);
    auto key = stripe_key(opts_.key_prefix, req.idempotency_key, "charge");
    call("charge", create_intent(params, key), [this, req, done](int status, std::string body) {
      auto a = read_intent_answer(status, body);
      if (auto result = settled(a))
        return done(std::move(*result));
      switch (a.what) {
        case verdict::requires_action:
          if (opts_.buyer_authenticates && !a.client_secret.empty())
            return done({charge_status::requires_action, a.reason, a.intent_id,
                         a.client_secret});
          return cancel(req, a.intent_id, [done](bool ok) {
            done(ok ? charge_result{charge_status::declined, "authentication_required", {}}
                    : charge_result{charge_status::transient, "cancel failed", {}});
          });
        case verdict::unsettled:
        case verdict::processing:
          // Not decided when it answered: how it stands now decides.
          return call("charge", get_intent(a.intent_id), [done](int st, std::string b) {
            auto result = settled(read_intent_answer(st, b));
            done(result ? std::move(*result)
                        : charge_result{charge_status::transient, "intent not settled", {}});
          });
        case verdict::key_reused:
          // A refund's probe took the key first: the order is being
          // cancelled and this charge must not happen.
          return done({charge_status::declined, "voided", {}});
        case verdict::rejected:
          failures_.note("charge", a.reason);
          return done({charge_status::declined, "payment_rejected", {}});
        case verdict::succeeded: // settled above
        case verdict::declined:
        case verdict::canceled:
        case verdict::retry: break;
      }
      done({charge_status::transient, a.reason, {}});
    });
  }

  void refund(const charge_request& req, charge_done done) override {
    auto params = params_of(req);
    auto key = stripe_key(opts_.key_prefix, req.idempotency_key, "charge");
    auto fail = [this, done](const std::string& why) {
      failures_.note("refund", why);
      done({charge_status::transient, why, {}});
    };
    call("refund", create_intent(params, key, false),
         [this, req, params, key, done, fail](int status, std::string body) {
           auto probe = read_intent_answer(status, body);
           if (probe.what == verdict::key_reused)
             return call("refund", create_intent(params, key, true),
                         [this, req, done, fail](int st, std::string b) {
                           auto a = read_intent_answer(st, b);
                           if (a.what == verdict::declined || a.what == verdict::canceled)
                             return done({charge_status::succeeded, {}, {}}); // nothing taken
                           if (a.intent_id.empty())
                             return fail("replay: " + a.reason);
                           settle(req, a.intent_id, done, fail);
                         });
           if (probe.what == verdict::declined)
             return done({charge_status::succeeded, {}, {}}); // nothing taken
           if (probe.intent_id.empty())
             return fail("probe: " + probe.reason);
           settle(req, probe.intent_id, done, fail);
         });
  }

  void status(const charge_request&, const std::string& payment_id,
              charge_done done) override {
    call("status", get_intent(payment_id), [done](int st, std::string body) {
      auto now = read_intent_answer(st, body);
      if (auto result = settled(now))
        return done(std::move(*result));
      switch (now.what) {
        case verdict::requires_action:
        case verdict::processing:
          // Not decided yet: the buyer has not finished, or Stripe is
          // still at it. The saga waits on, with the same secret.
          if (!now.client_secret.empty())
            return done({charge_status::requires_action, "authentication_required",
                         now.intent_id, now.client_secret});
          break;
        case verdict::rejected: return done({charge_status::declined, "payment_rejected", {}});
        default: break;
      }
      done({charge_status::transient, now.reason.empty() ? "intent not settled" : now.reason,
            {}});
    });
  }

private:
  using answer_fn = std::function<void(int, std::string)>;

  charge_params params_of(const charge_request& req) const {
    return {req.order, req.amount, opts_.currency, req.payment_method};
  }

  /// Gives back what the intent holds now: refund if it succeeded, cancel if
  /// it could still take money, nothing if it is canceled.
  template <class Done, class Fail>
  void settle(const charge_request& req, const std::string& intent, Done done, Fail fail) {
    call("refund", get_intent(intent), [this, req, intent, done, fail](int st, std::string b) {
      auto now = read_intent_answer(st, b);
      switch (now.what) {
        case verdict::succeeded: {
          auto key = stripe_key(opts_.key_prefix, req.idempotency_key, "refund");
          return call("refund", refund_intent(intent, key),
                      [intent, done, fail](int s, std::string body) {
                        if (read_settle_answer(s, body) == settle_verdict::done)
                          return done({charge_status::succeeded, {}, intent});
                        fail(fmt::format("refund of {}: http {}", intent, s));
                      });
        }
        case verdict::canceled: return done({charge_status::succeeded, {}, intent});
        case verdict::declined: // could still be confirmed with another card
        case verdict::requires_action:
        case verdict::unsettled:
          return cancel(req, intent, [intent, done, fail](bool ok) {
            if (ok)
              return done({charge_status::succeeded, {}, intent});
            fail("cancel of " + intent + " failed");
          });
        default: return fail(fmt::format("intent {}: {}", intent, now.reason));
      }
    });
  }

  void cancel(const charge_request& req, const std::string& intent,
              std::function<void(bool)> done) {
    auto key = stripe_key(opts_.key_prefix, req.idempotency_key, "cancel");
    call("cancel", cancel_intent(intent, key), [done](int status, std::string body) {
      done(read_settle_answer(status, body) == settle_verdict::done);
    });
  }

  /// One API call; `then` gets the status (0: no answer) and the body.
  void call(const char* what, const api_call& c, answer_fn then) {
    https_request r;
    r.post = c.post;
    r.path = c.path;
    r.body = c.body;
    r.headers = {{"Authorization", "Bearer " + opts_.secret_key},
                 {"Stripe-Version", std::string{api_version}}};
    if (c.post)
      r.headers.emplace_back("Idempotency-Key", c.idempotency_key);
    client_.send(std::move(r), [this, what, then = std::move(then)](https_response res) {
      if (res.status == 0)
        failures_.note(what, res.error);
      else if (res.status >= 500 || res.status == 401 || res.status == 403)
        failures_.note(what, fmt::format("http {}", res.status));
      then(res.status, std::move(res.body));
    });
  }

  stripe_options opts_;
  failure_log failures_;
  https_client client_; // last: destroyed first, so no callback outlives the rest
};

} // namespace

std::unique_ptr<payment_provider> make_stripe_provider(stripe_options opts) {
  return std::make_unique<stripe_provider>(std::move(opts));
}

} // namespace emporium::payments
