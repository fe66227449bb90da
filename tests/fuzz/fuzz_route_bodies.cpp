// The JSON body of every route that takes one. The first byte picks the
// route (and whether the caller is a customer, an admin or anonymous), the
// rest is the body. Every answer is valid, never a 500, never a hang.
#include "edge_harness.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace emporium;

namespace {
/// The routes with a body (POST, PUT), with their placeholders filled in.
std::vector<std::pair<std::string, std::string>> body_routes(const http::router& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& route : r.routes()) {
    if (route.method != "POST" && route.method != "PUT")
      continue;
    std::string path;
    for (auto& seg : http::split_path(route.pattern))
      path += "/" + (seg.front() == '{' ? std::string{"1"} : seg);
    out.emplace_back(route.method, path);
  }
  return out;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  auto& e = fuzz::shared_edge();
  static const auto routes = body_routes(e.routes);
  auto pick = data[0];
  const auto& [method, path] = routes[pick % routes.size()];
  http::request req;
  req.method = method;
  req.path = path;
  req.client = "127.0.0.1";
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  req.headers["content-type"] = "application/json";
  switch ((pick / routes.size()) % 3) {
    case 0: req.headers["authorization"] = "Bearer " + e.user_token; break;
    case 1: req.headers["authorization"] = "Bearer " + e.admin_token; break;
    default: break;
  }
  req.headers["idempotency-key"] = "fuzz-key";
  auto res = fuzz::run(e, req);
  if (res.status == 500) {
    std::fprintf(stderr, "500 from %s %s: %s\n", method.c_str(), path.c_str(), res.body.c_str());
    std::abort();
  }
  return 0;
}
