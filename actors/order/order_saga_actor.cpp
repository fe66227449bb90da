// One actor per order: drives the saga of order_rules.hpp. Every transition
// is persisted together with the event it publishes (one transaction, the
// outbox) BEFORE the saga acts on it, with one exception (PaymentAuthorized,
// see `transition`); on activation the saga resumes from its last persisted
// state. Every step it takes is idempotent by order id (reserve, release,
// commit, charge, refund), so a step repeated after a crash cannot have a
// different outcome.
#include "domain/backoff.hpp"
#include "domain/wall_clock.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/node_metrics.hpp"
#include "actors/order/saga_load.hpp"
#include "persistence/snapshot.hpp"

#include <chrono>

namespace emporium {

namespace {

struct saga_state {
  entity_runtime rt;
  order_state order;
  bool known = false;        // a snapshot existed (placed orders only)
  std::uint64_t step = 0;    // answers of a superseded step are ignored
  int attempts = 0;          // of the current step
  std::shared_ptr<bool> in_flight; // counted as working (count_working)
  /// Events of transitions applied but not yet handed to the store (only
  /// PaymentAuthorized's): the next write of the order carries them.
  std::vector<order_event> unwritten;
  trace::context trace;      // the placement's span (none for a resumed saga)
  static inline const char* name = "order";
};

using saga_self = caf::stateful_actor<saga_state>;


entity_key stock_key(product_id p) {
  return {entity_kind::stock, std::to_string(p)};
}

entity_key cart_key(const order_state& o) {
  return {entity_kind::cart, o.user};
}

void resume(saga_self* self);
void compensate(saga_self* self, compensation what);

/// Whether a saga in `status` is working on its order: from its adoption of
/// an unfinished order until the order ends, except while it waits for its
/// buyer to authenticate (saga_load.hpp says why).
bool working_in(order_status status) {
  return !is_terminal(status) && status != order_status::authentication_required;
}

/// Keeps this saga's place in the sagas-in-flight gauge and the node's
/// saga_load up to date with `status`; the count is given back if the actor
/// ends while counted.
void count_working(saga_self* self, order_status status) {
  auto& st = self->state;
  const auto& load = st.rt.svc->saga.load; // the services outlive the saga
  bool working = working_in(status);
  if (!st.in_flight) {
    if (!working)
      return;
    st.in_flight = std::make_shared<bool>(false);
    // A copy for the functor: it runs as the actor ends.
    self->attach_functor([flag = st.in_flight, load = load](const caf::error&) {
      if (!*flag)
        return;
      node_metrics::get().sagas_in_flight->add(-1);
      if (load)
        load->stopped();
    });
  }
  if (*st.in_flight == working)
    return;
  *st.in_flight = working;
  node_metrics::get().sagas_in_flight->add(working ? 1 : -1);
  if (load)
    working ? load->started() : load->stopped();
}

/// A span of this saga's trace (nothing when the saga is not traced).
trace::context step_span(saga_self* self) {
  return trace::follow(self->state.trace);
}

/// Called once a transition is durable (the order as written), or with
/// nullptr when it could not be written.
using on_durable = std::function<void(const order_state*)>;

/// Writes the order as it is now, with the events still unwritten and
/// `event` (if any) in the same transaction.
template <class OnDurable, class OnFailed>
void write_order(saga_self* self, OnDurable done, OnFailed failed,
                 std::optional<order_event> event = std::nullopt) {
  auto& st = self->state;
  auto events = std::move(st.unwritten);
  st.unwritten.clear();
  if (event)
    events.push_back(std::move(*event));
  persist(self, persistence::snapshot_of(st.order), std::move(done), std::move(failed),
          std::move(events));
}

/// What a transition leads to once it stands (durable, or applied without
/// its own write): its spans, log line and metrics, the caller's reply, and
/// the next step or the compensation of a cancel.
void after_transition(saga_self* self, const order_state& answer, order_status from, millis now,
                      compensation undo, const on_durable& reply, trace::context span,
                      std::optional<trace::context> commit, std::int64_t started) {
  trace::scope in_trace{span};
  if (commit)
    trace::record(*commit, span.span, "sqlite.commit", trace::span_kind::internal, started);
  trace::record(span, self->state.trace.span, std::string{"order."} + status_name(answer.status),
                trace::span_kind::internal, started,
                {{"order.id", std::to_string(answer.id)},
                 {"order.from", status_name(from)},
                 {"order.reason", answer.reason}},
                answer.status == order_status::cancelled);
  log::debug("order_transition", {{"order", std::to_string(answer.id)},
                                  {"from", std::string{status_name(from)}},
                                  {"to", std::string{status_name(answer.status)}}});
  record_transition(answer, from, now);
  count_working(self, answer.status);
  if (reply)
    reply(&answer);
  if (answer.status == order_status::cancelled)
    compensate(self, undo);
  else
    resume(self);
}

/// Persists the transition with its event, then acts: the next step, or the
/// compensation of a cancel. `reply` (user cancel, payment notice) runs when
/// durable.
///
/// PaymentAuthorized (from the charge's own answer) is the exception: it is
/// applied at once and its event rides with the order's next write
/// (normally Confirmed's, one commit later), so an order makes one write
/// fewer (docs/benchmarks.md, "PaymentAuthorized without a write of its
/// own"). That is safe because losing it is: should the node
/// stop before the next write, the saga resumes from StockReserved, whose
/// charge is idempotent (the same charge again) and whose commit is too
/// (the sale is recognised, in the record or on file), so the order ends
/// the same way. A commit that has to be retried writes it first, so a
/// long outage does not hide it (commit_all). No other transition may skip
/// or go ahead of its write (docs/benchmarks.md, "Acting ahead of the
/// saga's own writes"), nor may one someone waits on.
bool transition(saga_self* self, saga_event ev, const std::string& reason,
                on_durable reply = {}) {
  auto& st = self->state;
  auto from = st.order.status;
  auto now = wall_clock_ms();
  if (!apply_event(st.order, ev, reason, now))
    return false;
  auto span = step_span(self);
  auto started = trace::now_ns();
  if (st.order.status == order_status::stock_reserved)
    st.order.payment_deadline = now + st.rt.svc->saga.payment_timeout_ms;
  else if (st.order.status == order_status::authentication_required)
    st.order.payment_deadline = now + st.rt.svc->saga.authentication_timeout_ms;
  auto undo = compensation_for(from, ev);
  ++st.step;
  st.attempts = 0;
  if (ev == saga_event::authorized && !reply) {
    st.unwritten.push_back(event_of(st.order, now));
    after_transition(self, st.order, from, now, undo, reply, span, std::nullopt, started);
    return true;
  }
  // The transition's span holds the SQLite commit that made it durable.
  auto commit = trace::follow(span);
  write_order(
    self,
    [self, undo, reply, answer = st.order, from, now, span, commit, started]() mutable {
      after_transition(self, answer, from, now, undo, reply, span, commit, started);
    },
    [reply]() mutable {
      if (reply)
        reply(nullptr);
    },
    event_of(st.order, now));
  return true;
}

/// The saga's retry delays: from its base, at most `max_factor` times it.
template <class State>
backoff step_backoff(const State& st, std::int64_t max_factor) {
  auto base = std::chrono::milliseconds(st.rt.svc->saga.backoff_base_ms);
  return {base, base * max_factor};
}

/// Retries the current step after a backoff, or gives up with `ev`: after
/// `max_step_attempts`, and, with `keep_trying_for`, not before the next
/// wait would take the waits so far to that.
void retry_or(saga_self* self, saga_event ev, const std::string& reason,
              std::chrono::milliseconds keep_trying_for = std::chrono::milliseconds{0}) {
  auto& st = self->state;
  auto waits = step_backoff(st, 1024);
  auto attempt = static_cast<std::uint32_t>(++st.attempts);
  // The waits so far: one before each try after the first.
  std::chrono::milliseconds waited{0};
  for (std::uint32_t i = 1; i < attempt; ++i)
    waited += waits.delay(i);
  auto delay = waits.delay(attempt);
  if (st.attempts >= st.rt.svc->saga.max_step_attempts && waited + delay >= keep_trying_for) {
    transition(self, ev, reason);
    return;
  }
  self->delayed_send(self, delay, atoms::step::value, st.step);
}

/// Sends one request per order line to the stock actors and calls
/// `done(refused, failed)` once all answered: `classify` says whether a
/// reply counts as done; not_found counts as refused, other errors as failed.
/// Each line's call is a span of the step's span `step_name`, and carries
/// its context to the stock record (on this node or another).
template <class MakeRequest, class Classify>
void ask_every_line(saga_self* self, const char* step_name, MakeRequest make_request,
                    Classify classify, std::function<void(int refused, int failed)> done) {
  using request = std::invoke_result_t<MakeRequest&, const order_line&>;
  auto& st = self->state;
  auto span = step_span(self);
  auto started = trace::now_ns();
  done = [self, span, started, step_name, done = std::move(done)](int refused, int failed) {
    trace::record(span, self->state.trace.span, step_name, trace::span_kind::internal, started,
                  {{"order.id", std::to_string(self->state.order.id)},
                   {"lines.refused", std::to_string(refused)},
                   {"lines.failed", std::to_string(failed)}},
                  failed > 0);
    trace::scope in_trace{span};
    done(refused, failed);
  };
  struct tally {
    std::size_t left;
    int refused = 0;
    int failed = 0;
  };
  auto t = std::make_shared<tally>(tally{st.order.lines.size()});
  auto step = st.step;
  auto finish_one = [self, t, step, done] {
    if (--t->left == 0 && step == self->state.step)
      done(t->refused, t->failed);
  };
  auto timeout = std::chrono::milliseconds(st.rt.svc->saga.step_timeout_ms);
  for (const auto& line : st.order.lines) {
    auto req = make_request(line);
    req.trace = trace::follow(span);
    auto line_span = [ctx = req.trace, parent = span.span, started = trace::now_ns(),
                      product = std::to_string(line.product)](const char* name, bool error) {
      trace::record(ctx, parent, name, trace::span_kind::client, started,
                    {{"product.id", product}}, error);
    };
    ask_entity(
      self, entity_router(*st.rt.svc), timeout, stock_key(line.product), std::move(req),
      [t, finish_one, classify, line_span](typename request::reply& reply) {
        bool counted = classify(reply);
        line_span("stock.line", !counted);
        if (!counted)
          ++t->refused;
        finish_one();
      },
      [t, finish_one, line_span](caf::error& err) {
        line_span("stock.line", true);
        if (to_errc(err) == errc::not_found)
          ++t->refused;
        else
          ++t->failed;
        finish_one();
      });
  }
}

/// The order's lines as the cart holds them.
std::vector<cart_line> cart_lines_of(const order_state& o) {
  std::vector<cart_line> lines;
  lines.reserve(o.lines.size());
  for (const auto& l : o.lines)
    lines.push_back({l.product, l.quantity, l.unit_price, l.name});
  return lines;
}

/// The first step, each request applied once per order (so a resumed saga
/// asks again safely): the order takes its units out of its user's cart,
/// all or nothing, and only then reserves every line. A cart that no longer
/// holds the units (a second order placed from the same cart before this
/// one took them, or the user took them out) cancels the order before any
/// stock or money is asked. Reserving in parallel with the take let two
/// quick checkouts of scarce units each win one of the two (one the cart,
/// the other the stock): both were cancelled and the units went back to the
/// cart (e2e_orders' quick second checkout, a CI failure of 2026-12-02).
void take_and_reserve(saga_self* self) {
  auto& st = self->state;
  // Each answer decides only while the saga is still in this step (a
  // deadline or a cancel may have moved it on meanwhile).
  auto step = st.step;
  auto span = step_span(self);
  auto started = trace::now_ns();
  auto traced = [self, span, started](const char* outcome, bool error) {
    trace::record(span, self->state.trace.span, "saga.take_from_cart", trace::span_kind::client,
                  started,
                  {{"order.id", std::to_string(self->state.order.id)}, {"cart.outcome", outcome}},
                  error);
  };
  auto reserve = [self, step] {
    if (step != self->state.step)
      return; // cancelled meanwhile: reserve nothing
    auto& o = self->state.order;
    auto ttl = self->state.rt.svc->saga.reserve_ttl_ms;
    ask_every_line(
      self, "saga.reserve",
      [&o, ttl](const order_line& l) { return reserve_stock{o.id, l.quantity, ttl}; },
      [](const reserve_reply& r) {
        return r.status == reserve_status::granted || r.status == reserve_status::already_held;
      },
      [self, step](int refused, int failed) {
        if (step != self->state.step)
          return;
        if (refused > 0)
          transition(self, saga_event::out_of_stock, "out_of_stock");
        else if (failed > 0)
          retry_or(self, saga_event::reserve_failed, "stock_unavailable");
        else
          transition(self, saga_event::reserved, "");
      });
  };
  ask_entity(
    self, entity_router(*st.rt.svc), std::chrono::milliseconds(st.rt.svc->saga.step_timeout_ms),
    cart_key(st.order), take_for_order{st.order.id, cart_lines_of(st.order)},
    [self, step, traced, reserve](bool taken) {
      traced(taken ? "taken" : "refused", !taken);
      if (taken)
        return reserve();
      // Without the cart's units it holds no stock: nothing to give back.
      if (step == self->state.step)
        transition(self, saga_event::cart_refused, "cart_changed");
    },
    [self, step, traced](caf::error&) {
      traced("failed", true);
      // Nothing reserved; the retry takes from the cart again first.
      if (step == self->state.step)
        retry_or(self, saga_event::reserve_failed, "cart_unavailable");
    });
}

/// Commits every line. The order is paid and its units are held for it: a
/// line that cannot be reached now (its shard moving to another node, its
/// disk full) is tried again while its waits add up to less than the
/// reservations were made to last (`reserve_ttl_ms`), not just
/// `max_step_attempts` times: giving up after a few seconds refunded a paid
/// order over a passing outage. Past that time the order ends as before
/// (its lines that committed meanwhile are given back by the cancel); a
/// reservation that ran out meanwhile is refused, which ends it as
/// reservation_expired (so a saga resumed after a crash, whose count of
/// waits starts again, is still bounded by the reservations themselves).
void commit_all(saga_self* self) {
  auto id = self->state.order.id;
  ask_every_line(
    self, "saga.commit", [id](const order_line&) { return commit_stock{id}; },
    [](const stock_view&) { return true; },
    [self](int refused, int failed) {
      if (refused > 0) {
        transition(self, saga_event::commit_failed, "reservation_expired");
      } else if (failed > 0) {
        // The wait may be long: PaymentAuthorized's event goes out now.
        if (!self->state.unwritten.empty())
          write_order(self, [] {}, [] {});
        retry_or(self, saga_event::commit_failed, "stock_unavailable",
                 std::chrono::milliseconds(self->state.rt.svc->saga.reserve_ttl_ms));
      } else {
        // The units left the cart when the order took them.
        transition(self, saga_event::committed, "");
      }
    });
}

/// The time left before the order's payment deadline; none, and the order
/// cancelled as payment_timeout, once it has passed.
std::optional<std::chrono::milliseconds> payment_time_left(saga_self* self) {
  auto remaining = self->state.order.payment_deadline - wall_clock_ms();
  if (remaining > 0)
    return std::chrono::milliseconds(remaining);
  transition(self, saga_event::payment_timed_out, "payment_timeout");
  return std::nullopt;
}

void charge(saga_self* self) {
  auto& st = self->state;
  auto remaining = payment_time_left(self);
  if (!remaining)
    return;
  auto step = st.step;
  if (st.attempts == 0)
    self->delayed_send(self, *remaining, atoms::deadline::value, step);
  auto span = step_span(self);
  auto started = trace::now_ns();
  auto charged = [self, span, started](const std::string& outcome) {
    trace::record(span, self->state.trace.span, "saga.charge", trace::span_kind::client, started,
                  {{"order.id", std::to_string(self->state.order.id)},
                   {"payment.outcome", outcome}},
                  outcome != "approved");
  };
  // The charge is not sent once the deadline has passed: the order is
  // cancelled by then, and a charge sent anyway would only be voided.
  self->request(st.rt.svc->payment, *remaining,
                charge_order{st.order.id, st.order.total, st.order.payment_method,
                             st.order.payment_deadline})
    .then(
      [self, step, charged](payment_reply& r) {
        charged(r.approved ? "approved" : r.reason);
        trace::scope in_trace{self->state.trace};
        if (step != self->state.step)
          return; // a cancel or the deadline got there first
        if (r.approved) {
          self->state.order.payment_id = r.payment_id;
          transition(self, saga_event::authorized, "");
        } else if (!r.action_secret.empty()) {
          // 3-D Secure: the buyer's browser must act; the saga waits.
          self->state.order.payment_id = r.payment_id;
          self->state.order.payment_action = r.action_secret;
          transition(self, saga_event::authentication_needed, "");
        } else {
          transition(self, saga_event::declined, r.reason);
        }
      },
      [self, step, charged](caf::error&) {
        charged("error");
        if (step != self->state.step)
          return;
        // Transient trouble (breaker open, retries exhausted): try again
        // until the deadline, which ends the order as payment_timeout.
        auto& st = self->state;
        ++st.attempts;
        self->delayed_send(self, step_backoff(st, 64).delay(st.attempts + 1),
                           atoms::step::value, step);
      });
}

/// AuthenticationRequired: nothing to do but wait for the buyer's browser
/// (check_order_payment) or the provider's notice, until the deadline.
void await_authentication(saga_self* self) {
  if (auto remaining = payment_time_left(self))
    self->delayed_send(self, *remaining, atoms::deadline::value, self->state.step);
}

/// The buyer's browser ran the card's authentication: asks the provider
/// what became of the charge, and goes on, cancels, or waits on. Answers
/// the order once what changed is durable (as it stands if nothing did).
caf::result<order_state> check_authentication(saga_self* self) {
  auto& st = self->state;
  if (st.order.status != order_status::authentication_required)
    return st.order;
  auto rp = self->make_response_promise();
  auto step = st.step;
  auto answer_now = [self, rp]() mutable { rp.deliver(self->state.order); };
  auto when_durable = [rp](const order_state* o) mutable {
    if (o)
      rp.deliver(*o);
    else
      rp.deliver(make_error(errc::storage_failure));
  };
  const auto& o = st.order;
  auto wait = st.rt.svc->saga.step_timeout_ms;
  self
    ->request(st.rt.svc->payment, std::chrono::milliseconds(wait),
              check_payment{o.id, o.total, o.payment_method, o.payment_id, wall_clock_ms() + wait})
    .then(
      [self, step, answer_now, when_durable](payment_reply& r) mutable {
        if (step != self->state.step || !r.action_secret.empty())
          return answer_now(); // moved on meanwhile, or still waiting
        bool moved = false;
        if (r.approved) {
          self->state.order.payment_id = r.payment_id;
          moved = transition(self, saga_event::authorized, "", when_durable);
        } else {
          moved = transition(self, saga_event::declined, r.reason, when_durable);
        }
        if (!moved)
          answer_now();
      },
      [answer_now](caf::error&) mutable {
        // The provider cannot tell now: the order waits on (the browser
        // may ask again; the deadline still holds).
        answer_now();
      });
  return rp;
}

/// Undoes a cancelled order: gives its units back to the cart, releases
/// every line (its hold, or its sale if the line committed before the
/// cancel: a user cancel during the commit, a hold that ran out while
/// another line committed), refunds/voids the charge. All idempotent;
/// retried until done; then marked compensated (persisted).
void compensate(saga_self* self, compensation what) {
  auto& st = self->state;
  struct tally {
    int left;
    bool failed = false;
  };
  auto lines = static_cast<int>(st.order.lines.size());
  auto t = std::make_shared<tally>(tally{lines + 1 + (what.refund_payment ? 1 : 0)});
  auto timeout = std::chrono::milliseconds(st.rt.svc->saga.step_timeout_ms);
  auto step = st.step;
  auto finish_one = [self, t, what, step] {
    if (--t->left > 0 || step != self->state.step)
      return;
    if (t->failed) {
      auto& s = self->state;
      ++s.attempts;
      self->delayed_send(self, step_backoff(s, 256).delay(s.attempts + 1), atoms::step::value,
                         step);
      return;
    }
    self->state.order.compensated = true;
    update_pin(self, false);
    write_order(self, [] {}, [] {});
  };
  ask_entity(
    self, entity_router(*st.rt.svc), timeout, cart_key(st.order),
    give_back_for_order{st.order.id, cart_lines_of(st.order)},
    [finish_one](cart_view&) { finish_one(); },
    [t, finish_one](caf::error&) {
      t->failed = true;
      finish_one();
    });
  for (const auto& line : st.order.lines)
    ask_entity(
      self, entity_router(*st.rt.svc), timeout, stock_key(line.product),
      release_stock{st.order.id, line.quantity}, [finish_one](bool) { finish_one(); },
      [t, finish_one](caf::error&) {
        t->failed = true;
        finish_one();
      });
  auto refund_wait = st.rt.svc->saga.refund_wait_ms;
  if (what.refund_payment)
    self->request(st.rt.svc->payment, std::chrono::milliseconds(refund_wait),
                  refund_order{st.order.id, st.order.total, st.order.payment_method,
                               wall_clock_ms() + refund_wait})
      .then([finish_one](bool) { finish_one(); },
            [t, finish_one](caf::error&) {
              t->failed = true;
              finish_one();
            });
}

/// Acts on a payment provider's notice (a webhook) once per event id; the
/// answer comes when what it changed is durable.
caf::result<std::string> on_notice(saga_self* self, const payment_notice& n) {
  auto& o = self->state.order;
  auto effect = notice_effect_of(o, n.kind, n.event_id, n.refunded);
  auto name = notice_effect_name(effect);
  if (effect == notice_effect::duplicate || effect == notice_effect::nothing)
    return name;
  log::write(log::level::info, "payment_notice",
             {{"order", std::to_string(o.id)}, {"event", n.event_id}, {"effect", name}});
  auto rp = self->make_response_promise();
  auto answer = [rp, name](const order_state* done) mutable {
    if (done)
      rp.deliver(name);
    else
      rp.deliver(make_error(errc::storage_failure));
  };
  remember_notice(o, n.event_id);
  switch (effect) {
    case notice_effect::authorize:
      // The notice beat the charge call's own answer: the saga goes on
      // (the call's answer, when it comes, belongs to a past step).
      o.payment_id = n.payment_id;
      transition(self, saga_event::authorized, "", answer);
      break;
    case notice_effect::decline:
      transition(self, saga_event::declined, n.reason.empty() ? "card_declined" : n.reason,
                 answer);
      break;
    case notice_effect::refund_again:
      // The charge went through after the order was given up: undo it
      // again (refunds are idempotent; the stock releases too).
      o.compensated = false;
      update_pin(self, true);
      write_order(
        self,
        [self, answer]() mutable {
          answer(&self->state.order);
          compensate(self, {false, true});
        },
        [answer]() mutable { answer(nullptr); });
      break;
    default: // record_refund
      o.refunded = n.refunded;
      write_order(
        self, [self, answer]() mutable { answer(&self->state.order); },
        [answer]() mutable { answer(nullptr); });
      break;
  }
  return rp;
}

void resume(saga_self* self) {
  auto& o = self->state.order;
  // An unfinished saga stays resident: its timers and retries must run.
  update_pin(self, !is_terminal(o.status) ||
                     (o.status == order_status::cancelled && !o.compensated));
  switch (o.status) {
    case order_status::submitted: return take_and_reserve(self);
    case order_status::stock_reserved: return charge(self);
    case order_status::authentication_required: return await_authentication(self);
    case order_status::payment_authorized: return commit_all(self);
    case order_status::cancelled:
      if (!o.compensated) {
        bool charge_possible = std::any_of(o.timeline.begin(), o.timeline.end(), [](auto& t) {
          return t.status == order_status::stock_reserved;
        });
        compensate(self, {true, charge_possible});
      }
      return;
    case order_status::confirmed: return;
  }
}

caf::behavior order_saga(saga_self* self, shared_text id, shared_services svc,
                         std::optional<order_state> placed, trace::context trace) {
  self->state.rt = entity_runtime{entity_ref{entity_kind::order, std::move(id)}, std::move(svc)};
  self->state.trace = trace;
  crash_on_exception(self);
  auto adopt = [self](order_state order) {
    self->state.order = std::move(order);
    self->state.known = true;
    count_working(self, self->state.order.status);
    resume(self);
  };
  // A new order arrives with its first state, written durably by the index
  // just before; any other activation reads the store.
  if (placed)
    adopt(std::move(*placed));
  else
    load_snapshot(self, [self, adopt](std::optional<persistence::snapshot> found) {
      if (!found)
        return; // never placed: every request answers not_found
      auto order = persistence::read_order(*found);
      if (!order)
        return self->quit(make_error(errc::storage_failure));
      adopt(std::move(*order));
    });
  auto start = [self]() -> caf::result<bool> {
    if (!self->state.known)
      return make_error(errc::not_found);
    return true;
  };
  return {
    [start](const start_order&) { return start(); },
    [self](const get_order&) -> caf::result<order_state> {
      if (!self->state.known)
        return make_error(errc::not_found);
      return self->state.order;
    },
    [self](const cancel_order&) -> caf::result<order_state> {
      auto& st = self->state;
      if (!st.known)
        return make_error(errc::not_found);
      if (st.order.status == order_status::confirmed)
        return make_error(errc::conflict);
      if (st.order.status == order_status::cancelled)
        return st.order; // idempotent
      auto rp = self->make_response_promise();
      transition(self, saga_event::user_cancel, "cancelled_by_user",
                 [rp](const order_state* o) mutable {
                   if (o)
                     rp.deliver(*o);
                   else
                     rp.deliver(make_error(errc::storage_failure));
                 });
      return rp;
    },
    [self](const check_order_payment&) -> caf::result<order_state> {
      if (!self->state.known)
        return make_error(errc::not_found);
      return check_authentication(self);
    },
    [self](payment_notice& n) -> caf::result<std::string> {
      if (!self->state.known)
        return make_error(errc::not_found);
      return on_notice(self, n);
    },
    [self](atoms::step, std::uint64_t step) {
      if (step == self->state.step)
        resume(self);
    },
    [self](atoms::deadline, std::uint64_t step) {
      auto& st = self->state;
      if (step == st.step && awaiting_payment(st.order.status))
        transition(self, saga_event::payment_timed_out, "payment_timeout");
    },
    [self](atoms::passivate) { passivate_when_idle(self); },
  };
}

} // namespace

caf::actor spawn_order(caf::actor_system& sys, shared_text order, shared_services svc,
                       std::optional<order_state> placed, trace::context trace,
                       entity_start start) {
  if (start == entity_start::now)
    return sys.spawn(order_saga, std::move(order), std::move(svc), std::move(placed), trace);
  return sys.spawn<caf::lazy_init>(order_saga, std::move(order), std::move(svc),
                                   std::move(placed), trace);
}

} // namespace emporium
