// GET /api/cluster (admin), and the write guard of a node without quorum.
#include "http/api_context.hpp"
#include "http/response_helpers.hpp"

namespace emporium::http {

namespace {

void cluster_status(api_context& ctx, request& req, responder respond) {
  if (!authenticate_admin(ctx, req, respond))
    return;
  ctx.actors.cluster_status([respond](errc ec, std::string body) {
    if (ec != errc::none)
      return respond(error_response(ec, "cluster status unavailable"));
    response res;
    res.body = std::move(body);
    respond(std::move(res));
  });
}

bool is_write(const request& req) {
  return req.method == "POST" || req.method == "PUT" || req.method == "DELETE";
}

} // namespace

void add_cluster_routes(router& r, api_context& ctx) {
  r.add("GET", "/api/cluster", with_context(ctx, cluster_status));
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
