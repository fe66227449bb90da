// Request metrics (see request_metrics.hpp).
#include "http/request_metrics.hpp"

#include "support/log.hpp"

#include <atomic>
#include <chrono>

namespace emporium::http {

namespace {
std::atomic<double> slow_threshold{0.5};
} // namespace

void set_slow_request_threshold(double seconds) {
  slow_threshold.store(seconds);
}

route_cells make_route_cells(const std::string& method, const std::string& route) {
  auto& reg = metrics::default_registry();
  auto& requests = reg.counter_family("emporium_http_requests_total",
                                      "HTTP requests answered, by route template, method and "
                                      "status class",
                                      {"route", "method", "code"});
  auto& durations = reg.histogram_family("emporium_http_request_duration_seconds",
                                         "Time from a parsed request to its answer, by route",
                                         {"route"});
  route_cells cells;
  for (int c = 1; c <= 5; ++c)
    cells.by_class[c - 1] = &requests.with({route, method, std::to_string(c) + "xx"});
  cells.duration = &durations.with({route});
  cells.route = route;
  cells.method = method;
  return cells;
}

responder counted(const route_cells& cells, const request& req, responder respond) {
  auto start = std::chrono::steady_clock::now();
  auto start_ns = trace::now_ns();
  // The cells outlive every request (the router owns them): a pointer, not
  // a copy of their route and method strings per request.
  return [cells = &cells, start, start_ns, ctx = req.trace, parent = req.trace_parent,
          respond = std::move(respond)](response res) {
    trace::scope in_request{ctx};
    if (ctx.valid())
      res.headers.emplace_back("traceparent", trace::traceparent(ctx));
    if (trace::recording())
      trace::record(ctx, parent, cells->method + " " + cells->route, trace::span_kind::server,
                    start_ns,
                    {{"http.request.method", cells->method},
                     {"http.route", cells->route},
                     {"http.response.status_code", std::to_string(res.status)}},
                    res.status >= 500);
    auto cls = res.status / 100;
    if (cls >= 1 && cls <= 5)
      cells->by_class[cls - 1]->inc();
    auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cells->duration->observe(took);
    auto lvl = res.status >= 500                  ? log::level::error
               : took > slow_threshold.load()     ? log::level::warn
                                                  : log::level::debug;
    if (log::enabled(lvl))
      log::write(lvl, lvl == log::level::warn ? "slow_request" : "request",
                 {{"route", cells->route},
                  {"method", cells->method},
                  {"status", std::to_string(res.status)},
                  {"duration_ms", std::to_string(static_cast<long>(took * 1000))}});
    respond(std::move(res));
  };
}

} // namespace emporium::http
