// The payment actor (see payment_actor.hpp).
#include "actors/payment/payment_actor.hpp"

#include "domain/backoff.hpp"
#include "domain/circuit_breaker.hpp"
#include "actors/node_metrics.hpp"
#include "support/log.hpp"
#include "actors/protocol.hpp"
#include "actors/spawn_in.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <fmt/format.h>
#include <random>
#include <unordered_map>
#include <vector>

namespace emporium {

namespace {

/// What a call asks the provider.
enum class call_kind : std::uint8_t { charge, refund, status };

/// At most one call is open per kind and order (its idempotency key).
using open_key = std::pair<call_kind, std::int64_t>;

struct call {
  call_kind kind = call_kind::charge;
  charge_request req;
  std::string payment_id; // status: the provider's id of the charge
  int attempt = 1;
  std::vector<caf::response_promise> askers; // the first request and any that joined it
  std::int64_t answer_by_ms = 0; // the latest asker's; 0: one always waits
  std::chrono::steady_clock::time_point started; // of the current attempt
  std::uint64_t token = 0; // the attempt in flight (0: none); older answers are late
};

/// The askers one call keeps: each ask after a timeout joins, and a
/// buyer's browser may ask about its 3-D Secure charge as often as its
/// request limit lets it.
constexpr std::size_t max_askers = 16;

/// True once every asker of `c` has stopped waiting at `now_ms`.
bool abandoned(const call& c, std::int64_t now_ms) {
  return c.answer_by_ms != 0 && now_ms >= c.answer_by_ms;
}

struct payment_state {
  std::shared_ptr<payment_provider> provider;
  payment_options opts;
  std::shared_ptr<payment_health> health;
  circuit_breaker breaker;
  std::unordered_map<std::uint64_t, call> calls;
  std::map<open_key, std::uint64_t> open; // -> call
  std::deque<std::uint64_t> queued; // calls waiting for a place in flight
  std::size_t in_flight = 0;
  std::uint64_t next_call = 1;
  std::uint64_t next_token = 1;
  std::uint32_t mailbox_samples = 0;
  std::mt19937_64 jitter{std::random_device{}()};
  static inline const char* name = "payment";
};

// The public interface plus what the actor sends itself: a provider's
// answer (from the provider's thread), an attempt's deadline, a retry.
using payment_impl = payment_actor::extend<
  caf::reacts_to<atoms::result, std::uint64_t, std::uint64_t, std::uint8_t, std::string,
                 std::string, std::string>,
  caf::reacts_to<atoms::deadline, std::uint64_t, std::uint64_t>,
  caf::reacts_to<atoms::retry, std::uint64_t>>;
using payment_self_ptr = payment_impl::stateful_pointer<payment_state>;


/// The breaker's state for the health check and the metrics: 0 closed,
/// 1 open, 2 half-open.
void publish_health(payment_self_ptr self) {
  auto& st = self->state;
  int code = st.breaker.current == circuit_breaker::state::closed ? 0
             : st.breaker.current == circuit_breaker::state::open ? 1
                                                                  : 2;
  auto& gauge = *node_metrics::get().breaker_state;
  if (gauge.value() != code)
    log::write(code == 0 ? log::level::info : log::level::warn, "payment_breaker",
               {{"state", code == 0 ? "closed" : code == 1 ? "open" : "half_open"}});
  gauge.set(code);
  if (st.health)
    st.health->breaker = code;
}

void publish_load(payment_self_ptr self) {
  auto& m = node_metrics::get();
  m.payments_in_flight->set(static_cast<double>(self->state.in_flight));
  m.payments_queued->set(static_cast<double>(self->state.queued.size()));
}

void finish(payment_self_ptr self, std::uint64_t id, caf::message answer) {
  auto it = self->state.calls.find(id);
  if (it == self->state.calls.end())
    return;
  for (auto& asker : it->second.askers)
    asker.deliver(answer);
  self->state.open.erase(open_key{it->second.kind, it->second.req.order});
  self->state.calls.erase(it);
}

/// Nobody waits for the call any more: it ends unsent (each asker has had
/// its own timeout; the answer reaches no one, and nothing is charged,
/// voided or asked for nothing).
void drop_abandoned(payment_self_ptr self, std::uint64_t id) {
  node_metrics::get().payments_expired->inc();
  finish(self, id, caf::make_message(make_error(errc::unavailable)));
}

void attempt(payment_self_ptr self, std::uint64_t id);

/// An attempt ended (answered or timed out): its place goes to the next call
/// that waits for one.
void leave_flight(payment_self_ptr self, call& c) {
  auto& st = self->state;
  c.token = 0;
  --st.in_flight;
  while (!st.queued.empty() && st.in_flight < st.opts.max_in_flight) {
    auto next = st.queued.front();
    st.queued.pop_front();
    if (st.calls.count(next) > 0)
      attempt(self, next);
  }
  publish_load(self);
}

/// One attempt: start the provider call and arm its deadline. Beyond
/// `max_in_flight` calls at the provider, the call waits in the queue (a
/// message-driven queue: no thread waits).
void attempt(payment_self_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto& c = st.calls.at(id);
  auto now_ms = st.opts.now_ms();
  if (abandoned(c, now_ms))
    return drop_abandoned(self, id);
  if (!breaker_allows(st.breaker, now_ms)) {
    publish_health(self);
    finish(self, id, caf::make_message(make_error(errc::unavailable)));
    return;
  }
  if (st.in_flight >= st.opts.max_in_flight) {
    st.queued.push_back(id);
    publish_load(self);
    return;
  }
  if (c.kind == call_kind::charge && st.health)
    ++st.health->charges;
  ++st.in_flight;
  publish_load(self);
  c.started = std::chrono::steady_clock::now();
  c.token = st.next_token++;
  // The answer comes back as a message, from whatever thread the provider
  // answers on; a weak handle, so a provider that never answers keeps no
  // actor alive.
  caf::weak_actor_ptr weak = self->ctrl();
  auto done = [weak, id, token = c.token](charge_result r) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), atoms::result::value, id, token,
                     static_cast<std::uint8_t>(r.status), std::move(r.reason),
                     std::move(r.payment_id), std::move(r.action_secret));
  };
  self->delayed_send(self, st.opts.call_timeout, atoms::deadline::value, id, c.token);
  try {
    switch (c.kind) {
      case call_kind::charge: st.provider->charge(c.req, std::move(done)); break;
      case call_kind::refund: st.provider->refund(c.req, std::move(done)); break;
      case call_kind::status: st.provider->status(c.req, c.payment_id, std::move(done)); break;
    }
  } catch (const std::exception& e) {
    // A provider that cannot even start the call: a failure on the way.
    caf::anon_send(caf::actor_cast<caf::actor>(self), atoms::result::value, id, c.token,
                   static_cast<std::uint8_t>(charge_status::transient), std::string{e.what()},
                   std::string{}, std::string{});
  }
}

/// A transient failure (or a timeout): retry with backoff, or give up.
void retry_or_fail(payment_self_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto& c = st.calls.at(id);
  breaker_failure(st.breaker, st.opts.now_ms());
  publish_health(self);
  if (st.health)
    ++st.health->transient_failures;
  if (c.attempt >= st.opts.max_attempts) {
    finish(self, id, caf::make_message(make_error(errc::unavailable)));
    return;
  }
  // Exponential backoff with jitter: base * 2^(n-1) * U(0.5, 1.5).
  auto first = std::chrono::milliseconds(st.opts.backoff_base_ms);
  auto base = backoff{first, first * 1024}.delay(static_cast<std::uint32_t>(c.attempt)).count();
  auto delay = std::uniform_int_distribution<std::int64_t>{base / 2, base + base / 2}(st.jitter);
  if (abandoned(c, st.opts.now_ms() + delay))
    return drop_abandoned(self, id); // the retry would start after everyone left
  ++c.attempt;
  node_metrics::get().provider_retries->inc();
  self->delayed_send(self, std::chrono::milliseconds(delay), atoms::retry::value, id);
}

/// The provider calls metric's outcome label.
const char* outcome_label(call_kind kind, charge_status status) {
  if (kind == call_kind::refund)
    return status == charge_status::transient ? "refund_failed" : "refunded";
  switch (status) {
    case charge_status::succeeded: return "approved";
    case charge_status::transient: return "transient";
    case charge_status::requires_action: return "action_required";
    case charge_status::declined: break;
  }
  return "declined";
}

void on_result(payment_self_ptr self, std::uint64_t id, std::uint64_t token,
               charge_status status, const std::string& reason,
               const std::string& payment_id, const std::string& action_secret) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  auto& m = node_metrics::get();
  if (it == st.calls.end() || it->second.token != token) {
    // Its attempt timed out: the retry asks again under the same
    // idempotency key, and a refund voids the key, so a late answer is
    // only counted.
    m.provider_calls->with({"late"}).inc();
    return;
  }
  auto& c = it->second;
  leave_flight(self, c);
  m.provider_call_duration->observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started).count());
  m.provider_calls->with({outcome_label(c.kind, status)}).inc();
  if (status == charge_status::transient)
    return retry_or_fail(self, id);
  breaker_success(st.breaker);
  publish_health(self);
  if (c.kind == call_kind::refund)
    return finish(self, id, caf::make_message(true));
  // Waiting for the buyer's authentication is an answer without a verdict:
  // the reply carries what the buyer's browser needs.
  bool waits = status == charge_status::requires_action && !action_secret.empty();
  finish(self, id,
         caf::make_message(payment_reply{status == charge_status::succeeded,
                                         waits ? "authentication_required" : reason, payment_id,
                                         waits ? action_secret : std::string{}}));
}

void on_deadline(payment_self_ptr self, std::uint64_t id, std::uint64_t token) {
  auto it = self->state.calls.find(id);
  if (it == self->state.calls.end() || it->second.token != token)
    return; // answered in time
  leave_flight(self, it->second);
  auto& m = node_metrics::get();
  m.provider_calls->with({"timed_out"}).inc();
  m.provider_call_duration->observe(
    std::chrono::duration<double>(self->state.opts.call_timeout).count());
  log::write(log::level::warn, "payment_call_timeout",
             {{"key", it->second.req.idempotency_key},
              {"attempt", std::to_string(it->second.attempt)}});
  retry_or_fail(self, id);
}

payment_impl::behavior_type payment_behavior(payment_self_ptr self,
                                             std::shared_ptr<payment_provider> provider,
                                             payment_options opts,
                                             std::shared_ptr<payment_health> health) {
  auto& st = self->state;
  st.provider = std::move(provider);
  st.opts = opts;
  st.health = std::move(health);
  st.breaker.threshold = opts.breaker_threshold;
  st.breaker.cooldown_ms = opts.breaker_cooldown_ms;
  auto* mailbox = &node_metrics::get().mailbox_depth->with({"payment", "node"});
  auto start = [self, mailbox](call_kind kind, charge_request req, std::string payment_id,
                               std::int64_t answer_by_ms) {
    auto& st = self->state;
    sample_mailbox(self, *mailbox, st.mailbox_samples);
    auto promise = self->make_response_promise();
    auto key = open_key{kind, req.order};
    if (auto joined = st.open.find(key); joined != st.open.end()) {
      // The same question for the same order is open (asked again after a
      // timeout): its answer will do for both, under the same idempotency
      // key, and it waits as long as its most patient asker.
      auto& c = st.calls.at(joined->second);
      if (c.askers.size() >= max_askers) {
        // A buyer's browser asking again and again: its earliest asks have
        // long timed out; the oldest is answered now and let go.
        c.askers.front().deliver(make_error(errc::unavailable));
        c.askers.erase(c.askers.begin());
      }
      c.askers.push_back(promise);
      if (c.answer_by_ms != 0)
        c.answer_by_ms = answer_by_ms == 0 ? 0 : std::max(c.answer_by_ms, answer_by_ms);
      node_metrics::get().payments_joined->inc();
      return promise;
    }
    auto id = st.next_call++;
    call c{kind, std::move(req), std::move(payment_id), 1, {promise}, answer_by_ms, {}, 0};
    st.open.emplace(key, id);
    st.calls.emplace(id, std::move(c));
    attempt(self, id);
    return promise;
  };
  auto request_of = [](order_id order, cents amount, std::string& method) {
    return charge_request{fmt::format("order-{}", order), order, amount, std::move(method)};
  };
  return {
    [start, request_of](charge_order& req) -> caf::result<payment_reply> {
      return start(call_kind::charge, request_of(req.order, req.amount, req.method), {},
                   req.answer_by_ms);
    },
    [start, request_of](refund_order& req) -> caf::result<bool> {
      return start(call_kind::refund, request_of(req.order, req.amount, req.method), {},
                   req.answer_by_ms);
    },
    [start, request_of](check_payment& req) -> caf::result<payment_reply> {
      return start(call_kind::status, request_of(req.order, req.amount, req.method),
                   std::move(req.payment_id), req.answer_by_ms);
    },
    [self](atoms::result, std::uint64_t id, std::uint64_t token, std::uint8_t status,
           const std::string& reason, const std::string& payment_id,
           const std::string& action_secret) {
      on_result(self, id, token, static_cast<charge_status>(status), reason, payment_id,
                action_secret);
    },
    [self](atoms::deadline, std::uint64_t id, std::uint64_t token) {
      on_deadline(self, id, token);
    },
    [self](atoms::retry, std::uint64_t id) {
      auto it = self->state.calls.find(id);
      if (it != self->state.calls.end() && it->second.token == 0)
        attempt(self, id);
    },
  };
}

} // namespace

payment_actor spawn_payment(caf::actor_system& sys, std::shared_ptr<payment_provider> provider,
                            payment_options opts, std::shared_ptr<payment_health> health,
                            spawn_mode mode) {
  return spawn_in(sys, mode, payment_behavior, std::move(provider), opts, std::move(health));
}

} // namespace emporium
