// The one error enum of Emporium. Every layer reports failures with it; the
// HTTP edge maps it to status codes in exactly one place (http/error_map.cpp).
#pragma once

#include <cstdint>
#include <string_view>

namespace emporium {

enum class errc : std::uint8_t {
  none = 0,
  invalid_argument,      // malformed or out-of-range input (400)
  not_found,             // entity or route does not exist (404)
  unauthenticated,       // missing/bad credentials (401)
  forbidden,             // authenticated but not allowed (403)
  conflict,              // state does not allow it, e.g. email taken (409)
  insufficient_stock,    // a reservation or adjustment would oversell (409)
  quantity_out_of_range, // a cart line would exceed the per-line maximum (400)
  rate_limited,          // too many attempts (429)
  payload_too_large,     // request body over the limit (413)
  unavailable,           // entity restarting, store down, overload (503)
  timeout,               // an actor did not answer in time (504)
  storage_failure,       // SQLite refused a write (500)
  internal,              // a bug (500)
  overloaded,            // the node holds as much work as it takes; retry shortly (503)
};

/// Stable machine-readable name, used as the `code` of JSON error bodies.
std::string_view to_string(errc code) noexcept;

} // namespace emporium
