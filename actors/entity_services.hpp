// What every entity actor is given at spawn: where to persist, whom to tell.
#pragma once

#include "actors/protocol.hpp"

#include "persistence/database.hpp"

#include <caf/actor.hpp>

namespace emporium {

struct entity_services {
  caf::actor store;        ///< store actor; invalid = persistence off (benchmarks)
  caf::actor directory;    ///< the directory that owns the entity (pinning)
  caf::actor stock_events; ///< receives (stock_changed, product, available); may be invalid
};

/// True when `key` can name an entity (stock ids are positive integers).
bool is_valid_key(const entity_key& key);

/// Spawns the actor for `key` (used by the directory's factory).
caf::actor spawn_entity(caf::actor_system& sys, const entity_key& key,
                        const entity_services& svc);

caf::actor spawn_cart(caf::actor_system& sys, const std::string& user,
                      const entity_services& svc);
caf::actor spawn_stock(caf::actor_system& sys, const std::string& product,
                       const entity_services& svc);

/// The store actor: loads snapshots and writes them with group commit.
/// `detached` gives it its own thread (production); tests run it on the
/// deterministic scheduler instead.
caf::actor spawn_store(caf::actor_system& sys, const std::string& db_path, persistence::durability level,
                       bool detached);

} // namespace emporium
