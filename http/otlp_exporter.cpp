// The OTLP/HTTP span exporter (see otlp_exporter.hpp).
#include "http/otlp_exporter.hpp"

#include "support/log.hpp"
#include "support/metrics.hpp"
#include "support/name_lookup.hpp"
#include "support/tcp_endpoints.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace emporium::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t max_queued_spans = 16'384;
constexpr std::size_t max_batch = 512;
constexpr auto gather_for = std::chrono::milliseconds(1000);
constexpr auto post_limit = std::chrono::seconds(2);

struct export_metrics {
  metrics::counter& exported;
  metrics::counter& failures;
  metrics::counter& lost; // spans of failed batches

  static export_metrics& get() {
    auto& reg = metrics::default_registry();
    static export_metrics m{
      reg.counter_of("emporium_trace_spans_exported_total",
                     "Spans the OTLP collector accepted"),
      reg.counter_of("emporium_trace_export_failures_total",
                     "OTLP export requests that failed (collector down, slow or refusing)"),
      reg.counter_of("emporium_trace_spans_lost_total",
                     "Spans in export requests that failed")};
    return m;
  }
};

} // namespace

struct otlp_exporter::impl {
  otlp::endpoint to;
  otlp::attributes resource;
  std::thread thread;
  bool warned = false;

  void run() {
    std::vector<trace::span> batch;
    for (;;) {
      batch.clear();
      bool open = trace::drain(batch, max_batch, gather_for);
      bool sent = batch.empty() || send(batch);
      // Stopping with the collector down: drop the rest rather than wait
      // post_limit per batch.
      if (!open && (batch.empty() || !sent))
        return;
    }
  }

  /// The POST to one of `endpoints`, until `until`: "" when the collector
  /// accepted it, else what went wrong.
  std::string post(const std::vector<trace::span>& batch,
                   const std::vector<net::ip::tcp::endpoint>& endpoints,
                   std::chrono::steady_clock::time_point until) {
    net::io_context io;
    beast::tcp_stream stream{io};
    bhttp::response<bhttp::string_body> res;
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, to.path, 11};
    req.set(bhttp::field::host, to.host + ":" + to.port);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::user_agent, "emporium");
    req.body() = otlp::encode(batch, resource);
    req.prepare_payload();
    beast::flat_buffer buffer;
    beast::error_code result;
    bool answered = false;
    stream.expires_at(until);
    stream.async_connect(endpoints, [&](beast::error_code ec, const auto&) {
      if (ec)
        return void(result = ec);
      bhttp::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
        if (ec)
          return void(result = ec);
        bhttp::async_read(stream, buffer, res, [&](beast::error_code ec, std::size_t) {
          result = ec;
          answered = !ec;
        });
      });
    });
    io.run_until(until + std::chrono::milliseconds(500));
    if (result)
      return result.message();
    if (!answered)
      return "no answer";
    if (res.result_int() < 200 || res.result_int() >= 300)
      return "status " + std::to_string(res.result_int());
    return "";
  }

  /// One POST; the whole exchange within post_limit, the collector's name
  /// lookup included. True when accepted.
  ///
  /// The lookup is name_lookups' (a thread of its own, waited for until
  /// the deadline). asio's resolver ran getaddrinfo where post_limit did
  /// not reach: with a nameserver that did not answer, the io_context's
  /// end waited for the lookup (~10 s with glibc's defaults), so each batch
  /// and a node's stop waited that long; and its handler never ran, so the
  /// batch counted as exported (a response never read says 200).
  bool send(const std::vector<trace::span>& batch) {
    auto& m = export_metrics::get();
    std::string failure;
    auto until = std::chrono::steady_clock::now() + post_limit;
    try {
      auto found = name_lookups::system().resolve(
        to.host, static_cast<std::uint16_t>(std::stoul(to.port)), post_limit);
      auto endpoints = tcp_endpoints(found);
      failure = endpoints.empty() ? "resolve: " + found.error : post(batch, endpoints, until);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (failure.empty()) {
      m.exported.inc(batch.size());
      warned = false;
      return true;
    }
    m.failures.inc();
    m.lost.inc(batch.size());
    if (!warned) // once per outage, not once per batch
      log::warn("trace_export_failed", {{"endpoint", to.host + ":" + to.port + to.path},
                                        {"error", failure},
                                        {"spans", std::to_string(batch.size())}});
    warned = true;
    return false;
  }
};

otlp_exporter::otlp_exporter(otlp::endpoint to, otlp::attributes resource)
  : impl_(std::make_unique<impl>()) {
  impl_->to = std::move(to);
  impl_->resource = std::move(resource);
  export_metrics::get();
  trace::open_queue(max_queued_spans);
  impl_->thread = std::thread([i = impl_.get()] { log::shielded("trace_exporter_threw", [&] { i->run(); }); });
}

otlp_exporter::~otlp_exporter() {
  trace::close_queue();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

} // namespace emporium::http
