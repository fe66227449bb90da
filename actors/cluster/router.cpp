// The node's router (see router.hpp): the behaviour that wires routing,
// shard hosting, membership and status together (router_state.hpp).
#include "actors/cluster/router_state.hpp"
#include "actors/node_metrics.hpp"
#include "support/log.hpp"

#include <algorithm>

namespace emporium {

namespace {

using namespace cluster_router;

/// Stores publish on their own threads: to this node's clients at once,
/// and, in a cluster, to the other nodes through this router. A node with
/// no other members skips that extra message per event.
event_sink make_sink(router_self* self) {
  auto& st = self->state;
  if (st.seeds.empty())
    return st.svc.publish_local;
  caf::weak_actor_ptr weak_self = self->ctrl();
  return [local = st.svc.publish_local, weak_self](const order_event& row) {
    if (local)
      local(row);
    if (auto strong = weak_self.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), atoms::broadcast::value,
                     caf::make_message(row));
  };
}

void install_handlers(router_self* self) {
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& running = *self->state.shard_actors;
    auto it = running.find(msg.source);
    if (it != running.end()) {
      auto shard = it->second.first;
      running.erase(it);
      on_shard_actor_down(self, shard, msg);
      return;
    }
    on_peer_down(self, msg);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) { begin_stop(self, msg.reason); });
  // A router that ends without draining (killed) takes its shards' actors
  // along, as the end of its process would.
  self->attach_functor([running = self->state.shard_actors](const caf::error&) {
    for (auto& [addr, entry] : *running)
      caf::anon_send_exit(entry.second, caf::exit_reason::kill);
    running->clear();
  });
  // Each stops once its dial in progress, if any, has ended (within its
  // deadline): a detached actor's thread holds the process's exit.
  self->attach_functor([dialers = self->state.dialers](const caf::error&) {
    for (auto& dialer : *dialers)
      if (dialer)
        caf::anon_send_exit(dialer, caf::exit_reason::user_shutdown);
  });
}

/// A change another node made: an outbox event for our live clients, or a
/// catalog change for our catalog.
void on_relay(router_self* self, const caf::message& change) {
  auto& st = self->state;
  if (change.match_elements<order_event>()) {
    if (st.svc.publish_local)
      st.svc.publish_local(change.get_as<order_event>(0));
  } else if (st.svc.catalog) {
    self->send(st.svc.catalog, apply_remote_change{change});
  }
}

/// A hello from a build whose messages differ from ours (`theirs`; "" for
/// a build from before fingerprints, whose hello has none): refused with
/// our fingerprint, so that its side can say why. Logged once per change.
caf::error refuse_hello(router_self* self, const std::string& name, std::string theirs) {
  auto& st = self->state;
  theirs.resize(std::min<std::size_t>(theirs.size(), 64)); // a fingerprint is 16 digits
  auto [it, fresh] = st.refused.try_emplace(name, theirs);
  if (fresh || it->second != theirs) {
    it->second = theirs;
    log::warn("wire_peer_refused",
              {{"peer", name},
               {"ours", st.opts.wire},
               {"theirs", theirs.empty() ? "none (a build without fingerprints)" : theirs}});
  }
  return caf::error{static_cast<std::uint8_t>(errc::conflict), caf::atom("emporium"),
                    caf::make_message(st.opts.wire)};
}

caf::result<caf::message> on_hello(router_self* self, const std::string& name,
                                   const caf::actor& handle, const std::string& wire) {
  if (self->state.stopping)
    return make_error(errc::unavailable); // leaving: do not take us back
  if (wire != self->state.opts.wire)
    return refuse_hello(self, name, wire);
  self->state.refused.erase(name);
  add_peer(self, name, handle, "inbound");
  return caf::make_message(atoms::welcome::value, self->state.opts.node_name,
                           caf::actor_cast<caf::actor>(self));
}

void on_tick(router_self* self) {
  if (self->state.stopping)
    return;
  connect_seeds(self);
  retry_parked(self);
  watch_drains(self);
  self->delayed_send(self, self->state.opts.tick, atoms::tick::value);
}

/// Requests for a shard's services; a shard number from the network is
/// checked before it indexes anything.
void service_call(router_self* self, std::uint8_t hops, std::uint32_t shard, std::uint8_t to,
                  caf::message& payload) {
  if (shard >= self->state.opts.shards || to == 0 || to > 2) {
    self->make_response_promise().deliver(make_error(errc::invalid_argument));
    return;
  }
  route(self, hops, target{shard, static_cast<service>(to), {}}, payload);
}

caf::behavior router_actor(router_self* self, router_options opts, router_services svc,
                           std::shared_ptr<cluster_health> health) {
  auto& st = self->state;
  st.shards.resize(opts.shards);
  for (const auto& s : opts.seeds)
    st.seeds.push_back(seed_state{s, {}, false, {}, 0, 0});
  st.opts = std::move(opts);
  st.svc = std::move(svc);
  st.health = std::move(health);
  st.sink = make_sink(self);
  st.jitter.seed(static_cast<std::uint32_t>(std::hash<std::string>{}(st.opts.node_name)));
  st.mailbox = &node_metrics::get().mailbox_depth->with({"router", st.opts.node_name});
  install_handlers(self);
  if (st.svc.catalog && !st.seeds.empty()) // nobody to tell on a single node
    self->send(st.svc.catalog, announce_to{caf::actor_cast<caf::actor>(self)});
  recompute(self);
  if (!st.seeds.empty())
    self->send(self, atoms::tick::value);
  return {
    [self](entity_key& key, caf::message& payload) {
      sample_mailbox(self, *self->state.mailbox, self->state.mailbox_samples);
      route(self, 0, target_of(key, self->state.opts.shards), payload);
    },
    [self](atoms::shard_call, const shard_key& key, caf::message& payload) {
      service_call(self, 0, shard_for(key, self->state.opts.shards),
                   static_cast<std::uint8_t>(service::index), payload);
    },
    [self](atoms::accounts_call, const shard_key& key, caf::message& payload) {
      service_call(self, 0, shard_for(key, self->state.opts.shards),
                   static_cast<std::uint8_t>(service::accounts), payload);
    },
    [self](atoms::forward, std::uint8_t hops, entity_key& key, caf::message& payload) {
      route(self, hops, target_of(key, self->state.opts.shards), payload);
    },
    [self](atoms::forward, std::uint8_t hops, std::uint32_t shard, std::uint8_t to,
           caf::message& payload) { service_call(self, hops, shard, to, payload); },
    [self](atoms::broadcast, const caf::message& change) {
      for (const auto& [name, p] : self->state.peers)
        self->send(p.handle, atoms::relay::value, change);
    },
    [self](atoms::relay, const caf::message& change) { on_relay(self, change); },
    [self](atoms::hello, const std::string& name, const caf::actor& handle,
           const std::string& wire) { return on_hello(self, name, handle, wire); },
    // A build from before wire fingerprints.
    [self](atoms::hello, const std::string& name, const caf::actor&) -> caf::result<caf::message> {
      return refuse_hello(self, name, "");
    },
    [self](atoms::leaving, const std::string& name) { on_peer_leaving(self, name); },
    [self](const shard_holding& note) { on_holding(self, note); },
    [self](atoms::sees, const std::string& node) {
      return node == self->state.opts.node_name || self->state.peers.count(node) > 0;
    },
    [self](atoms::tick) { on_tick(self); },
    [self](atoms::reconnect) {
      if (!self->state.stopping)
        connect_seeds(self);
    },
    [self](atoms::acquire, std::uint32_t shard) { try_acquire(self, shard); },
    [self](atoms::wanted, std::uint32_t shard, const std::string& node) {
      on_wanted(self, shard, node);
    },
    [self](atoms::local_status) {
      auto rp = self->make_response_promise<member_view>();
      local_status(self, rp);
      return rp;
    },
    [self](atoms::status) {
      auto rp = self->make_response_promise<cluster_view>();
      cluster_status(self, rp, std::nullopt);
      return rp;
    },
    [self](atoms::status, const std::string& user) {
      auto rp = self->make_response_promise<cluster_view>();
      cluster_status(self, rp, user);
      return rp;
    },
    [self](atoms::local_stats) { return local_stats(self); },
    [self](atoms::stats) {
      auto rp = self->make_response_promise<std::vector<node_stats>>();
      cluster_stats(self, rp);
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
