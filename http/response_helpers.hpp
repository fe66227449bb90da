// Building responses: JSON bodies and the `{message, code}` error shape.
// errc -> HTTP status lives in exactly one place: status_of (error_map.cpp).
#pragma once

#include "domain/errc.hpp"
#include "http/message.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace emporium::http {

/// The one mapping from the error enum to HTTP status codes.
unsigned status_of(errc code) noexcept;

/// `{"message": ..., "code": ...}` with status_of(code), or `status` if given.
response error_response(errc code, std::string message, unsigned status = 0);

/// The same body with more fields (`extra`, a JSON object), e.g. the units
/// still available or the offending field.
response error_response(errc code, std::string message, const nlohmann::json& extra,
                        unsigned status = 0);

/// A 429 or 503 that tells the client when to come back (Retry-After:
/// `seconds`, at least 1).
response retry_later(errc code, std::string message, unsigned seconds);

/// 400 naming the offending field.
response field_error(const std::string& field, const std::string& problem);

response json_response(const nlohmann::json& body, unsigned status = 200);

/// `{"message": text}` with 200.
response message_response(std::string text);

} // namespace emporium::http
