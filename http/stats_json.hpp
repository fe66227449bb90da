// GET /api/admin/stats as JSON: each member's figures from its metrics
// registry, summed into what the operations page charts. Figures are
// cumulative counts; the page turns two polls into rates and a p99 (as
// Prometheus does with rate() and histogram_quantile()).
#pragma once

#include "domain/views.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace emporium::http {

/// {"at", "nodes": [{node, reachable, at, breaker, shardsOwned,
/// entitiesResident, orders: {placed, confirmed, cancelled,
/// cancelledByReason}, commit: {count, sum, bounds, buckets}, routes:
/// [{route, requests, serverErrors, duration: {count, sum, bounds,
/// buckets}}]}]}, members sorted by name.
nlohmann::json stats_json(std::vector<node_stats> nodes, std::int64_t now_ms);

} // namespace emporium::http
