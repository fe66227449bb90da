// The edge's own request/response types: plain structs with no Beast or CAF
// in them, so routing and handlers compile fast and test without sockets.
#pragma once

#include "support/trace.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace emporium::http {

struct request {
  std::string method; // upper case: GET, POST, ...
  std::string path;   // decoded path without the query string
  std::map<std::string, std::string> query; // decoded; keys lower-cased
  std::map<std::string, std::string> headers; // keys lower-cased
  std::string body;
  /// Who sent it, as every per-client limit counts: the client's IPv4
  /// address, or its IPv6 address's network (client_address.hpp).
  std::string client;
  /// The client's connection ended in TLS at a trusted proxy in front of
  /// the node (its X-Forwarded-Proto says https; the node speaks plain HTTP).
  bool over_tls = false;
  std::vector<std::string> params; // values of {placeholders} in the route
  trace::context trace;            // this request's server span
  std::uint64_t trace_parent = 0;  // the caller's span (from traceparent), 0 = a new trace

  /// Header value or empty.
  const std::string& header(const std::string& lower_name) const;
  /// Query value if present.
  std::optional<std::string> query_param(const std::string& lower_name) const;
};

struct response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Completes a request. Call exactly once, from any thread: the session hops
/// back onto its own strand before touching the socket.
using responder = std::function<void(response)>;

} // namespace emporium::http
