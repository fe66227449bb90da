// When a failure that repeats is worth a log line: each distinct failure at
// once, the same one again at most once per interval, saying how many were
// held back. Something retried every 100 ms (a payment provider that is
// down, a shard file that will not open) must leave a log one can read.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace emporium {

class repeat_filter {
public:
  using clock = std::chrono::steady_clock;

  explicit repeat_filter(clock::duration interval) : interval_(interval) {}

  /// When `why` deserves a line now: the repeats held back since the last
  /// line (0 for a new failure); nullopt for a repeat within the interval.
  std::optional<std::uint64_t> admit(const std::string& why, clock::time_point now) {
    if (any_ && why == last_ && now - at_ < interval_) {
      ++held_;
      return std::nullopt;
    }
    auto held = held_;
    any_ = true;
    last_ = why;
    at_ = now;
    held_ = 0;
    return held;
  }

  /// It works again: the next failure is news, whatever it says.
  void clear() {
    any_ = false;
    last_.clear();
    held_ = 0;
  }

private:
  clock::duration interval_;
  bool any_ = false;
  std::string last_;
  clock::time_point at_{};
  std::uint64_t held_ = 0;
};

} // namespace emporium
