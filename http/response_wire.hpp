// A response as the bytes that go on the socket: status line, headers and
// body in one string, written with one call. Beast's serializer (a message
// of header fields in a tree, then buffer sequences of variants over them)
// was ~8% of the node serving catalog listings at 256 connections; an answer
// here is always a complete string body, which needs none of its generality.
#pragma once

#include "http/message.hpp"

#include <string>
#include <utility>
#include <vector>

namespace emporium::http {

struct wire_options {
  unsigned version = 11;   // 10 or 11, as the request's
  bool keep_alive = true;  // false: "Connection: close" (on 1.1); true on 1.0: "keep-alive"
  bool head = false;       // the answer to a HEAD: no body, Content-Length of the GET answer
};

/// The response's bytes: `Server: emporium`, its content type, its headers,
/// the security headers (security_headers.hpp), then `extra` (CORS), the connection's header and Content-Length (none for
/// 1xx, 204 and 304, which have no body). A header whose name is not a token
/// or whose value holds CR, LF or NUL is left out: nothing an answer carries
/// can split it.
std::string wire_response(const response& res, const wire_options& how,
                          const std::vector<std::pair<std::string, std::string>>& extra = {});

} // namespace emporium::http
