// The edge's request metrics: requests by route template, method and
// status class, and a duration histogram by route. Each route's cells are
// made when the route is added, so a request only touches atomics.
#pragma once

#include "http/message.hpp"
#include "support/metrics.hpp"

#include <array>
#include <string>

namespace emporium::http {

struct route_cells {
  std::array<metrics::counter*, 5> by_class{}; // 1xx .. 5xx
  metrics::histogram* duration = nullptr;
  std::string route, method; // for the request log
};

/// Requests slower than this are logged at warn (--slow-request-ms).
void set_slow_request_threshold(double seconds);

/// The cells of one route (`route` is its template, e.g. /api/orders/{id}).
route_cells make_route_cells(const std::string& method, const std::string& route);

/// A responder that counts the answer, observes its duration (measured
/// from now) and logs it: every 5xx at error, a slow request at warn,
/// every request at debug (route template, method, status, duration: never
/// the path's ids, the query or the body), with the request's trace ids.
/// It answers with a `traceparent` header and records the request's server
/// span. Then passes the answer on. `cells` must outlive the request (the
/// router owns them).
responder counted(const route_cells& cells, const request& req, responder respond);

} // namespace emporium::http
