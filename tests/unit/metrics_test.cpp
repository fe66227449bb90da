// The metrics registry and its Prometheus text format (0.0.4).
#include "support/metrics.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace emporium::metrics;

TEST_CASE("counters, gauges and labelled families expose as the text format") {
  registry r;
  auto& requests = r.counter_family("shop_requests_total", "Requests", {"route", "code"});
  requests.with({"/api/cart", "2xx"}).inc(3);
  requests.with({"/api/cart", "5xx"}).inc();
  r.gauge_of("shop_open", "Open things").set(2.5);
  // The same name gives the same family, not a second one.
  CHECK(&r.counter_family("shop_requests_total", "Requests", {"route", "code"}) == &requests);
  auto text = r.expose();
  CHECK(text.find("# HELP shop_requests_total Requests\n# TYPE shop_requests_total counter\n") !=
        std::string::npos);
  CHECK(text.find("shop_requests_total{route=\"/api/cart\",code=\"2xx\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("shop_requests_total{route=\"/api/cart\",code=\"5xx\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("# TYPE shop_open gauge\nshop_open 2.5\n") != std::string::npos);
}

TEST_CASE("histogram buckets are cumulative, le-labelled, and _count equals +Inf") {
  registry r;
  auto& h = r.histogram_family("shop_seconds", "Durations", {"route"}, {0.1, 1}).with({"/x"});
  for (double v : {0.05, 0.1, 0.5, 2.0, 3.0})
    h.observe(v);
  CHECK(h.count() == 5);
  CHECK(h.sum() == doctest::Approx(5.65));
  auto counts = h.counts();
  CHECK(counts == std::vector<std::uint64_t>{2, 1, 2}); // 0.1 itself is in le="0.1"
  auto text = r.expose();
  CHECK(text.find("shop_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n") != std::string::npos);
  CHECK(text.find("shop_seconds_bucket{route=\"/x\",le=\"1\"} 3\n") != std::string::npos);
  CHECK(text.find("shop_seconds_bucket{route=\"/x\",le=\"+Inf\"} 5\n") != std::string::npos);
  CHECK(text.find("shop_seconds_sum{route=\"/x\"} 5.65") != std::string::npos);
  CHECK(text.find("shop_seconds_count{route=\"/x\"} 5\n") != std::string::npos);
}

TEST_CASE("label values and help text are escaped; values print as the format wants") {
  CHECK(escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  registry r;
  r.counter_family("shop_odd_total", "Line one\nline two", {"reason"})
    .with({"said \"no\"\n"})
    .inc();
  auto text = r.expose();
  CHECK(text.find("# HELP shop_odd_total Line one\\nline two\n") != std::string::npos);
  CHECK(text.find("shop_odd_total{reason=\"said \\\"no\\\"\\n\"} 1\n") != std::string::npos);
  CHECK(format_value(3) == "3");
  CHECK(format_value(0.0005) == "0.0005");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
}

TEST_CASE("collectors add computed metrics at scrape time") {
  registry r;
  int scrapes = 0;
  r.add_collector([&scrapes](exposition& out) {
    out.single("shop_scrapes", "Scrapes so far", "gauge", ++scrapes);
  });
  CHECK(r.expose().find("shop_scrapes 1\n") != std::string::npos);
  CHECK(r.expose().find("shop_scrapes 2\n") != std::string::npos);
}

TEST_CASE("cells updated from many threads lose no increment") {
  registry r;
  auto& c = r.counter_of("shop_hits_total", "Hits");
  auto& g = r.gauge_of("shop_level", "Level");
  auto& h = r.histogram_family("shop_t", "T", {}, {1}).with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        c.inc();
        g.add(1);
        h.observe(0.5);
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(c.value() == 40'000);
  CHECK(g.value() == 40'000);
  CHECK(h.count() == 40'000);
  CHECK(h.sum() == doctest::Approx(20'000));
}
