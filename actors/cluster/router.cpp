// The node's router (see router.hpp).
#include "actors/cluster/router.hpp"

#include "domain/backoff.hpp"
#include "domain/shard_map.hpp"
#include "actors/accounts/accounts_actor.hpp"
#include "actors/order/order_index_actor.hpp"
#include "persistence/file_lock.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace emporium {

namespace {

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
  phase state = phase::absent;
  std::unique_ptr<persistence::file_lock> lock;
  store_actor store;
  order_index_actor index;
  caf::actor directory, accounts;
  int running = 0; // of the four actors above, while releasing
  std::vector<parked> waiting;
};

struct peer {
  caf::actor handle;
  std::string address;
};

struct seed_state {
  cluster::seed_address addr;
  std::string name; // learned from its welcome; "" while not connected
  bool connecting = false;
  caf::actor_clock::time_point next_try{};
  std::uint32_t failures = 0; // in a row: the reconnect backoff's attempt
};

/// Hops a message may take between routers whose views disagree before it
/// waits for the views to settle.
constexpr std::uint8_t max_hops = 3;

struct router_state {
  router_options opts;
  router_services svc;
  std::shared_ptr<cluster_health> health;
  std::vector<shard_slot> shards;
  std::map<std::string, peer> peers;
  std::vector<seed_state> seeds;
  std::map<caf::actor_addr, std::uint32_t> shard_of_actor;
  bool quorum = true;
  bool stopping = false;
  caf::error stop_reason;
  event_sink sink; // shard stores publish through it
  static inline const char* name = "router";
};

using router_self = caf::stateful_actor<router_state>;

target target_of(const entity_key& key, std::uint32_t shards) {
  switch (key.kind) {
    case entity_kind::cart: return {cluster::shard_of_user(key.id, shards), service::entity, key};
    case entity_kind::stock:
      return {cluster::shard_of_product(key.id, shards), service::entity, key};
    case entity_kind::order:
      return {cluster::shard_of_order(key.id, shards), service::entity, key};
  }
  return {0, service::entity, key};
}

/// Hands a message to its addressee inside a shard this node runs.
template <class Sender>
void hand_in(Sender& via, shard_slot& slot, target& where, caf::message& payload) {
  switch (where.to) {
    case service::entity:
      via.delegate(slot.directory, std::move(where.key), std::move(payload));
      return;
    // The payload is the caller's typed request, checked where it was made.
    case service::index:
      via.delegate(caf::actor_cast<caf::actor>(slot.index), std::move(payload));
      return;
    case service::accounts: via.delegate(slot.accounts, std::move(payload)); return;
  }
}

void update_health(router_self* self) {
  auto& st = self->state;
  std::uint32_t owned = 0, ready = 0;
  for (const auto& s : st.shards) {
    owned += s.owner == st.opts.node_name;
    ready += s.state == phase::ready;
  }
  st.health->quorum = st.quorum;
  st.health->live_members = static_cast<std::uint32_t>(st.peers.size() + 1);
  st.health->owned_shards = owned;
  st.health->ready_shards = ready;
}

// -- delivering ---------------------------------------------------------------

void deliver_parked(router_self* self, parked p);

void park(router_self* self, parked p) {
  auto& slot = self->state.shards[p.where.shard];
  if (slot.waiting.size() >= self->state.opts.max_parked) {
    p.promise.deliver(make_error(errc::unavailable));
    return;
  }
  slot.waiting.push_back(std::move(p));
}

/// Sends `p` on: into a local shard that is ready, to the owner's router, or
/// into the shard's buffer. The promise keeps the original caller, so the
/// answer goes straight back to it.
void deliver_parked(router_self* self, parked p) {
  auto& st = self->state;
  auto& slot = st.shards[p.where.shard];
  if (slot.owner.empty()) {
    p.promise.deliver(make_error(errc::unavailable));
    return;
  }
  if (slot.owner == st.opts.node_name) {
    if (slot.state != phase::ready)
      return park(self, std::move(p));
    hand_in(p.promise, slot, p.where, p.payload);
    return;
  }
  auto it = st.peers.find(slot.owner);
  if (it == st.peers.end() || p.hops >= max_hops)
    return park(self, std::move(p)); // views disagree: wait for them to settle
  auto hops = static_cast<std::uint8_t>(p.hops + 1);
  if (p.where.to == service::entity)
    p.promise.delegate(it->second.handle, atoms::forward::value, hops, std::move(p.where.key),
                       std::move(p.payload));
  else
    p.promise.delegate(it->second.handle, atoms::forward::value, hops, p.where.shard,
                       static_cast<std::uint8_t>(p.where.to), std::move(p.payload));
}

/// The hot path: a local, ready shard gets the message without a promise.
void route(router_self* self, std::uint8_t hops, target where, caf::message& payload) {
  auto& st = self->state;
  auto& slot = st.shards[where.shard];
  if (!st.stopping && slot.owner == st.opts.node_name && slot.state == phase::ready) {
    hand_in(*self, slot, where, payload);
    return;
  }
  deliver_parked(self, parked{hops, std::move(where), std::move(payload),
                              self->make_response_promise()});
}

void flush_waiting(router_self* self, std::uint32_t shard) {
  auto waiting = std::move(self->state.shards[shard].waiting);
  self->state.shards[shard].waiting.clear();
  for (auto& p : waiting)
    deliver_parked(self, std::move(p));
}

// -- owning shards ------------------------------------------------------------

/// Any handle of a shard's actors, typed or not.
template <class Handle>
void watch(router_self* self, const Handle& a, std::uint32_t shard) {
  self->monitor(a);
  self->state.shard_of_actor[a.address()] = shard;
}

/// Opens a shard whose lock is free: store, directory and order index on its
/// file; then resumes its unfinished sagas and lets waiting messages in.
bool open_shard(router_self* self, std::uint32_t shard) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  slot.lock = persistence::file_lock::try_acquire(
    persistence::shard_lock_path(st.opts.data_dir, shard));
  if (!slot.lock)
    return false; // the previous owner has not let go yet
  auto path = persistence::shard_db_path(st.opts.data_dir, shard);
  auto& sys = self->system();
  slot.store = spawn_store(sys, path, st.opts.level, spawn_mode::own_thread, st.sink);
  entity_services svc;
  svc.store = slot.store;
  svc.router = caf::actor_cast<caf::actor>(self);
  svc.stock_events = st.svc.catalog;
  svc.payment = st.svc.payment;
  svc.saga = st.svc.saga;
  slot.directory = spawn_directory(sys, st.opts.directory, svc);
  // The index runs on CAF's workers: a placement is in-memory work plus a
  // hand-off to the store, and a thread of its own cost a wake-up per
  // order; its reads (history, resume, start-up scan) are indexed and rare.
  slot.index = spawn_order_index(sys, path, st.opts.level, slot.store, slot.directory,
                                 {static_cast<std::int64_t>(shard) + 1,
                                  static_cast<std::int64_t>(st.opts.shards)},
                                 spawn_mode::workers);
  slot.accounts = spawn_accounts(sys, path, st.opts.level);
  watch(self, slot.store, shard);
  watch(self, slot.directory, shard);
  watch(self, slot.index, shard);
  watch(self, slot.accounts, shard);
  slot.state = phase::ready;
  auto directory = slot.directory;
  self->request(slot.index, std::chrono::seconds(30), unfinished_orders{})
    .then(
      [directory](const std::vector<std::int64_t>& ids) {
        for (auto id : ids)
          caf::anon_send(directory, entity_key{entity_kind::order, std::to_string(id)},
                         caf::make_message(atoms::start::value));
      },
      [shard](const caf::error&) {
        fmt::print(stderr, "emporium: shard {}: cannot list unfinished orders\n", shard);
      });
  flush_waiting(self, shard);
  update_health(self);
  return true;
}

void try_acquire(router_self* self, std::uint32_t shard) {
  auto& slot = self->state.shards[shard];
  if (slot.state != phase::acquiring || self->state.stopping)
    return;
  if (!open_shard(self, shard))
    self->delayed_send(self, std::chrono::milliseconds(100), atoms::acquire::value, shard);
}

/// Drains a shard: its directory stops every entity (they finish their
/// mailboxes and writes), then the index and store stop, then the lock goes.
void release_shard(router_self* self, std::uint32_t shard) {
  auto& slot = self->state.shards[shard];
  if (slot.state == phase::acquiring) {
    slot.state = phase::absent;
    return;
  }
  if (slot.state != phase::ready)
    return;
  slot.state = phase::releasing;
  slot.running = 4;
  self->send_exit(slot.directory, caf::exit_reason::user_shutdown);
}

void on_shard_actor_down(router_self* self, std::uint32_t shard, const caf::down_msg& msg) {
  auto& st = self->state;
  auto& slot = st.shards[shard];
  if (slot.state == phase::ready) {
    // Something of a shard died unasked: reopen the shard from its file.
    fmt::print(stderr, "emporium: shard {}: {} stopped unexpectedly ({}); reopening\n", shard,
               msg.source == slot.store ? "store" : "an actor", caf::to_string(msg.reason));
    slot.state = phase::releasing;
    slot.running = 4;
  }
  if (slot.state != phase::releasing)
    return;
  if (msg.source == slot.directory) {
    self->send_exit(slot.index, caf::exit_reason::user_shutdown);
    self->send_exit(slot.accounts, caf::exit_reason::user_shutdown);
    self->send_exit(slot.store, caf::exit_reason::user_shutdown);
  }
  if (--slot.running > 0)
    return;
  slot.store = nullptr;
  slot.index = nullptr;
  slot.directory = slot.accounts = nullptr;
  slot.lock.reset(); // now the new owner may open the file
  slot.state = phase::absent;
  update_health(self);
  if (st.stopping) {
    bool all_closed = std::all_of(st.shards.begin(), st.shards.end(),
                                  [](const shard_slot& s) { return s.state == phase::absent; });
    if (all_closed)
      self->quit(st.stop_reason);
    return;
  }
  if (slot.owner == st.opts.node_name) {
    slot.state = phase::acquiring;
    try_acquire(self, shard);
  }
  flush_waiting(self, shard);
}

// -- membership ---------------------------------------------------------------

/// Recomputes every shard's owner from the live members and acts on the
/// difference: open what is ours now, drain what is not, forward what waits.
void recompute(router_self* self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  std::vector<std::string> live{st.opts.node_name};
  for (const auto& [name, p] : st.peers)
    live.push_back(name);
  st.quorum = cluster::has_quorum(live.size(), st.seeds.size() + 1);
  for (std::uint32_t s = 0; s < st.opts.shards; ++s) {
    auto& slot = st.shards[s];
    slot.owner = st.quorum ? cluster::owner_of(s, live) : std::string{};
    bool mine = slot.owner == st.opts.node_name;
    if (mine && slot.state == phase::absent) {
      slot.state = phase::acquiring;
      try_acquire(self, s);
    } else if (!mine && (slot.state == phase::ready || slot.state == phase::acquiring)) {
      release_shard(self, s);
    }
    if (!mine)
      flush_waiting(self, s);
  }
  update_health(self);
}

void add_peer(router_self* self, const std::string& name, const caf::actor& handle,
              const std::string& address) {
  auto& st = self->state;
  if (name == st.opts.node_name || !handle)
    return;
  auto it = st.peers.find(name);
  if (it != st.peers.end() && it->second.handle == handle) {
    if (address != "inbound")
      it->second.address = address; // learned its listening address
    return;
  }
  if (it != st.peers.end())
    self->demonitor(it->second.handle);
  self->monitor(handle);
  st.peers[name] = peer{handle, address};
  fmt::print("emporium: node {} joined ({} live)\n", name, st.peers.size() + 1);
  std::fflush(stdout);
  // It may have changed the catalog while we were apart.
  self->send(st.svc.catalog, reload_catalog{});
  recompute(self);
}

void on_peer_down(router_self* self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (auto it = st.peers.begin(); it != st.peers.end(); ++it) {
    if (it->second.handle.address() != msg.source)
      continue;
    auto name = it->first;
    st.peers.erase(it);
    for (auto& seed : st.seeds)
      if (seed.name == name)
        seed.name.clear();
    fmt::print("emporium: node {} is down ({}); {} live\n", name, caf::to_string(msg.reason),
               st.peers.size() + 1);
    std::fflush(stdout);
    recompute(self);
    return;
  }
}

void connect_seeds(router_self* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (std::size_t i = 0; i < st.seeds.size(); ++i) {
    auto& seed = st.seeds[i];
    if (seed.connecting || now < seed.next_try ||
        (!seed.name.empty() && st.peers.count(seed.name) > 0))
      continue;
    seed.connecting = true;
    auto failed = [self, i] {
      auto& s = self->state.seeds[i];
      s.connecting = false;
      ++s.failures;
      s.next_try = self->clock().now() + backoff{std::chrono::milliseconds(100),
                                                 self->state.opts.max_reconnect}
                                           .delay(s.failures);
    };
    // Same connect interface; the OpenSSL one verifies the seed's
    // certificate and presents ours.
    auto mm = self->state.opts.tls ? self->system().openssl_manager().actor_handle()
                                   : self->system().middleman().actor_handle();
    self->request(mm, std::chrono::seconds(5), caf::connect_atom::value, seed.addr.host,
                  seed.addr.port)
      .then(
        [self, i, failed](const caf::node_id&, caf::strong_actor_ptr& ptr,
                          const std::set<std::string>&) {
          auto remote = caf::actor_cast<caf::actor>(ptr);
          if (!remote)
            return failed();
          self->request(remote, std::chrono::seconds(5), atoms::hello::value,
                        self->state.opts.node_name, caf::actor_cast<caf::actor>(self))
            .then(
              [self, i](atoms::welcome, const std::string& name, const caf::actor& handle) {
                auto& s = self->state.seeds[i];
                s.connecting = false;
                s.failures = 0;
                s.name = name;
                add_peer(self, name, handle, fmt::format("{}:{}", s.addr.host, s.addr.port));
              },
              [failed](const caf::error&) { failed(); });
        },
        [failed](const caf::error&) { failed(); });
  }
}

// -- status -------------------------------------------------------------------

/// This node's part of GET /api/cluster: its shards and resident entities.
void local_status(router_self* self, caf::typed_response_promise<member_view> rp) {
  auto& st = self->state;
  struct gather {
    member_view me;
    std::size_t pending = 0;
    caf::typed_response_promise<member_view> rp;
    void finish() { rp.deliver(std::move(me)); }
  };
  auto g = std::make_shared<gather>();
  g->rp = std::move(rp);
  g->me.name = st.opts.node_name;
  for (std::uint32_t s = 0; s < st.opts.shards; ++s)
    if (st.shards[s].state == phase::ready) {
      g->me.shards.push_back(s);
      ++g->pending;
      self->request(st.shards[s].directory, std::chrono::seconds(2), atoms::stats::value)
        .then(
          [g](const directory_stats& ds) {
            g->me.entities += ds.resident;
            if (--g->pending == 0)
              g->finish();
          },
          [g](const caf::error&) {
            if (--g->pending == 0)
              g->finish();
          });
    }
  if (g->pending == 0)
    g->finish();
}

/// GET /api/cluster: every member's state and share, and who owns what.
void cluster_status(router_self* self, caf::typed_response_promise<cluster_view> rp) {
  auto& st = self->state;
  struct gather {
    cluster_view view;
    std::size_t pending = 0;
    caf::typed_response_promise<cluster_view> rp;
    void finish() { rp.deliver(std::move(view)); }
  };
  auto g = std::make_shared<gather>();
  g->rp = std::move(rp);
  auto& v = g->view;
  v.node = st.opts.node_name;
  v.quorum = st.quorum;
  v.configured_members = static_cast<std::uint32_t>(st.seeds.size() + 1);
  v.live_members = static_cast<std::uint32_t>(st.peers.size() + 1);
  for (std::uint32_t s = 0; s < st.opts.shards; ++s)
    v.owners.push_back(st.shards[s].owner);
  for (const auto& seed : st.seeds)
    if (seed.name.empty() || st.peers.count(seed.name) == 0)
      v.members.push_back({member_view::state::down, "",
                           fmt::format("{}:{}", seed.addr.host, seed.addr.port), {}, 0});
  g->pending = st.peers.size() + 1;
  auto done = [g](member_view m, const std::string& address) {
    m.status = member_view::state::up;
    m.address = address;
    g->view.members.push_back(std::move(m));
    if (--g->pending == 0)
      g->finish();
  };
  auto failed = [g](const std::string& name, const std::string& address) {
    g->view.members.push_back({member_view::state::unreachable, name, address, {}, 0});
    if (--g->pending == 0)
      g->finish();
  };
  // Our own part through ourselves, so all members are gathered alike.
  self->request(caf::actor_cast<caf::actor>(self), std::chrono::seconds(3),
                atoms::local_status::value)
    .then([done](member_view& m) { done(std::move(m), "self"); },
          [failed, name = st.opts.node_name](const caf::error&) { failed(name, "self"); });
  for (const auto& [name, p] : st.peers)
    self->request(p.handle, std::chrono::seconds(3), atoms::local_status::value)
      .then([done, address = p.address](member_view& m) { done(std::move(m), address); },
            [failed, name = name, address = p.address](const caf::error&) {
              failed(name, address);
            });
}

// -- shutdown -----------------------------------------------------------------

void begin_stop(router_self* self, caf::error reason) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.stop_reason = reason ? std::move(reason) : caf::exit_reason::user_shutdown;
  // Leave first: the others stop sending here and own our shards from now
  // on (they open them once we have drained and unlocked them), so a
  // graceful stop adds latency for our shards' callers, not errors.
  std::vector<std::string> others;
  for (const auto& [name, p] : st.peers) {
    others.push_back(name);
    self->send(p.handle, atoms::leaving::value, st.opts.node_name);
  }
  st.quorum = cluster::has_quorum(others.size(), st.seeds.size() + 1);
  for (std::uint32_t s = 0; s < st.opts.shards; ++s)
    st.shards[s].owner = st.quorum ? cluster::owner_of(s, others) : std::string{};
  bool any = false;
  for (std::uint32_t s = 0; s < st.opts.shards; ++s) {
    auto& slot = st.shards[s];
    if (slot.state == phase::acquiring)
      slot.state = phase::absent;
    if (slot.state == phase::ready) {
      release_shard(self, s);
      any = true;
    } else if (slot.state == phase::releasing) {
      any = true;
    }
  }
  for (std::uint32_t s = 0; s < st.opts.shards; ++s) {
    for (auto& p : st.shards[s].waiting)
      p.hops = 0; // the owners changed: a fresh hop budget
    flush_waiting(self, s);
  }
  update_health(self);
  if (!any)
    self->quit(st.stop_reason);
}

void on_peer_leaving(router_self* self, const std::string& name) {
  auto& st = self->state;
  auto it = st.peers.find(name);
  if (it == st.peers.end())
    return;
  self->demonitor(it->second.handle);
  st.peers.erase(it);
  for (auto& seed : st.seeds)
    if (seed.name == name)
      seed.name.clear();
  fmt::print("emporium: node {} is leaving; {} live\n", name, st.peers.size() + 1);
  std::fflush(stdout);
  recompute(self);
}

caf::behavior router_actor(router_self* self, router_options opts, router_services svc,
                           std::shared_ptr<cluster_health> health) {
  auto& st = self->state;
  st.shards.resize(opts.shards);
  for (const auto& s : opts.seeds)
    st.seeds.push_back(seed_state{s, {}, false, {}, 0});
  st.opts = std::move(opts);
  st.svc = std::move(svc);
  st.health = std::move(health);
  // Stores publish on their own threads: to this node's clients at once,
  // and, in a cluster, to the other nodes through this router. A node with
  // no other members skips that extra message per event.
  if (st.seeds.empty()) {
    st.sink = st.svc.publish_local;
  } else {
    caf::weak_actor_ptr weak_self = self->ctrl();
    st.sink = [local = st.svc.publish_local, weak_self](const persistence::outbox_row& row) {
      if (local)
        local(row);
      if (auto strong = weak_self.lock())
        caf::anon_send(caf::actor_cast<caf::actor>(strong), atoms::broadcast::value,
                       caf::make_message(row));
    };
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto it = self->state.shard_of_actor.find(msg.source);
    if (it != self->state.shard_of_actor.end()) {
      auto shard = it->second;
      self->state.shard_of_actor.erase(it);
      on_shard_actor_down(self, shard, msg);
      return;
    }
    on_peer_down(self, msg);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) { begin_stop(self, msg.reason); });
  if (st.svc.catalog && !st.seeds.empty()) // nobody to tell on a single node
    self->send(st.svc.catalog, announce_to{caf::actor_cast<caf::actor>(self)});
  recompute(self);
  if (!st.seeds.empty())
    self->send(self, atoms::tick::value);
  return {
    [self](entity_key& key, caf::message& payload) {
      route(self, 0, target_of(key, self->state.opts.shards), payload);
    },
    [self](atoms::shard_call, std::uint32_t shard, caf::message& payload) {
      if (shard >= self->state.opts.shards)
        return self->make_response_promise().deliver(make_error(errc::invalid_argument));
      route(self, 0, target{shard, service::index, {}}, payload);
    },
    [self](atoms::accounts_call, std::uint32_t shard, caf::message& payload) {
      if (shard >= self->state.opts.shards)
        return self->make_response_promise().deliver(make_error(errc::invalid_argument));
      route(self, 0, target{shard, service::accounts, {}}, payload);
    },
    [self](atoms::forward, std::uint8_t hops, entity_key& key, caf::message& payload) {
      route(self, hops, target_of(key, self->state.opts.shards), payload);
    },
    [self](atoms::forward, std::uint8_t hops, std::uint32_t shard, std::uint8_t to,
           caf::message& payload) {
      if (shard >= self->state.opts.shards || to == 0 || to > 2)
        return self->make_response_promise().deliver(make_error(errc::invalid_argument));
      route(self, hops, target{shard, static_cast<service>(to), {}}, payload);
    },
    [self](atoms::broadcast, const caf::message& change) {
      for (const auto& [name, p] : self->state.peers)
        self->send(p.handle, atoms::relay::value, change);
    },
    [self](atoms::relay, const caf::message& change) {
      auto& st = self->state;
      if (change.match_elements<persistence::outbox_row>()) {
        if (st.svc.publish_local)
          st.svc.publish_local(change.get_as<persistence::outbox_row>(0));
      } else if (st.svc.catalog) {
        self->send(st.svc.catalog, apply_remote_change{change});
      }
    },
    [self](atoms::hello, const std::string& name,
           const caf::actor& handle) -> caf::result<caf::message> {
      if (self->state.stopping)
        return make_error(errc::unavailable); // leaving: do not take us back
      add_peer(self, name, handle, "inbound");
      return caf::make_message(atoms::welcome::value, self->state.opts.node_name,
                               caf::actor_cast<caf::actor>(self));
    },
    [self](atoms::leaving, const std::string& name) { on_peer_leaving(self, name); },
    [self](atoms::tick) {
      if (self->state.stopping)
        return;
      connect_seeds(self);
      // Messages parked because views disagreed (hop limit reached) get
      // another try with a fresh hop budget: the views may agree by now.
      for (std::uint32_t s = 0; s < self->state.opts.shards; ++s) {
        auto& slot = self->state.shards[s];
        if (slot.waiting.empty() || slot.owner == self->state.opts.node_name)
          continue;
        for (auto& p : slot.waiting)
          p.hops = 0;
        flush_waiting(self, s);
      }
      self->delayed_send(self, self->state.opts.tick, atoms::tick::value);
    },
    [self](atoms::acquire, std::uint32_t shard) { try_acquire(self, shard); },
    [self](atoms::local_status) {
      auto rp = self->make_response_promise<member_view>();
      local_status(self, rp);
      return rp;
    },
    [self](atoms::status) {
      auto rp = self->make_response_promise<cluster_view>();
      cluster_status(self, rp);
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_router(caf::actor_system& sys, router_options opts, router_services svc,
                        std::shared_ptr<cluster_health> health) {
  return sys.spawn(router_actor, std::move(opts), std::move(svc), std::move(health));
}

} // namespace emporium
