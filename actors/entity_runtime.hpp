// The life cycle every entity actor shares: load its snapshot before serving
// anything, persist each change before replying (write-before-reply), and
// passivate only once no write is in flight. Cart and stock actors embed an
// `entity_runtime` in their state and call these helpers.
#pragma once

#include "actors/entity_services.hpp"
#include "actors/protocol.hpp"
#include "support/log.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <optional>
#include <type_traits>
#include <string>

namespace emporium {

/// Asks the entity `key` through `router` (the location-free envelope) with
/// a typed request; `on_reply` must take the request's reply type, so a
/// caller that expects the wrong answer does not compile.
template <class Request, class Self, class OnReply, class OnError>
void ask_entity(Self* self, const caf::actor& router, std::chrono::milliseconds timeout,
                entity_key key, Request req, OnReply on_reply, OnError on_error) {
  using reply = typename Request::reply;
  static_assert(std::is_invocable_v<OnReply&, reply&>, "on_reply must take Request::reply");
  self->request(router, timeout, std::move(key), caf::make_message(std::move(req)))
    .then([on_reply](reply& r) mutable { on_reply(r); },
          [on_error](caf::error& err) mutable { on_error(err); });
}

struct entity_runtime {
  entity_ref key;
  shared_services svc; // never null
  int writes_in_flight = 0;
  bool quit_when_idle = false; // passivation asked while writes were in flight
  bool pinned = false;         // told the directory not to passivate us when idle
  caf::error failed;           // a write failed: the state in memory is not on disk
};

/// An exception inside an entity is that entity's crash, never the node's:
/// it is logged with the entity's key and the actor ends with
/// errc::internal; the directory then restarts it from its last durable
/// state with backoff. Call first in every entity's behaviour function.
template <class State>
void crash_on_exception(caf::stateful_actor<State>* self) {
  self->set_exception_handler([self](std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (...) {
      what = log::current_exception_text();
    }
    const auto& key = self->state.rt.key;
    log::error("entity_threw", {{"kind", std::to_string(static_cast<int>(key.kind))},
                                {"id", key.id.str()},
                                {"error", what}});
    return make_error(errc::internal);
  });
}

/// Tells the directory whether this entity must stay resident (running
/// timers or an unfinished saga); sent only when it changes.
template <class State>
void update_pin(caf::stateful_actor<State>* self, bool want) {
  auto& rt = self->state.rt;
  if (want == rt.pinned || !rt.svc->directory)
    return;
  rt.pinned = want;
  self->send(rt.svc->directory, atoms::pin::value, rt.key.key(), want);
}

/// Loads the snapshot and hands it to `on_loaded` (nullopt = new entity)
/// before any other message is processed (`await`). A store failure ends the
/// actor with that error: the directory restarts it with backoff.
template <class State, class OnLoaded>
void load_snapshot(caf::stateful_actor<State>* self, OnLoaded on_loaded) {
  auto& rt = self->state.rt;
  if (!rt.svc->store) {
    on_loaded(std::optional<persistence::snapshot>{});
    return;
  }
  self->request(rt.svc->store, caf::infinite,
                load_state{static_cast<std::uint8_t>(rt.key.kind), rt.key.id.str()})
    .await(
      [self, on_loaded](persistence::snapshot& found) mutable {
        if (found.empty())
          on_loaded(std::optional<persistence::snapshot>{});
        else
          on_loaded(std::optional<persistence::snapshot>{std::move(found)});
      },
      [self](caf::error& err) { self->quit(err); });
}

/// After a failed write the state in memory holds a change that is not on
/// disk: nothing may build on it or read it. Every request still to come is
/// refused with the write's error, and the actor ends once the writes
/// already in flight have their answers, so each of their callers hears
/// one (an actor that ended at the first failure left them to time out:
/// CAF 0.17 drops a promise silently). Its next incarnation reloads the
/// last durable state.
template <class State>
void refuse_after_failed_write(caf::stateful_actor<State>* self, caf::error err) {
  auto& rt = self->state.rt;
  if (!rt.failed) {
    rt.failed = err;
    self->set_default_handler(
      [err](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
        return err;
      });
    // One handler so that the behaviour is not empty (an actor without one
    // ends at once); every other message falls to the default handler.
    self->become([](atoms::passivate) {});
  }
  if (rt.writes_in_flight == 0)
    self->quit(rt.failed);
}

/// Persists `snapshot`, then calls `on_durable()`. On a failed write it
/// calls `on_failed()` and the actor refuses everything and ends (see
/// refuse_after_failed_write), so its next incarnation reloads the last
/// durable state instead of serving a state that was never written. A
/// write still in flight then may well succeed; as its snapshot holds the
/// failed change too, that change is durable after all, which a caller
/// told storage_failure must allow for (an error is no proof that nothing
/// happened; operation ids make the retry safe).
/// With `events`, they are written in the same transaction (the outbox).
/// With `sale` (stock records), the sale made or given back is recorded too.
template <class State, class OnDurable, class OnFailed>
void persist(caf::stateful_actor<State>* self, persistence::snapshot snapshot,
             OnDurable on_durable,
             OnFailed on_failed, std::vector<order_event> events = {},
             std::optional<persistence::sale_change> sale = {}) {
  auto& rt = self->state.rt;
  if (rt.failed) { // a timer's or a step's write after the failure
    on_failed();
    return;
  }
  ++rt.writes_in_flight;
  persistence::entity_write write{static_cast<std::uint8_t>(rt.key.kind), rt.key.id.str(),
                                  std::move(snapshot), std::move(events)};
  write.sale = sale;
  self->request(rt.svc->store, caf::infinite, save_state{std::move(write)})
    .then(
      [self, on_durable]() mutable {
        on_durable();
        auto& rt = self->state.rt;
        if (--rt.writes_in_flight == 0 && (rt.quit_when_idle || rt.failed))
          self->quit(rt.failed);
      },
      [self, on_failed](caf::error& err) mutable {
        on_failed();
        --self->state.rt.writes_in_flight;
        refuse_after_failed_write(self, err);
      });
}

/// Persists `snapshot` and answers `reply` once it is durable (write before
/// reply); the caller gets storage_failure if the write fails.
template <class State, class Reply>
caf::result<Reply> persist_then_reply(caf::stateful_actor<State>* self,
                                      persistence::snapshot snapshot, Reply reply,
                                      std::optional<persistence::sale_change> sale = {}) {
  if (!self->state.rt.svc->store)
    return reply;
  auto rp = self->template make_response_promise<Reply>();
  persist(
    self, std::move(snapshot),
    [rp, reply = std::move(reply)]() mutable { rp.deliver(std::move(reply)); },
    [rp]() mutable { rp.deliver(make_error(errc::storage_failure)); }, {}, sale);
  return rp;
}

/// Persists a change nobody waits for (a timer fired).
template <class State>
void persist_unanswered(caf::stateful_actor<State>* self, persistence::snapshot snapshot) {
  if (self->state.rt.svc->store)
    persist(self, std::move(snapshot), [] {}, [] {});
}

/// Handles the directory's passivation request: stop now, or after the last
/// in-flight write has been acknowledged.
template <class State>
void passivate_when_idle(caf::stateful_actor<State>* self) {
  auto& rt = self->state.rt;
  if (rt.writes_in_flight == 0)
    self->quit();
  else
    rt.quit_when_idle = true;
}

} // namespace emporium
