// Who is in the cluster and who owns which shard (see router_state.hpp).
//
// Other nodes are reached through one seam: a connector that answers
// (connect_atom, host, port) with the peer router's handle, as CAF's
// middleman does (plain or through its OpenSSL module). Messages to a peer
// go to that handle, and a monitor on it says when the peer is gone (CAF's
// heartbeat and connection timeout turn a dead or frozen peer into a down
// message). A deterministic test puts a simulated network behind the seam.
#include "actors/cluster/router_state.hpp"

#include "domain/backoff.hpp"
#include "domain/shard_map.hpp"

#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include "support/log.hpp"

#include <fmt/format.h>

namespace emporium::cluster_router {

namespace {

void forget_seed_name(router_self* self, const std::string& name) {
  for (auto& seed : self->state.seeds)
    if (seed.name == name)
      seed.name.clear();
}

/// CAF's middleman unless the options name another connector.
caf::actor connector_of(router_self* self) {
  auto& opts = self->state.opts;
  if (opts.connector)
    return opts.connector;
  // Same connect interface; the OpenSSL one verifies the seed's
  // certificate and presents ours.
  return caf::actor_cast<caf::actor>(opts.tls ? self->system().openssl_manager().actor_handle()
                                               : self->system().middleman().actor_handle());
}

void connect_seed(router_self* self, std::size_t i) {
  auto& seed = self->state.seeds[i];
  seed.connecting = true;
  auto failed = [self, i] {
    auto& s = self->state.seeds[i];
    s.connecting = false;
    ++s.failures;
    s.next_try = self->clock().now() +
                 backoff{std::chrono::milliseconds(100), self->state.opts.max_reconnect}.delay(
                   s.failures);
  };
  self->request(connector_of(self), std::chrono::seconds(5), caf::connect_atom::value,
                seed.addr.host, seed.addr.port)
    .then(
      [self, i, failed](const caf::node_id&, caf::strong_actor_ptr& ptr,
                        const std::set<std::string>&) {
        auto remote = caf::actor_cast<caf::actor>(ptr);
        if (!remote)
          return failed();
        self->request(remote, std::chrono::seconds(5), atoms::hello::value,
                      self->state.opts.node_name, caf::actor_cast<caf::actor>(self))
          .then(
            // The peer is known by the handle the connector gave (the same
            // actor its welcome names, when the middleman is the connector).
            [self, i, remote](atoms::welcome, const std::string& name, const caf::actor&) {
              auto& s = self->state.seeds[i];
              s.connecting = false;
              s.failures = 0;
              s.name = name;
              add_peer(self, name, remote, fmt::format("{}:{}", s.addr.host, s.addr.port));
            },
            [failed](const caf::error&) { failed(); });
      },
      [failed](const caf::error&) { failed(); });
}

} // namespace

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
      slot.acquiring_since = self->clock().now();
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
  log::info(fmt::format("node {} joined ({} live)", name, st.peers.size() + 1),
            {{"peer", name}, {"live", std::to_string(st.peers.size() + 1)}});
  // It may have changed the catalog while we were apart.
  if (st.svc.catalog)
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
    forget_seed_name(self, name);
    log::warn(fmt::format("node {} is down; {} live", name, st.peers.size() + 1),
              {{"peer", name},
               {"reason", caf::to_string(msg.reason)},
               {"live", std::to_string(st.peers.size() + 1)}});
    recompute(self);
    return;
  }
}

void on_peer_leaving(router_self* self, const std::string& name) {
  auto& st = self->state;
  auto it = st.peers.find(name);
  if (it == st.peers.end())
    return;
  self->demonitor(it->second.handle);
  st.peers.erase(it);
  forget_seed_name(self, name);
  log::info(fmt::format("node {} is leaving; {} live", name, st.peers.size() + 1),
            {{"peer", name}, {"live", std::to_string(st.peers.size() + 1)}});
  recompute(self);
}

void connect_seeds(router_self* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (std::size_t i = 0; i < st.seeds.size(); ++i) {
    auto& seed = st.seeds[i];
    if (seed.connecting || now < seed.next_try ||
        (!seed.name.empty() && st.peers.count(seed.name) > 0))
      continue;
    connect_seed(self, i);
  }
}

/// A graceful stop: leave first, so the others stop sending here and own
/// our shards from now on (they open them once we have drained and
/// unlocked them); a graceful stop adds latency for our shards' callers,
/// not errors.
void begin_stop(router_self* self, caf::error reason) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.stop_reason = reason ? std::move(reason) : caf::exit_reason::user_shutdown;
  std::vector<std::string> others;
  for (const auto& [name, p] : st.peers) {
    others.push_back(name);
    self->send(p.handle, atoms::leaving::value, st.opts.node_name);
  }
  st.quorum = cluster::has_quorum(others.size(), st.seeds.size() + 1);
  bool any = false;
  for (std::uint32_t s = 0; s < st.opts.shards; ++s) {
    auto& slot = st.shards[s];
    slot.owner = st.quorum ? cluster::owner_of(s, others) : std::string{};
    if (slot.state == phase::acquiring)
      slot.state = phase::absent;
    if (slot.state == phase::ready)
      release_shard(self, s);
    any = any || slot.state == phase::releasing;
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

} // namespace emporium::cluster_router
