// The router's state and the functions its parts call on each other.
// Internal to actors/cluster/: included by the router's .cpp files only (it
// pulls in CAF). The parts:
//   routing.cpp        where a message goes: a local shard, a peer, a buffer
//   shard_hosting.cpp  opening and draining the shards this node owns
//   membership.cpp     peers, seeds, quorum, who owns which shard, leaving
//   cluster_status.cpp GET /api/cluster, gathered from every member
//   router.cpp         the behaviour that wires them together
#pragma once

#include "actors/accounts/accounts_interface.hpp"
#include "actors/cluster/router.hpp"
#include "actors/order/order_index_interface.hpp"
#include "persistence/fencing.hpp"
#include "persistence/file_lock.hpp"
#include "support/metrics.hpp"
#include "support/repeat_filter.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <memory>
#include <string>
#include <vector>

namespace emporium::cluster_router {

/// Who in a shard a message is for: an entity (through the shard's
/// directory), or one of the shard's services.
enum class service : std::uint8_t { entity = 0, index = 1, accounts = 2 };

struct target {
  std::uint32_t shard = 0;
  service to = service::entity;
  entity_key key; // when to == entity
};

/// A message that waits while its shard changes hands.
struct parked {
  std::uint8_t hops = 0;
  target where;
  caf::message payload;
  caf::response_promise promise;
};

enum class phase : std::uint8_t { absent, acquiring, ready, releasing };

struct shard_slot {
  std::string owner; // by the current view; "" = nobody (no quorum)
  /// The peer that said it has the shard open ("" = none known). While
  /// views diverge (a node joins, and not every pair has met yet) the owner
  /// by our view may still wait for the lock its previous holder keeps:
  /// messages go to the holder instead of waiting with the owner.
  std::string holder;
  phase state = phase::absent;
  /// The shard's lock file; null while the shard is held by epoch alone
  /// (taken over from a holder that still has the lock, see fencing.hpp).
  std::unique_ptr<persistence::file_lock> lock;
  /// The ownership epoch this node opened the file at, shared with the
  /// shard's connections (0 while not open).
  std::shared_ptr<std::atomic<std::int64_t>> fence =
    std::make_shared<std::atomic<std::int64_t>>(0);
  /// After being fenced: not opened again before this (see router_options).
  caf::actor_clock::time_point hold_until{};
  bool write_lock_logged = false; // "the file's write lock is held" said once per wait
  /// Opening is retried every 100 ms: a failure that repeats (a file a newer
  /// build migrated, an I/O error) is logged once, then every 10 s.
  repeat_filter open_failures{std::chrono::seconds(10)};
  /// A takeover needs every live peer to agree that the holder is gone
  /// (a holder one of them still reaches is alive, only not reachable from
  /// here: taking its shard would make the two of us fence each other).
  bool asking_peers = false;
  std::string cleared_holder; // the holder the peers last agreed is gone
  caf::actor_clock::time_point cleared_at{};
  store_actor store;
  order_index_actor index;
  caf::actor directory;
  accounts_actor accounts;
  int running = 0; // of the four actors above, while releasing
  caf::actor_clock::time_point acquiring_since; // for the hand-off duration
  caf::actor_clock::time_point releasing_since; // for the drain duration
  bool drain_slow_logged = false; // "still draining" said once per drain
  bool drain_forced = false;      // the drain's deadline passed and was acted on
  bool directory_stopped = false; // during a drain: its entities have all stopped
  std::vector<parked> waiting;
};

struct peer {
  caf::actor handle;
  std::string address;
};

/// A request forwarded to a peer whose answer has not come back: kept so
/// that if the peer dies first it can be sent again or answered at once.
struct relayed {
  std::string peer;
  parked request;
};

struct seed_state {
  cluster::seed_address addr;
  std::string name; // learned from its welcome; "" while not connected
  bool connecting = false;
  caf::actor_clock::time_point next_try{};
  std::uint32_t failures = 0; // in a row: the reconnect backoff's attempt
  std::uint32_t quick_retries = 0; // handshakes cut by a tick, in a row
  /// Set while the seed refuses our hello for its wire fingerprint (or we
  /// refuse its): the fingerprint it has, or why it has none.
  std::string incompatible;
};

/// The shard actors that run now. Shared with a functor attached to the
/// router, so that a router that ends abruptly takes its shards' actors
/// with it (in a process that would be the process ending).
using running_actors = std::map<caf::actor_addr, std::pair<std::uint32_t, caf::actor>>;

/// Hops a message may take between routers whose views disagree before it
/// waits for the views to settle.
constexpr std::uint8_t max_hops = 3;

struct router_state {
  router_options opts;
  router_services svc;
  std::shared_ptr<cluster_health> health;
  std::vector<shard_slot> shards;
  std::map<std::string, peer> peers;
  /// Peers that said they are leaving, still monitored until they are
  /// gone: a request relayed to one that it never took in (it quit first,
  /// or its process ended with the request on the wire) goes again then,
  /// instead of waiting for the relay's timeout.
  std::map<std::string, caf::actor> departing;
  std::vector<seed_state> seeds;
  /// Each seed's dialer (peer_dialer.hpp), by seed index, spawned at its
  /// first dial; shared with a functor that stops them when the router ends.
  std::shared_ptr<std::vector<caf::actor>> dialers = std::make_shared<std::vector<caf::actor>>();
  /// Nodes whose hellos we refused, by name: the fingerprint they sent
  /// ("" for a build from before fingerprints), logged once per change.
  std::map<std::string, std::string> refused;
  std::shared_ptr<running_actors> shard_actors = std::make_shared<running_actors>();
  bool quorum = true;
  bool stopping = false;
  caf::error stop_reason;
  std::map<std::uint64_t, relayed> relays; // by relay number (routing.cpp)
  std::uint64_t next_relay = 1;
  event_sink sink; // shard stores publish through it
  metrics::gauge* mailbox = nullptr;
  std::uint32_t mailbox_samples = 0;
  /// Spreads reconnect attempts: two nodes dialling each other in step
  /// keep colliding (CAF drops one of two simultaneous connections on each
  /// side). Seeded by the node name, so a simulation stays deterministic.
  std::minstd_rand jitter;
  static inline const char* name = "router";
};

using router_self = caf::stateful_actor<router_state>;

// routing.cpp
target target_of(const entity_key& key, std::uint32_t shards);
std::uint32_t shard_for(const shard_key& key, std::uint32_t shards);
void route(router_self* self, std::uint8_t hops, target where, caf::message& payload);
void flush_waiting(router_self* self, std::uint32_t shard);
void retry_parked(router_self* self);
/// The requests forwarded to `peer` (which died) whose answers are still
/// due: sent again where their shard is now if that is safe (reads, and
/// changes that apply once, see routing.cpp), else answered `unavailable`.
void resend_relayed(router_self* self, const std::string& peer);

// shard_hosting.cpp
/// Opens a shard this node owns, or asks whoever has it open to let go.
void try_acquire(router_self* self, std::uint32_t shard);
/// `node` owns `shard` by its view and waits for it: let go if ours agrees.
void on_wanted(router_self* self, std::uint32_t shard, const std::string& node);
void release_shard(router_self* self, std::uint32_t shard);
/// Watches the drains: one over 10 s is logged once (a drain waits for
/// every entity to finish its writes, and one that never ends keeps the
/// shard from its new owner), one past the deadline is ended by force
/// (router_options::drain_deadline).
void watch_drains(router_self* self);
void on_shard_actor_down(router_self* self, std::uint32_t shard, const caf::down_msg& msg);
/// Tells every peer (or one) that this node opened or began to drain a shard.
void announce_holding(router_self* self, std::uint32_t shard, bool open);
void announce_open_shards(router_self* self, const caf::actor& peer);
void on_holding(router_self* self, const shard_holding& note);
void update_health(router_self* self);

// membership.cpp
void recompute(router_self* self);
void add_peer(router_self* self, const std::string& name, const caf::actor& handle,
              const std::string& address);
void on_peer_down(router_self* self, const caf::down_msg& msg);
void on_peer_leaving(router_self* self, const std::string& name);
void connect_seeds(router_self* self);
void begin_stop(router_self* self, caf::error reason);
/// A stopping router ends once its shards are closed and every request it
/// relayed has its answer.
void quit_when_done(router_self* self);

// cluster_status.cpp
void local_status(router_self* self, caf::typed_response_promise<member_view> rp);
/// With `user`, the view also names the shard of that user's cart and
/// orders (the router's own answer: callers never hash keys themselves).
void cluster_status(router_self* self, caf::typed_response_promise<cluster_view> rp,
                    std::optional<std::string> user);
/// This node's figures for GET /api/admin/stats.
node_stats local_stats(router_self* self);
/// Every member's figures (one that does not answer in 3 s as unreachable).
void cluster_stats(router_self* self, caf::typed_response_promise<std::vector<node_stats>> rp);

} // namespace emporium::cluster_router
