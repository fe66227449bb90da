// The one errc -> HTTP status mapping and the JSON error shape.
#include "http/response_helpers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace emporium;
using namespace emporium::http;

TEST_CASE("every error code maps to its status and a {message, code} body") {
  CHECK(status_of(errc::invalid_argument) == 400);
  CHECK(status_of(errc::unauthenticated) == 401);
  CHECK(status_of(errc::forbidden) == 403);
  CHECK(status_of(errc::not_found) == 404);
  CHECK(status_of(errc::conflict) == 409);
  CHECK(status_of(errc::insufficient_stock) == 409);
  CHECK(status_of(errc::payload_too_large) == 413);
  CHECK(status_of(errc::rate_limited) == 429);
  CHECK(status_of(errc::storage_failure) == 500);
  CHECK(status_of(errc::unavailable) == 503);
  CHECK(status_of(errc::overloaded) == 503);
  CHECK(to_string(errc::overloaded) == "overloaded");
  CHECK(status_of(errc::timeout) == 504);
  auto res = error_response(errc::unavailable, "restarting");
  CHECK(res.status == 503);
  auto body = nlohmann::json::parse(res.body);
  CHECK(body["message"] == "restarting");
  CHECK(body["code"] == "unavailable");
  bool retry_after = false;
  for (auto& [k, v] : res.headers)
    retry_after |= k == "Retry-After";
  CHECK(retry_after);
  auto field = nlohmann::json::parse(field_error("quantity", "must not be 0").body);
  CHECK(field["field"] == "quantity");
}

TEST_CASE("extra fields join the error body but never replace its message or code") {
  auto res = error_response(errc::insufficient_stock, "only 3 in stock",
                            {{"available", 3}, {"code", "spoofed"}, {"message", "spoofed"}});
  CHECK(res.status == 409);
  auto body = nlohmann::json::parse(res.body);
  CHECK(body["available"] == 3);
  CHECK(body["code"] == "insufficient_stock");
  CHECK(body["message"] == "only 3 in stock");
  auto with_status = error_response(errc::invalid_argument, "speak WebSocket", 426);
  CHECK(with_status.status == 426); // a number is the status, not an extra field
}
