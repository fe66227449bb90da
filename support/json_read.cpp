// Non-throwing JSON parsing with a nesting limit (see json_field.hpp).
#include "support/json_field.hpp"

namespace emporium::json_read {

std::optional<nlohmann::json> parse(std::string_view text, std::size_t max_depth) noexcept {
  try {
    // Deep nesting is cheap to send and expensive to hold: recursive
    // comparisons and dumps of such a value would overflow the stack.
    bool too_deep = false;
    auto limit = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
      if ((event == nlohmann::json::parse_event_t::object_start ||
           event == nlohmann::json::parse_event_t::array_start) &&
          static_cast<std::size_t>(depth) >= max_depth)
        too_deep = true;
      return !too_deep;
    };
    auto doc = nlohmann::json::parse(text.begin(), text.end(), limit, false);
    if (too_deep || doc.is_discarded())
      return std::nullopt;
    return doc;
  } catch (...) { // bad_alloc on a huge document: refused like any bad input
    return std::nullopt;
  }
}

} // namespace emporium::json_read
