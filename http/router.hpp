// Method + path -> handler. Paths match case-insensitively (the seed's web
// client writes /api/Products, its docs /api/products); `{name}` matches one
// segment and its value lands in request::params in order.
#pragma once

#include "domain/ascii_case.hpp" // to_lower, which the routes use too
#include "http/message.hpp"
#include "http/request_metrics.hpp"

#include <functional>
#include <string>
#include <vector>

namespace emporium::http {

using handler = std::function<void(request&, responder)>;

struct route {
  std::string method;
  std::string pattern; // as written, e.g. /api/products/{id}
  handler fn;
};

class router {
public:
  void add(std::string method, std::string pattern, handler fn);

  /// Runs the matching handler, or answers 404 (no such path) / 405 (path
  /// exists with another method, with an Allow header).
  void dispatch(request& req, responder respond) const;

  /// Handles GET/HEAD outside /api/ that no route matched (static files).
  void set_fallback(handler fn) { fallback_ = std::move(fn); }

  /// Runs before every matched handler; returns true when it has answered
  /// the request itself (e.g. 503 for writes while the node has no quorum).
  using guard = std::function<bool(const request&, responder&)>;
  void set_guard(guard fn) { guard_ = std::move(fn); }

  const std::vector<route>& routes() const noexcept { return routes_; }

private:
  handler fallback_;
  guard guard_;
  struct compiled {
    std::vector<std::string> segments; // lower-cased; "{}" = placeholder
    route_cells cells;                 // its request metrics
  };
  route_cells unmatched_ = make_route_cells("any", "unmatched"); // 404, 405
  route_cells static_ = make_route_cells("GET", "static");        // the fallback
  std::vector<route> routes_;
  std::vector<compiled> compiled_;
};

/// Splits "/a/b/c" into {"a","b","c"} (empty segments dropped).
std::vector<std::string> split_path(const std::string& path);

} // namespace emporium::http
