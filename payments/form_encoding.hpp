// application/x-www-form-urlencoded, the body format Stripe's API takes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emporium::payments {

using form_fields = std::vector<std::pair<std::string, std::string>>;

/// `k=v&k2=v2`, every byte outside A-Z a-z 0-9 - _ . ~ percent-encoded
/// (brackets too: `metadata%5Border_id%5D`, which Stripe reads as
/// `metadata[order_id]`).
std::string form_encode(const form_fields& fields);

/// One component percent-encoded.
std::string percent_encode(std::string_view text);

} // namespace emporium::payments
