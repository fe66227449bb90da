// /health/live, /health/ready (and /health), and /api/openapi.yaml.
#include "http/api_context.hpp"
#include "http/response_helpers.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace emporium::http {

extern const char* const openapi_document; // generated from http/openapi.yaml

void add_health_routes(router& r, api_context& ctx) {
  r.add("GET", "/health/live", [](request&, responder respond) {
    respond(json_response({{"status", "live"}}));
  });
  auto ready = [&ctx](request&, responder respond) {
    bool up = ctx.actors.ready();
    auto products = ctx.catalog.snapshot()->size;
    auto cluster = ctx.actors.cluster();
    nlohmann::json body{{"status", up ? "ready" : "unavailable"},
                        {"checks",
                         {{"actors", up ? "up" : "down"},
                          {"persistence", up ? "open" : "closed"},
                          {"catalogProducts", products},
                          {"paymentBreaker", ctx.actors.payment_breaker()},
                          {"cluster",
                           {{"quorum", cluster.quorum},
                            {"liveMembers", cluster.live_members},
                            {"ownedShards", cluster.owned_shards},
                            {"readyShards", cluster.ready_shards}}}}}};
    respond(json_response(body, up ? 200 : 503));
  };
  r.add("GET", "/health/ready", ready);
  r.add("GET", "/health", ready);
  r.add("GET", "/api/openapi.yaml", [](request&, responder respond) {
    response res;
    res.content_type = "application/yaml";
    res.body = openapi_document;
    respond(std::move(res));
  });
}

} // namespace emporium::http
