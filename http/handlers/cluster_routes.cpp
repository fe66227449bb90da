// GET /api/cluster and GET /api/admin/stats (admin), and the write guard of
// a node without quorum.
#include "http/api_context.hpp"
#include "http/response_helpers.hpp"
#include "http/stats_json.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

namespace emporium::http {

namespace {

nlohmann::json member_json(const member_view& m) {
  switch (m.status) {
    case member_view::state::down:
      return {{"address", m.address}, {"state", "down"}};
    case member_view::state::unreachable:
      return {{"name", m.name}, {"address", m.address}, {"state", "unreachable"}};
    case member_view::state::incompatible:
      return {{"address", m.address}, {"state", "incompatible"}};
    case member_view::state::up: break;
  }
  return {{"name", m.name},           {"address", m.address}, {"state", "up"},
          {"shards", m.shards},       {"entities", m.entities}};
}

nlohmann::json cluster_json(const cluster_view& v) {
  nlohmann::json owners = nlohmann::json::object();
  for (std::size_t s = 0; s < v.owners.size(); ++s)
    owners[std::to_string(s)] = v.owners[s];
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : v.members)
    members.push_back(member_json(m));
  nlohmann::json out{{"node", v.node},
                     {"wire", v.wire},
                     {"quorum", v.quorum},
                     {"configuredMembers", v.configured_members},
                     {"liveMembers", v.live_members},
                     {"shardCount", v.owners.size()},
                     {"owners", std::move(owners)},
                     {"members", std::move(members)}};
  if (v.user_shard >= 0)
    out["userShard"] = v.user_shard;
  return out;
}

void cluster_status(api_context& ctx, request& req, responder respond) {
  if (!authenticate_admin(ctx, req, respond))
    return;
  auto user = req.query_param("user").value_or("");
  if (user.size() > 128)
    return respond(field_error("user", "is longer than 128 characters"));
  ctx.actors.cluster_status(user, [respond](errc ec, cluster_view view) {
    if (ec != errc::none)
      return respond(error_response(ec, "cluster status unavailable"));
    respond(json_response(cluster_json(view)));
  });
}

/// The operations page's figures, from every member's registry.
void admin_stats(api_context& ctx, request& req, responder respond) {
  if (!authenticate_admin(ctx, req, respond))
    return;
  ctx.actors.node_stats([respond](errc ec, std::vector<node_stats> nodes) {
    if (ec != errc::none)
      return respond(error_response(ec, "cluster statistics unavailable"));
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    respond(json_response(stats_json(std::move(nodes), now)));
  });
}

bool is_write(const request& req) {
  return req.method == "POST" || req.method == "PUT" || req.method == "DELETE";
}

} // namespace

void add_cluster_routes(router& r, api_context& ctx) {
  r.add("GET", "/api/cluster", with_context(ctx, cluster_status));
  r.add("GET", "/api/admin/stats", with_context(ctx, admin_stats));
  // A node that reaches no majority owns no shard; rather than queue writes
  // it cannot place, it says so at once and when to try again. Checking a
  // token touches no shard and keeps working.
  r.set_guard([&ctx](const request& req, responder& respond) {
    if (!is_write(req) || req.path.rfind("/api/", 0) != 0 ||
        to_lower(req.path) == "/api/auth/validate" || ctx.actors.cluster().quorum)
      return false;
    auto res = error_response(errc::unavailable,
                              "this node cannot reach a majority of the cluster; try again shortly");
    res.headers.emplace_back("Retry-After", "2");
    respond(std::move(res));
    return true;
  });
}

} // namespace emporium::http
