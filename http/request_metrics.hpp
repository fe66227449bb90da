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
};

/// The cells of one route (`route` is its template, e.g. /api/orders/{id}).
route_cells make_route_cells(const std::string& method, const std::string& route);

/// A responder that counts the answer and observes its duration, measured
/// from now, before passing it on.
responder counted(const route_cells& cells, responder respond);

} // namespace emporium::http
