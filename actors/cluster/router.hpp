// The node's router: the one address every caller uses for an entity,
// wherever it lives.
//
//   (entity_key, message)              -> the entity's answer
//   (shard_call, shard_key, message)   -> the answer of the key's shard's order index
//   (accounts_call, shard_key, message) -> the answer of the key's shard's accounts
//
// It hashes the key to a shard, computes the shard's owner from the live
// members (cluster::assign_owners), and either hands the message to the
// shard's local directory or relays it to the owner's router (the answer
// comes back through the routers it went through). Messages for a shard
// that is changing hands wait in a bounded buffer until the new owner has
// recovered it. Routers tell each other which shards they have open: while
// views diverge (a node joins and not every pair has met yet), the owner by
// one router's view may still wait for the lock another node holds, and
// messages go to that holder instead of waiting.
//
// Shards owned here each have an exclusive lock file, a store actor, a
// directory, an order index and an accounts actor on the shard's own SQLite
// file; a shard that
// moves away is drained (its entities flush and stop) before its lock is
// released, and a shard that arrives is opened as soon as its lock is free
// and its unfinished order sagas resume.
//
// Membership: the router is published on the node port; it connects to every
// seed (retrying with backoff) through the connector (a dialer per seed, or a
// simulated network in a test), introduces itself with (hello, name, self,
// wire fingerprint; nodes whose fingerprints differ refuse each other,
// wire_protocol.hpp) and monitors each peer; CAF's heartbeat and
// connection timeout turn a dead or frozen peer into a down message. Without a majority of the configured
// members it owns no shard and refuses entity messages (unavailable).
// The parts live in routing.cpp, shard_hosting.cpp, membership.cpp and
// cluster_status.cpp (router_state.hpp lists them).
#pragma once

#include "domain/shard_map.hpp"
#include "actors/accounts/account_limits.hpp"
#include "actors/directory.hpp"
#include "actors/entity_services.hpp"
#include "actors/wire_protocol.hpp"
#include "persistence/retention.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace emporium {

struct router_options {
  std::string node_name = "local";
  std::vector<cluster::seed_address> seeds; ///< the other members (self excluded)
  std::uint32_t shards = 12;
  std::string data_dir;
  persistence::durability level = persistence::durability::normal;
  directory_options directory;
  std::chrono::milliseconds tick{250};          ///< membership and retry period
  std::chrono::milliseconds max_reconnect{2000}; ///< backoff cap for a seed that is down
  std::size_t max_parked = 10'000;               ///< per shard, while it moves
  /// How long a silent peer takes to be declared down (CAF's connection
  /// timeout, set by main): a node whose shard was fenced waits twice this
  /// before opening it again, by then its view of the members is current.
  std::chrono::milliseconds peer_timeout{2000};
  /// How long the owner by a quorum's view waits for a shard's lock before
  /// it takes the shard from a holder that is not a live member (frozen,
  /// or cut off but still alive) by raising the file's ownership epoch.
  std::chrono::milliseconds takeover_grace{200};
  /// A shard's drain ends by itself in milliseconds (each entity finishes
  /// its mailbox and writes). One that has not ended after this is ended by
  /// force: its entities are killed (their acknowledged state is on disk),
  /// so that one entity that never stops cannot keep the shard from its
  /// new owner for good.
  std::chrono::milliseconds drain_deadline{20'000};
  persistence::retention_policy retention;        ///< each open shard's sweeps
  /// What each shard's accounts actor counts: login attempts per (client
  /// address, account) for its accounts, and logins and registrations per
  /// client address, each address at one shard (spawn_accounts).
  account_limits accounts;
  bool tls = false; ///< connect to seeds through CAF's OpenSSL module (loaded by main)
  /// This build's message layouts (wire_protocol.hpp): a peer whose hello
  /// names another is refused, and refuses us (a test sets a different one).
  std::string wire = wire_fingerprint();
  /// The network seam: answers (connect_atom, host, port) like CAF's
  /// middleman; invalid = a dialer per seed (peer_dialer.hpp), over TLS
  /// with `tls`.
  /// A deterministic test plugs a simulated network in here.
  caf::actor connector;
  /// The store and accounts actors block on SQLite: their own threads in
  /// production, the test scheduler in a deterministic test.
  spawn_mode sqlite_actors = spawn_mode::own_thread;
};

struct router_services {
  catalog_actor catalog; ///< this node's catalog writer (stock events, remote announcements)
  payment_actor payment; ///< this node's payment actor (order sagas)
  saga_options saga;
  event_sink publish_local; ///< delivers an outbox event to this node's live clients
};

/// Read by the HTTP edge without asking an actor.
struct cluster_health {
  std::atomic<bool> quorum{true};
  std::atomic<std::uint32_t> live_members{1};
  std::atomic<std::uint32_t> owned_shards{0};
  std::atomic<std::uint32_t> ready_shards{0};
};

caf::actor spawn_router(caf::actor_system& sys, router_options opts, router_services svc,
                        std::shared_ptr<cluster_health> health);

/// The shard an entity lives in: the router's rule, which start-up seeding
/// (stock rows written before any actor runs) uses too, so that no one
/// else hashes keys.
std::uint32_t shard_of(const entity_key& key, std::uint32_t shards);

} // namespace emporium
