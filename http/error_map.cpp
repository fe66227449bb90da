// errc -> HTTP status, and the JSON error shape. The only place that knows
// which status an error becomes.
#include "http/response_helpers.hpp"

#include "support/json_field.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

namespace emporium::http {

unsigned status_of(errc code) noexcept {
  switch (code) {
    case errc::none: return 200;
    case errc::invalid_argument: return 400;
    case errc::quantity_out_of_range: return 400;
    case errc::unauthenticated: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::insufficient_stock: return 409;
    case errc::payload_too_large: return 413;
    case errc::rate_limited: return 429;
    case errc::storage_failure: return 500;
    case errc::internal: return 500;
    case errc::unavailable: return 503;
    case errc::overloaded: return 503;
    case errc::timeout: return 504;
  }
  return 500;
}

response error_response(errc code, std::string message, const nlohmann::json& extra,
                        unsigned status) {
  response res;
  res.status = status != 0 ? status : status_of(code);
  nlohmann::json body = extra.is_object() ? extra : nlohmann::json::object();
  body["message"] = std::move(message);
  body["code"] = to_string(code);
  res.body = json_read::dump(body);
  if (res.status == 503)
    res.headers.emplace_back("Retry-After", "1");
  return res;
}

response error_response(errc code, std::string message, unsigned status) {
  return error_response(code, std::move(message), nlohmann::json::object(), status);
}

response retry_later(errc code, std::string message, unsigned seconds) {
  auto res = error_response(code, std::move(message));
  std::erase_if(res.headers, [](const auto& h) { return h.first == "Retry-After"; });
  res.headers.emplace_back("Retry-After", std::to_string(std::max(1u, seconds)));
  return res;
}

response field_error(const std::string& field, const std::string& problem) {
  return error_response(errc::invalid_argument, field + ": " + problem, {{"field", field}});
}

response json_response(const nlohmann::json& body, unsigned status) {
  response res;
  res.status = status;
  res.body = json_read::dump(body);
  return res;
}

response message_response(std::string text) {
  return json_response(nlohmann::json{{"message", std::move(text)}});
}

} // namespace emporium::http
