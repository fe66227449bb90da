// Names of the error codes (the `code` field clients switch on).
#include "domain/errc.hpp"

namespace emporium {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::none: return "none";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::unauthenticated: return "unauthenticated";
    case errc::forbidden: return "forbidden";
    case errc::conflict: return "conflict";
    case errc::insufficient_stock: return "insufficient_stock";
    case errc::quantity_out_of_range: return "quantity_out_of_range";
    case errc::rate_limited: return "rate_limited";
    case errc::payload_too_large: return "payload_too_large";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::storage_failure: return "storage_failure";
    case errc::internal: return "internal";
    case errc::overloaded: return "overloaded";
  }
  return "internal";
}

} // namespace emporium
