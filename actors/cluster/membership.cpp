// Who is in the cluster and who owns which shard (see router_state.hpp).
//
// Other nodes are reached through one seam: a connector that answers
// (connect_atom, host, port) with the peer router's handle, as CAF's
// middleman does (each seed's own dialer, peer_dialer.hpp). Messages to a peer
// go to that handle, and a monitor on it says when the peer is gone (CAF's
// heartbeat and connection timeout turn a dead or frozen peer into a down
// message). A deterministic test puts a simulated network behind the seam.
#include "actors/cluster/router_state.hpp"

#include "actors/cluster/peer_dialer.hpp"

#include "domain/backoff.hpp"
#include "domain/shard_map.hpp"

#include "support/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace emporium::cluster_router {

namespace {

/// A peer that is gone (or leaving) forgets its seed name and holds nothing.
void forget_peer(router_self* self, const std::string& name) {
  for (auto& seed : self->state.seeds)
    if (seed.name == name)
      seed.name.clear();
  for (auto& slot : self->state.shards)
    if (slot.holder == name)
      slot.holder.clear();
}

/// The seed's own dialer unless the options name another connector: one
/// seed that drops our packets then holds up only its own dials.
caf::actor connector_of(router_self* self, std::size_t seed) {
  auto& st = self->state;
  if (st.opts.connector)
    return st.opts.connector;
  auto& dialers = *st.dialers;
  if (dialers.size() <= seed)
    dialers.resize(st.seeds.size());
  if (!dialers[seed])
    dialers[seed] = cluster::spawn_peer_dialer(self->system(), st.opts.tls);
  return dialers[seed];
}

/// Why a seed refused our hello, when it did for its wire fingerprint: its
/// fingerprint (the context of its conflict), or a note that its build has
/// none (it did not understand our hello). Nothing for other failures.
std::optional<std::string> refusal_of(const caf::error& why) {
  if (why == caf::sec::unexpected_message)
    return std::string{"none (a build without fingerprints)"};
  if (to_errc(why) != errc::conflict)
    return std::nullopt;
  const auto& context = why.context();
  if (context.match_elements<std::string>()) // a fingerprint is 16 digits
    return context.get_as<std::string>(0).substr(0, 64);
  return std::string{"unknown"};
}

/// Marks the seed refused (or not) and logs each change: a refused seed is
/// tried again at the backoff's pace, since it may be upgraded any time.
void note_refusal(router_self* self, seed_state& seed, std::string theirs) {
  if (seed.incompatible == theirs)
    return;
  seed.incompatible = std::move(theirs);
  if (!seed.incompatible.empty())
    log::warn("wire_seed_refuses",
              {{"seed", to_string(seed.addr)},
               {"ours", self->state.opts.wire},
               {"theirs", seed.incompatible}});
  update_health(self);
}

/// Failures in a row that are retried at once (see connect_seed).
constexpr std::uint32_t max_quick_retries = 40;

/// How long a hello waits for its welcome: as long as a silent peer has
/// before it counts as gone, and never more than 5 s.
std::chrono::milliseconds hello_timeout(const router_options& opts) {
  return std::min(opts.peer_timeout, std::chrono::milliseconds{5000});
}

/// Tries one seed; on failure the next try waits by the seed's backoff. The
/// first failure in a row is logged (then one in ten): a pair of nodes that
/// cannot meet keeps the cluster's views apart.
///
/// Two failures are retried soon instead, both from CAF 0.17's BASP broker:
/// - connection_timeout: the broker starts an outgoing connection's "last
///   seen" time at zero, so the first heartbeat tick that comes before the
///   peer's handshake closes it. That error arrives just after a tick, so a
///   retry within 100 ms has most of a heartbeat interval to finish; a retry
///   on our own tick would keep the same phase against CAF's and could fail
///   for as long as the two periods stay aligned (rejoins took up to 26 s
///   that way).
/// - request_timeout: the connection came up but the hello or its welcome
///   was lost. Seen when two nodes dial each other at once, as both do
///   after a frozen node thaws: two connections cross, the broker closes
///   one as redundant, and in 2 thaws of 8 (measured locally) both nodes
///   connected within 400 ms and neither hello was answered in 5 s. If both
///   try again at once they can cross again (one thaw in 10 needed two
///   hello timeouts). So the node whose name sorts after the seed's address
///   lets the other dial first: it tries again after 0.75-1.5 s, by when the
///   other's hello has usually made it known (a known peer is not dialled);
///   seen in the logs, the other side joined 0.2-0.4 s after its timeout.
/// Every delay is jittered so that two nodes dialling each other do not
/// collide again and again.
void connect_seed(router_self* self, std::size_t i) {
  auto& seed = self->state.seeds[i];
  seed.connecting = true;
  auto failed = [self, i](const caf::error& why) {
    auto& s = self->state.seeds[i];
    auto address = to_string(s.addr);
    s.connecting = false;
    ++s.failures;
    if (auto theirs = refusal_of(why)) {
      note_refusal(self, s, std::move(*theirs));
      s.quick_retries = 0;
      auto delay = backoff{std::chrono::milliseconds(100), self->state.opts.max_reconnect}.delay(
        s.failures);
      s.next_try = self->clock().now() + delay;
      return;
    }
    bool quick = why == caf::sec::connection_timeout || why == caf::sec::request_timeout;
    s.quick_retries = quick ? s.quick_retries + 1 : 0;
    quick = quick && s.quick_retries <= max_quick_retries;
    auto delay =
      backoff{std::chrono::milliseconds(100), self->state.opts.max_reconnect}.delay(s.failures);
    bool lost_hello = why == caf::sec::request_timeout;
    if (quick)
      delay = std::chrono::milliseconds{
        lost_hello && self->state.opts.node_name > address ? 1500 : 100};
    // U(0.5, 1) of the delay, or of 100 ms: never two nodes in step.
    auto span = std::max<std::int64_t>(delay.count() / 2, 1);
    delay = std::chrono::milliseconds{
      delay.count() - std::uniform_int_distribution<std::int64_t>{0, span}(self->state.jitter)};
    s.next_try = self->clock().now() + delay;
    if (s.failures % 10 == 1 || lost_hello)
      log::write(s.failures == 1 ? "info" : "warn", "seed_unreachable",
                 {{"seed", address},
                  {"attempts", std::to_string(s.failures)},
                  {"error", caf::to_string(why)},
                  {"retry_ms", std::to_string(delay.count())}});
    if (quick && !self->state.stopping)
      self->delayed_send(self, delay, atoms::reconnect::value); // not on our tick's phase
  };
  self->request(connector_of(self, i), std::chrono::seconds(5), caf::connect_atom::value,
                seed.addr.host, seed.addr.port)
    .then(
      [self, i, failed](const caf::node_id&, caf::strong_actor_ptr& ptr,
                        const std::set<std::string>&) {
        auto remote = caf::actor_cast<caf::actor>(ptr);
        if (!remote)
          return failed(make_error(errc::unavailable));
        self->request(remote, hello_timeout(self->state.opts), atoms::hello::value,
                      self->state.opts.node_name, caf::actor_cast<caf::actor>(self),
                      self->state.opts.wire)
          .then(
            // The peer is known by the handle the connector gave (the same
            // actor its welcome names, when a dialer is the connector).
            [self, i, remote](atoms::welcome, const std::string& name, const caf::actor&) {
              auto& s = self->state.seeds[i];
              s.connecting = false;
              s.failures = 0;
              s.quick_retries = 0;
              s.name = name;
              note_refusal(self, s, "");
              add_peer(self, name, remote, to_string(s.addr));
            },
            failed);
      },
      failed);
}

} // namespace

/// Recomputes every shard's owner from the live members and acts on the
/// difference: open what is ours now, stop waiting for what is not, forward
/// what waits.
///
/// A shard this node has open and its view now gives to a peer stays open
/// until that peer asks for it (on_wanted): views diverge while a link
/// between two nodes is down, and the new owner by our view may not claim
/// the shard by its own. Letting go then would leave the shard closed on
/// every node until the link came back. Without a quorum nobody owns
/// anything, and a shard closes at once.
void recompute(router_self* self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  std::vector<std::string> live{st.opts.node_name};
  for (const auto& [name, p] : st.peers)
    live.push_back(name);
  st.quorum = cluster::has_quorum(live.size(), st.seeds.size() + 1);
  auto owners = cluster::assign_owners(st.opts.shards, st.quorum ? live : std::vector<std::string>{});
  for (std::uint32_t s = 0; s < st.opts.shards; ++s) {
    auto& slot = st.shards[s];
    slot.owner = owners[s];
    bool mine = slot.owner == st.opts.node_name;
    if (mine && slot.state == phase::absent) {
      slot.state = phase::acquiring;
      slot.acquiring_since = self->clock().now();
      try_acquire(self, s);
    } else if (!mine && (slot.state == phase::acquiring ||
                         (slot.state == phase::ready && slot.owner.empty()))) {
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
  if (auto gone = st.departing.find(name); gone != st.departing.end()) {
    self->demonitor(gone->second); // back before its old self went
    st.departing.erase(gone);
  }
  self->monitor(handle);
  st.peers[name] = peer{handle, address};
  announce_open_shards(self, handle);
  log::info(fmt::format("node {} joined ({} live)", name, st.peers.size() + 1),
            {{"peer", name}, {"live", std::to_string(st.peers.size() + 1)}});
  // It may have changed the catalog while we were apart.
  if (st.svc.catalog)
    self->send(st.svc.catalog, reload_catalog{});
  recompute(self);
}

void on_peer_down(router_self* self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (auto it = st.departing.begin(); it != st.departing.end(); ++it) {
    if (it->second.address() != msg.source)
      continue;
    auto name = it->first;
    st.departing.erase(it);
    resend_relayed(self, name); // to the shards' owners since it left
    return;
  }
  for (auto it = st.peers.begin(); it != st.peers.end(); ++it) {
    if (it->second.handle.address() != msg.source)
      continue;
    auto name = it->first;
    st.peers.erase(it);
    forget_peer(self, name);
    log::warn(fmt::format("node {} is down; {} live", name, st.peers.size() + 1),
              {{"peer", name},
               {"reason", caf::to_string(msg.reason)},
               {"live", std::to_string(st.peers.size() + 1)}});
    recompute(self);
    resend_relayed(self, name); // after recompute: they go to the shards' new owners
    return;
  }
}

void on_peer_leaving(router_self* self, const std::string& name) {
  auto& st = self->state;
  auto it = st.peers.find(name);
  if (it == st.peers.end())
    return;
  st.departing[name] = it->second.handle; // still monitored: see router_state
  st.peers.erase(it);
  forget_peer(self, name);
  log::info(fmt::format("node {} is leaving; {} live", name, st.peers.size() + 1),
            {{"peer", name}, {"live", std::to_string(st.peers.size() + 1)}});
  recompute(self);
}

void connect_seeds(router_self* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (std::size_t i = 0; i < st.seeds.size(); ++i) {
    auto& seed = st.seeds[i];
    // A seed already met (by our call, or by its own when its node name is
    // its address) is not dialled again.
    auto known = !seed.name.empty() ? seed.name
                                    : to_string(seed.addr);
    if (seed.connecting || now < seed.next_try || st.peers.count(known) > 0)
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
  auto owners = cluster::assign_owners(st.opts.shards, st.quorum ? others : std::vector<std::string>{});
  bool any = false;
  for (std::uint32_t s = 0; s < st.opts.shards; ++s) {
    auto& slot = st.shards[s];
    slot.owner = owners[s];
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
    quit_when_done(self);
}

void quit_when_done(router_self* self) {
  auto& st = self->state;
  bool all_closed = std::all_of(st.shards.begin(), st.shards.end(),
                                [](const shard_slot& s) { return s.state == phase::absent; });
  // A request it relayed is answered through it: it waits for those
  // answers (each is bounded by the relay timeout) before it goes.
  if (st.stopping && all_closed && st.relays.empty())
    self->quit(st.stop_reason);
}

} // namespace emporium::cluster_router
