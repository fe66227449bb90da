// What every entity actor is given at spawn: where to persist, whom to tell.
#pragma once

#include "support/trace.hpp"

#include "actors/entity_ref.hpp"
#include "actors/protocol.hpp"
#include "actors/spawn_mode.hpp"

#include "persistence/fencing.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace emporium {

class saga_load; // actors/order/saga_load.hpp

/// Timing of the order saga's steps (config: order-*).
struct saga_options {
  std::int64_t reserve_ttl_ms = 10 * 60 * 1000; ///< how long stock stays reserved
  std::int64_t payment_timeout_ms = 30'000;     ///< charge must answer by then
  /// A card that asks for 3-D Secure: its buyer must pass it by then.
  std::int64_t authentication_timeout_ms = 5 * 60 * 1000;
  std::int64_t step_timeout_ms = 5'000;         ///< one request to an actor
  /// How long a compensation waits for its refund. Long: the payment
  /// actor's queue may hold thousands of voids after an outage, and asking
  /// again only joins the call already waiting (payment_actor.hpp).
  std::int64_t refund_wait_ms = 10 * 60 * 1000;
  int max_step_attempts = 5;                    ///< retries of reserve/commit
  std::int64_t backoff_base_ms = 50;            ///< doubles per attempt
  /// The node's count of working sagas and its bound on them (shared by
  /// its sagas and order indexes); null = neither counted nor bounded.
  std::shared_ptr<saga_load> load;
};

struct entity_services {
  store_actor store;       ///< the shard's store; invalid = persistence off (benchmarks)
  caf::actor directory;    ///< the directory that owns the entity (pinning)
  catalog_actor stock_events; ///< told every stock_level; may be invalid
  payment_actor payment;   ///< the payment actor (order sagas)
  saga_options saga;
  caf::actor router; ///< reaches any entity on any node; invalid = use `directory`
};

/// The services as entities hold them: one copy per directory, shared by
/// every entity it spawns (a copy in each entity cost 80 bytes).
using shared_services = std::shared_ptr<const entity_services>;

/// Where an entity sends messages for OTHER entities.
inline const caf::actor& entity_router(const entity_services& svc) {
  return svc.router ? svc.router : svc.directory;
}

/// True when `key` can name an entity (stock ids are positive integers).
bool is_valid_key(const entity_key& key);

/// How an entity actor starts: `on_first_message` (CAF's lazy_init: the
/// first message schedules it, which saves a scheduling round per
/// activation) or `now`, for a restart with no message waiting: a saga or a
/// stock record holding reservations has timers and steps to run, and a
/// lazy restart left them asleep until someone happened to ask (a saga
/// that crashed on a full disk stayed Submitted for good).
enum class entity_start : std::uint8_t { on_first_message, now };

/// Spawns the actor for `key` (used by the directory's factory). `first` is
/// the message that activates it: a start_order with a placed order hands a
/// new order its durable first state, so the saga needs no read before it runs.
caf::actor spawn_entity(caf::actor_system& sys, const entity_ref& key,
                        const shared_services& svc, const caf::message& first);

caf::actor spawn_cart(caf::actor_system& sys, shared_text user, shared_services svc,
                      entity_start start = entity_start::on_first_message);
caf::actor spawn_stock(caf::actor_system& sys, shared_text product, shared_services svc,
                       entity_start start = entity_start::on_first_message);
/// `placed`: a new order's first state; `trace`: the placement's span,
/// which the saga's steps join.
caf::actor spawn_order(caf::actor_system& sys, shared_text order, shared_services svc,
                       std::optional<order_state> placed = {},
                       trace::context trace = {},
                       entity_start start = entity_start::on_first_message);

/// Receives every outbox row right after the transaction that wrote it.
using event_sink = std::function<void(const order_event&)>;

/// The store actor: loads snapshots and writes them with group commit. Its
/// own thread in production; the deterministic scheduler in tests.
/// With a fence (the shard's ownership epoch, persistence/fencing.hpp) a
/// commit that finds another node's epoch fails and stops the store.
/// `commit_delay`: how long a flush may wait for more saves (store_actor.cpp);
/// unset, 100 us on a thread of its own and none on the workers.
store_actor spawn_store(caf::actor_system& sys, const std::string& db_path,
                        persistence::durability level, spawn_mode mode,
                        event_sink on_event = {}, persistence::epoch_fence fence = {},
                        std::optional<std::chrono::microseconds> commit_delay = {});

} // namespace emporium
