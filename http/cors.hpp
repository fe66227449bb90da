// Cross-origin rules of the edge: which origins may read answers, and the
// answer to a preflight. Plain functions over the edge's own response type
// (no Beast), unit tested.
#pragma once

#include "http/message.hpp"

#include <string>
#include <utility>
#include <vector>

namespace emporium::http {

/// True when `origin` is in `allowed` or `allowed` holds "*".
bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin);

/// The headers that let `origin` read an answer (credentials included), or
/// none when it is not allowed or there is no Origin header.
std::vector<std::pair<std::string, std::string>> cors_headers(
  const std::vector<std::string>& allowed, const std::string& origin);

/// The answer to an OPTIONS preflight (204; the CORS headers are added like
/// on every answer).
response preflight_response();

} // namespace emporium::http
