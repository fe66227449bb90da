// The actor class of an entity whose handlers every instance shares (carts,
// stock records): its key and services, its snapshot loaded before anything
// else, an exception its crash alone, and one handler table per process
// (shared_behavior.hpp). An entity's state type supplies the rest:
//   static constexpr entity_kind kind;
//   static void adopt(caf::stateful_actor<State>*, std::optional<persistence::snapshot>);
//     takes the loaded snapshot (none: a new entity) before any message;
//   static caf::behavior handlers();  // calls entity_actor<State>::running()
// Included by entity .cpp files only (it pulls in CAF).
#pragma once

#include "actors/entity_runtime.hpp"
#include "actors/shared_behavior.hpp"

#include <optional>
#include <string>
#include <utility>

namespace emporium {

template <class State>
class entity_actor final : public shared_behavior_actor<State> {
public:
  entity_actor(caf::actor_config& cfg, shared_text id, shared_services svc)
    : shared_behavior_actor<State>(cfg) {
    this->state.rt = entity_runtime{entity_ref{State::kind, std::move(id)}, std::move(svc)};
  }

  caf::behavior make_behavior() override {
    crash_on_exception<State>(this);
    load_snapshot<State>(this, [self = this](std::optional<persistence::snapshot> found) {
      State::adopt(self, std::move(found));
    });
    static const caf::behavior handlers = State::handlers();
    return handlers;
  }
};

/// Spawns an entity actor (see entity_start).
template <class State>
caf::actor spawn_entity(caf::actor_system& sys, shared_text id, shared_services svc,
                        entity_start start) {
  if (start == entity_start::now)
    return sys.spawn<entity_actor<State>>(std::move(id), std::move(svc));
  return sys.spawn<entity_actor<State>, caf::lazy_init>(std::move(id), std::move(svc));
}

} // namespace emporium
