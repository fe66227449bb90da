// The OTLP/HTTP span exporter (see otlp_exporter.hpp).
#include "http/otlp_exporter.hpp"

#include "support/log.hpp"
#include "support/metrics.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
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

  /// One POST; the whole exchange within post_limit. True when accepted.
  bool send(const std::vector<trace::span>& batch) {
    auto& m = export_metrics::get();
    std::string failure;
    try {
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
      net::ip::tcp::resolver resolver{io};
      stream.expires_after(post_limit);
      resolver.async_resolve(to.host, to.port, [&](beast::error_code ec, auto endpoints) {
        if (ec)
          return void(result = ec);
        stream.async_connect(endpoints, [&](beast::error_code ec, const auto&) {
          if (ec)
            return void(result = ec);
          bhttp::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
            if (ec)
              return void(result = ec);
            bhttp::async_read(stream, buffer, res,
                              [&](beast::error_code ec, std::size_t) { result = ec; });
          });
        });
      });
      io.run_for(post_limit + std::chrono::milliseconds(500));
      if (result)
        failure = result.message();
      else if (res.result_int() < 200 || res.result_int() >= 300)
        failure = "status " + std::to_string(res.result_int());
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
