// Exponential backoff: the one rule behind every retry delay (entity
// restarts, saga steps and compensations, payment retries, seed reconnects).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace emporium {

struct backoff {
  std::chrono::milliseconds base; ///< the first delay
  std::chrono::milliseconds cap;  ///< no delay is longer

  /// base * 2^(attempt - 1), at most cap; attempt 0 waits nothing.
  constexpr std::chrono::milliseconds delay(std::uint32_t attempt) const {
    if (attempt == 0)
      return std::chrono::milliseconds{0};
    auto d = base;
    for (std::uint32_t i = 1; i < attempt && d < cap; ++i)
      d *= 2;
    return std::min(d, cap);
  }
};

} // namespace emporium
