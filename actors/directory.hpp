// The entity directory: `entity(kind, id)` -> the actor, wherever it lives.
//
// Callers never hold an entity's handle. They send `(entity_key, message)`
// to a directory, which activates the entity on first use, forwards the
// message (the entity answers the caller directly), passivates idle entities
// and the least recently used ones over the per-node cap, and supervises:
// a crashed entity is restarted from its persisted state with exponential
// backoff while messages for it wait in a bounded buffer (or, when the
// restart is further off than a caller would wait, are refused at once).
//
// Life of one slot:
//
//   (absent) --msg--> running --idle/cap--> stopping --down(normal)--> (absent)
//                        ^  \                   |  messages buffered    |
//                        |   \--down(crash)--> restarting --backoff-----/ respawn,
//                        |                      messages buffered        flush buffer
//                        `----------------------------------------------'
#pragma once

#include "actors/entity_services.hpp"
#include "domain/entity_limits.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <functional>

namespace emporium {

struct directory_options {
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)}; ///< 0 = never
  std::size_t max_resident = default_max_resident; ///< per-node cap on live entities
  std::chrono::milliseconds backoff_base{100}; ///< first restart delay after a crash
  std::chrono::milliseconds backoff_max{10'000};
  std::size_t max_buffered = 1024; ///< per entity, while it (re)starts
  /// A message for an entity whose restart is further off than this is
  /// answered `unavailable` at once instead of waiting: its caller (the
  /// edge gives up after 5 s) would time out first, and a client told 503
  /// with Retry-After can come back (a full disk failed every write, so a
  /// cart's restart backed off to 10 s and its adds ended in 504s).
  std::chrono::milliseconds longest_wait_for_restart{1000};
  /// Spawns the actor for a key; empty = spawn_entity (the real entities).
  /// Supervision tests give one that fails in ways real entities rarely do.
  std::function<caf::actor(caf::actor_system&, const entity_ref&, const shared_services&,
                           const caf::message&)>
    spawn;
};

/// Spawns a directory. `svc.directory` is filled in by the directory itself.
caf::actor spawn_directory(caf::actor_system& sys, directory_options opts,
                           entity_services svc);

} // namespace emporium

