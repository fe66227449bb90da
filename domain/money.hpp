// Money is integer cents everywhere inside Emporium; only the JSON edge
// converts to and from decimal numbers (two places of meaning).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

namespace emporium {

using cents = std::int64_t;

/// Largest price we accept: 1,000,000.00 (keeps every total far from overflow).
inline constexpr cents max_unit_price = 100'000'000;

/// Largest order total: 10,000,000,000,000.00. Totals travel as JSON
/// numbers (doubles); every cent amount up to this one survives
/// cents -> decimal -> cents exactly (checked over 2*10^7 amounts), and no
/// sum of lines within it overflows.
inline constexpr cents max_order_total = 1'000'000'000'000'000;

/// Converts a JSON number such as 19.99 into cents, rounding half away from
/// zero; nullopt when it is not finite, negative or above `max` (a price by
/// default; an order's total where one is read).
inline std::optional<cents> cents_from_decimal(double amount, cents max = max_unit_price) {
  if (!std::isfinite(amount) || amount < 0)
    return std::nullopt;
  double scaled = std::round(amount * 100.0);
  if (scaled > static_cast<double>(max))
    return std::nullopt;
  return static_cast<cents>(scaled);
}

/// Cents as the decimal number JSON carries (exact for two decimals).
inline double cents_to_decimal(cents amount) {
  return static_cast<double>(amount) / 100.0;
}

} // namespace emporium
