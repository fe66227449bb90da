// GET /api/cluster and GET /api/admin/stats: gathered from every member's router (see
// router_state.hpp).
#include "actors/cluster/router_state.hpp"

#include <chrono>
#include <functional>

namespace emporium::cluster_router {

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

namespace {

/// Asks every member with `what` (this node through itself, so all are
/// asked alike): `each(name, address, answer)` per member, the answer empty
/// for a member that failed or did not answer in 3 s; `finish` after all.
template <class T, class Atom>
void ask_every_member(
  router_self* self, Atom what,
  std::function<void(const std::string&, const std::string&, std::optional<T>)> each,
  std::function<void()> finish) {
  auto& st = self->state;
  auto pending = std::make_shared<std::size_t>(st.peers.size() + 1);
  auto one = [pending, each, finish](const std::string& name, const std::string& address,
                                     std::optional<T> answer) {
    each(name, address, std::move(answer));
    if (--*pending == 0)
      finish();
  };
  auto ask = [&](const caf::actor& whom, const std::string& name, const std::string& address) {
    self->request(whom, std::chrono::seconds(3), what)
      .then([one, name, address](T& answer) { one(name, address, std::move(answer)); },
            [one, name, address](const caf::error&) { one(name, address, std::nullopt); });
  };
  ask(caf::actor_cast<caf::actor>(self), st.opts.node_name, "self");
  for (const auto& [name, p] : st.peers)
    ask(p.handle, name, p.address);
}

/// The registry's figures the operations page shows.
const std::vector<std::string>& stats_metrics() {
  static const std::vector<std::string> names{
    "emporium_orders_placed_total",        "emporium_order_transitions_total",
    "emporium_order_cancellations_total",  "emporium_http_requests_total",
    "emporium_http_request_duration_seconds", "emporium_payment_breaker_state",
    "emporium_cluster_shards_owned",       "emporium_entities_resident",
    "emporium_sqlite_commit_duration_seconds"};
  return names;
}

} // namespace

/// GET /api/cluster: every member's state and share, and who owns what.
void cluster_status(router_self* self, caf::typed_response_promise<cluster_view> rp,
                    std::optional<std::string> user) {
  auto& st = self->state;
  auto view = std::make_shared<cluster_view>();
  auto& v = *view;
  v.node = st.opts.node_name;
  v.wire = st.opts.wire;
  v.quorum = st.quorum;
  v.configured_members = static_cast<std::uint32_t>(st.seeds.size() + 1);
  v.live_members = static_cast<std::uint32_t>(st.peers.size() + 1);
  if (user)
    v.user_shard = shard_for(shard_key{shard_key::by::user, *user}, st.opts.shards);
  for (std::uint32_t s = 0; s < st.opts.shards; ++s)
    v.owners.push_back(st.shards[s].owner);
  // A seed is known by name once it welcomed our hello; a peer that dialled
  // us first is live before that (until our own dial, up to the reconnect
  // backoff later; so is a node restarted on our build that we refused
  // before). So the seeds not known by name are down (or incompatible)
  // only beyond the live peers that no named seed accounts for: listing
  // each would show a live member twice, once as down under its address.
  auto unclaimed = st.peers.size();
  for (const auto& seed : st.seeds)
    unclaimed -= !seed.name.empty() && st.peers.count(seed.name) > 0;
  for (const auto& seed : st.seeds) {
    if (!seed.name.empty() && st.peers.count(seed.name) > 0)
      continue;
    if (unclaimed > 0) {
      --unclaimed; // one of the live peers that dialled us first
      continue;
    }
    v.members.push_back({seed.incompatible.empty() ? member_view::state::down
                                                   : member_view::state::incompatible,
                         "", to_string(seed.addr), {}, 0});
  }
  ask_every_member<member_view>(
    self, atoms::local_status::value,
    [view](const std::string& name, const std::string& address, std::optional<member_view> m) {
      if (!m) {
        view->members.push_back({member_view::state::unreachable, name, address, {}, 0});
        return;
      }
      m->status = member_view::state::up;
      m->address = address;
      view->members.push_back(std::move(*m));
    },
    [view, rp]() mutable { rp.deliver(std::move(*view)); });
}

node_stats local_stats(router_self* self) {
  using namespace std::chrono;
  return {self->state.opts.node_name, true,
          duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(),
          metrics::default_registry().points(stats_metrics())};
}

void cluster_stats(router_self* self, caf::typed_response_promise<std::vector<node_stats>> rp) {
  auto all = std::make_shared<std::vector<node_stats>>();
  ask_every_member<node_stats>(
    self, atoms::local_stats::value,
    [all](const std::string& name, const std::string&, std::optional<node_stats> s) {
      all->push_back(s ? std::move(*s) : node_stats{name, false, 0, {}});
    },
    [all, rp]() mutable { rp.deliver(std::move(*all)); });
}

} // namespace emporium::cluster_router
