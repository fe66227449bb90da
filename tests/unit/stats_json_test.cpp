// GET /api/admin/stats's JSON: each member's registry figures summed into
// what the operations page charts.
#include "http/stats_json.hpp"

#include <doctest/doctest.h>

using namespace emporium;

namespace {

metrics::point counter(std::string name, std::vector<std::string> names,
                       std::vector<std::string> values, double v) {
  return {std::move(name), std::move(names), std::move(values), v};
}

metrics::point histogram(std::string name, std::vector<std::string> names,
                         std::vector<std::string> values, std::vector<std::uint64_t> buckets,
                         double sum) {
  std::uint64_t count = 0;
  for (auto b : buckets)
    count += b;
  return {std::move(name), std::move(names), std::move(values), sum, count, {0.01, 0.1},
          std::move(buckets)};
}

} // namespace

TEST_CASE("a member's figures: orders, breaker, shards, entities, commits and routes") {
  node_stats n{"n2", true, 1000, {}};
  auto& p = n.points;
  p.push_back(counter("emporium_orders_placed_total", {}, {}, 7));
  p.push_back(counter("emporium_order_transitions_total", {"from", "to"},
                      {"PaymentAuthorized", "Confirmed"}, 5));
  p.push_back(counter("emporium_order_transitions_total", {"from", "to"},
                      {"Submitted", "Cancelled"}, 1));
  p.push_back(counter("emporium_order_transitions_total", {"from", "to"},
                      {"StockReserved", "Cancelled"}, 1));
  p.push_back(counter("emporium_order_transitions_total", {"from", "to"},
                      {"Submitted", "StockReserved"}, 6));
  p.push_back(counter("emporium_order_cancellations_total", {"reason"}, {"out_of_stock"}, 1));
  p.push_back(counter("emporium_order_cancellations_total", {"reason"}, {"card_declined"}, 1));
  p.push_back(counter("emporium_payment_breaker_state", {}, {}, 1));
  p.push_back(counter("emporium_cluster_shards_owned", {}, {}, 4));
  p.push_back(counter("emporium_entities_resident", {"kind"}, {"cart"}, 10));
  p.push_back(counter("emporium_entities_resident", {"kind"}, {"order"}, 3));
  p.push_back(histogram("emporium_sqlite_commit_duration_seconds", {"file"}, {"shard-0"},
                        {2, 1, 0}, 0.05));
  p.push_back(histogram("emporium_sqlite_commit_duration_seconds", {"file"}, {"shard-1"},
                        {1, 0, 1}, 0.5));
  p.push_back(counter("emporium_http_requests_total", {"route", "method", "code"},
                      {"/api/orders/place", "POST", "2xx"}, 7));
  p.push_back(counter("emporium_http_requests_total", {"route", "method", "code"},
                      {"/api/orders/place", "POST", "5xx"}, 2));
  p.push_back(histogram("emporium_http_request_duration_seconds", {"route"},
                        {"/api/orders/place"}, {8, 1, 0}, 0.2));
  auto j = http::stats_json({n, {"n1", false, 0, {}}}, 2000);
  CHECK(j["at"] == 2000);
  REQUIRE(j["nodes"].size() == 2);
  CHECK(j["nodes"][0]["node"] == "n1"); // sorted by name
  CHECK(j["nodes"][0]["reachable"] == false);
  CHECK(j["nodes"][0].count("orders") == 0);
  auto& m = j["nodes"][1];
  CHECK(m["reachable"] == true);
  CHECK(m["breaker"] == "open");
  CHECK(m["shardsOwned"] == 4);
  CHECK(m["entitiesResident"] == 13);
  CHECK(m["orders"]["placed"] == 7);
  CHECK(m["orders"]["confirmed"] == 5);
  CHECK(m["orders"]["cancelled"] == 2);
  CHECK(m["orders"]["cancelledByReason"]["card_declined"] == 1);
  CHECK(m["commit"]["count"] == 5);
  CHECK(m["commit"]["sum"] == doctest::Approx(0.55));
  CHECK(m["commit"]["buckets"] == nlohmann::json::array({3, 1, 1}));
  REQUIRE(m["routes"].size() == 1);
  CHECK(m["routes"][0]["route"] == "/api/orders/place");
  CHECK(m["routes"][0]["requests"] == 9);
  CHECK(m["routes"][0]["serverErrors"] == 2);
  CHECK(m["routes"][0]["duration"]["count"] == 9);
  CHECK(m["routes"][0]["duration"]["bounds"] == nlohmann::json::array({0.01, 0.1}));
}

TEST_CASE("a member without commits or requests has null and empty figures, not missing ones") {
  auto j = http::stats_json({{"n1", true, 5, {}}}, 6);
  auto& m = j["nodes"][0];
  CHECK(m["breaker"] == "closed");
  CHECK(m["orders"]["placed"] == 0);
  CHECK(m["commit"].is_null());
  CHECK(m["routes"].empty());
}

TEST_CASE("the registry gives its non-empty series as points") {
  metrics::registry r;
  r.counter_family("x_total", "x", {"k"}).with({"a"}).inc(3);
  r.counter_family("x_total", "x", {"k"}).with({"b"}); // zero: left out
  r.gauge_of("g", "g").set(2.5);
  auto& h = r.histogram_family("h_seconds", "h", {}, {0.1, 1}).with({});
  h.observe(0.05);
  h.observe(5);
  r.histogram_family("quiet_seconds", "q").with({}); // no observations: left out
  auto points = r.points({"x_total", "g", "h_seconds", "quiet_seconds"});
  REQUIRE(points.size() == 3);
  CHECK(points[0].name == "x_total");
  CHECK(points[0].label_values == std::vector<std::string>{"a"});
  CHECK(points[0].value == 3);
  CHECK(points[1].value == 2.5);
  CHECK(points[2].count == 2);
  CHECK(points[2].buckets == std::vector<std::uint64_t>{1, 0, 1});
  CHECK(points[2].value == doctest::Approx(5.05));
  CHECK(r.points({"g"}).size() == 1);
}
