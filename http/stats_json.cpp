// The operations page's JSON (see stats_json.hpp).
#include "http/stats_json.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace emporium::http {

namespace {

/// The value of label `name` in `p`, or "".
const std::string& label(const metrics::point& p, const std::string& name) {
  static const std::string none;
  for (std::size_t i = 0; i < p.label_names.size() && i < p.label_values.size(); ++i)
    if (p.label_names[i] == name)
      return p.label_values[i];
  return none;
}

nlohmann::json histogram_json(const metrics::point& p) {
  return {{"count", p.count}, {"sum", p.value}, {"bounds", p.bounds},
          {"buckets", p.buckets}};
}

/// Adds histogram `p` into `into` (same bounds; the first one sets them).
void merge_histogram(nlohmann::json& into, const metrics::point& p) {
  if (into.is_null()) {
    into = histogram_json(p);
    return;
  }
  into["count"] = into["count"].get<std::uint64_t>() + p.count;
  into["sum"] = into["sum"].get<double>() + p.value;
  auto& buckets = into["buckets"];
  if (buckets.size() != p.buckets.size())
    return; // bounds differ: keep the first (never happens with one registry)
  for (std::size_t i = 0; i < p.buckets.size(); ++i)
    buckets[i] = buckets[i].get<std::uint64_t>() + p.buckets[i];
}

const char* breaker_name(double state) {
  if (state >= 1.5)
    return "half_open";
  if (state >= 0.5)
    return "open";
  return "closed";
}

nlohmann::json node_json(const node_stats& n) {
  nlohmann::json out{{"node", n.node}, {"reachable", n.reachable}, {"at", n.unix_ms}};
  if (!n.reachable)
    return out;
  double resident = 0, shards = 0, breaker = 0;
  std::uint64_t placed = 0, confirmed = 0, cancelled = 0;
  nlohmann::json reasons = nlohmann::json::object();
  nlohmann::json commit; // null until a commit is seen
  struct route_figures {
    std::uint64_t requests = 0, server_errors = 0;
    nlohmann::json duration;
  };
  std::map<std::string, route_figures> routes;
  for (const auto& p : n.points) {
    auto count = static_cast<std::uint64_t>(p.value);
    if (p.name == "emporium_entities_resident")
      resident += p.value;
    else if (p.name == "emporium_cluster_shards_owned")
      shards = p.value;
    else if (p.name == "emporium_payment_breaker_state")
      breaker = p.value;
    else if (p.name == "emporium_orders_placed_total")
      placed += count;
    else if (p.name == "emporium_order_transitions_total" && label(p, "to") == "Confirmed")
      confirmed += count;
    else if (p.name == "emporium_order_transitions_total" && label(p, "to") == "Cancelled")
      cancelled += count;
    else if (p.name == "emporium_order_cancellations_total")
      reasons[label(p, "reason")] = count;
    else if (p.name == "emporium_sqlite_commit_duration_seconds")
      merge_histogram(commit, p);
    else if (p.name == "emporium_http_requests_total") {
      auto& r = routes[label(p, "route")];
      r.requests += count;
      if (label(p, "code") == "5xx")
        r.server_errors += count;
    } else if (p.name == "emporium_http_request_duration_seconds")
      merge_histogram(routes[label(p, "route")].duration, p);
  }
  auto route_list = nlohmann::json::array();
  for (auto& [route, r] : routes)
    route_list.push_back({{"route", route},
                          {"requests", r.requests},
                          {"serverErrors", r.server_errors},
                          {"duration", std::move(r.duration)}});
  out["breaker"] = breaker_name(breaker);
  out["shardsOwned"] = static_cast<std::int64_t>(shards);
  out["entitiesResident"] = static_cast<std::int64_t>(resident);
  out["orders"] = {{"placed", placed},
                   {"confirmed", confirmed},
                   {"cancelled", cancelled},
                   {"cancelledByReason", std::move(reasons)}};
  out["commit"] = std::move(commit);
  out["routes"] = std::move(route_list);
  return out;
}

} // namespace

nlohmann::json stats_json(std::vector<node_stats> nodes, std::int64_t now_ms) {
  std::sort(nodes.begin(), nodes.end(),
            [](const node_stats& a, const node_stats& b) { return a.node < b.node; });
  auto list = nlohmann::json::array();
  for (const auto& n : nodes)
    list.push_back(node_json(n));
  return {{"at", now_ms}, {"nodes", std::move(list)}};
}

} // namespace emporium::http
