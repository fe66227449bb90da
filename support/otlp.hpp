// The OTLP/HTTP JSON encoding of spans (opentelemetry-proto's
// ExportTraceServiceRequest: resourceSpans -> scopeSpans -> spans, ids as
// lower-case hex, times as decimal strings of Unix nanoseconds), and the
// collector endpoint it is POSTed to (`<endpoint>/v1/traces`). Pure
// functions; the sending is http/otlp_exporter.hpp.
#pragma once

#include "support/trace.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emporium::otlp {

struct endpoint {
  std::string host;
  std::string port; // "4318" when the URL names none
  std::string path; // the traces path, e.g. /v1/traces
};

/// `http://host[:port][/prefix]` -> where to POST; nullopt with `why` set
/// otherwise (https is not supported: run a local collector to forward).
std::optional<endpoint> parse_endpoint(std::string_view url, std::string& why);

using attributes = std::vector<std::pair<std::string, std::string>>;

/// One export request body holding `spans`, all from one resource (this
/// node: service.name, service.instance.id, host.name, ...).
std::string encode(const std::vector<trace::span>& spans, const attributes& resource);

} // namespace emporium::otlp
