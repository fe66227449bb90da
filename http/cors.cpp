// Cross-origin rules (see cors.hpp).
#include "http/cors.hpp"

namespace emporium::http {

bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin) {
  for (const auto& a : allowed)
    if (a == "*" || a == origin)
      return true;
  return false;
}

std::vector<std::pair<std::string, std::string>> cors_headers(
  const std::vector<std::string>& allowed, const std::string& origin) {
  if (origin.empty() || !origin_allowed(allowed, origin))
    return {};
  // The origin itself, never "*": answers carry credentials.
  return {{"Access-Control-Allow-Origin", origin},
          {"Access-Control-Allow-Credentials", "true"},
          {"Access-Control-Expose-Headers", "X-Total-Count, Link, Retry-After"},
          {"Vary", "Origin"}};
}

response preflight_response() {
  response pre;
  pre.status = 204;
  pre.content_type.clear();
  pre.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
  pre.headers.emplace_back("Access-Control-Allow-Headers",
                           "Authorization, Content-Type, Idempotency-Key, "
                           "X-Requested-With, X-SignalR-User-Agent");
  pre.headers.emplace_back("Access-Control-Max-Age", "600");
  return pre;
}

} // namespace emporium::http
