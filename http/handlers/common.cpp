// Authentication shared by all handlers, and the route table's assembly.
#include "http/api_context.hpp"
#include "http/response_helpers.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

namespace emporium::http {

std::int64_t now_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

/// A token in the query string ends up in access logs and browser history:
/// accepted only where a browser has no other way, the WebSocket upgrades.
bool accepts_query_token(const std::string& path) {
  auto p = to_lower(path);
  return p == "/ws" || p == "/notificationhub";
}

} // namespace

std::optional<token_claims> authenticate(api_context& ctx, const request& req,
                                         responder& respond) {
  std::string token;
  const auto& header = req.header("authorization");
  if (header.size() > 7 && to_lower(header.substr(0, 7)) == "bearer ")
    token = header.substr(7);
  else if (auto q = req.query_param("access_token"); q && accepts_query_token(req.path))
    token = *q; // browsers cannot set headers on a WebSocket upgrade
  if (token.empty()) {
    respond(error_response(errc::unauthenticated, "missing bearer token"));
    return std::nullopt;
  }
  auto claims = ctx.tokens.verify(token, now_seconds());
  if (!claims) {
    auto res = error_response(errc::unauthenticated, "invalid or expired token");
    res.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    respond(std::move(res));
    return std::nullopt;
  }
  return claims;
}

std::optional<token_claims> authenticate_admin(api_context& ctx, const request& req,
                                               responder& respond) {
  auto claims = authenticate(ctx, req, respond);
  if (claims && claims->role != "admin") {
    respond(error_response(errc::forbidden, "admin role required"));
    return std::nullopt;
  }
  return claims;
}

void add_all_routes(router& r, api_context& ctx) {
  add_health_routes(r, ctx);
  add_auth_routes(r, ctx);
  add_product_routes(r, ctx);
  add_cart_routes(r, ctx);
  add_order_routes(r, ctx);
  add_live_routes(r, ctx);
  add_cluster_routes(r, ctx);
  add_payment_routes(r, ctx);
  add_csp_report_routes(r, ctx);
  add_static_files(r, ctx);
}

} // namespace emporium::http
