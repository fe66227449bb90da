// GET /api/cluster: gathered from every member's router (see
// router_state.hpp).
#include "actors/cluster/router_state.hpp"

#include <fmt/format.h>

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

/// GET /api/cluster: every member's state and share, and who owns what.
void cluster_status(router_self* self, caf::typed_response_promise<cluster_view> rp,
                    std::optional<std::string> user) {
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
  if (user)
    v.user_shard = shard_for(shard_key{shard_key::by::user, *user}, st.opts.shards);
  for (std::uint32_t s = 0; s < st.opts.shards; ++s)
    v.owners.push_back(st.shards[s].owner);
  for (const auto& seed : st.seeds)
    if (seed.name.empty() || st.peers.count(seed.name) == 0)
      v.members.push_back({member_view::state::down, "",
                           to_string(seed.addr), {}, 0});
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

} // namespace emporium::cluster_router
