// Sends the spans recorded by trace::record to an OpenTelemetry collector
// (Jaeger, the Collector, ...) as OTLP over HTTP with JSON bodies: one
// thread drains the span queue in batches (up to 512 spans, or what a
// second gathers) and POSTs each to <endpoint>/v1/traces with a 2 s limit.
// A collector that is slow or down costs only spans: the queue is bounded,
// a full queue drops, a failed POST drops its batch, all counted. Clients
// never wait for it.
#pragma once

#include "support/otlp.hpp"

#include <memory>

namespace emporium::http {

class otlp_exporter {
public:
  /// Starts exporting to `to`; `resource` names this node.
  otlp_exporter(otlp::endpoint to, otlp::attributes resource);
  /// Sends what is queued (bounded by the POST limit), then stops.
  ~otlp_exporter();

  otlp_exporter(const otlp_exporter&) = delete;
  otlp_exporter& operator=(const otlp_exporter&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace emporium::http
