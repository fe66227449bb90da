// How many log lines a stream of events anyone can cause may write: a token
// bucket of `per_second` lines, up to `burst` at once. Past it, events are
// held back (counted, not written) and the next line written says how many
// were. A flood of reports from many clients (each within its own request
// limit) then costs the log a few lines a second, and the operator still
// learns how many there were. Thread-safe: the edge's I/O threads share one.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace emporium {

class line_budget {
public:
  using clock = std::chrono::steady_clock;

  line_budget(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

  /// When an event may be written now: the events held back since the last
  /// line written (0 if none); nullopt when this one is held back too.
  std::optional<std::uint64_t> admit(clock::time_point now = clock::now()) {
    std::lock_guard lock{mutex_};
    if (started_) {
      std::chrono::duration<double> elapsed = now - at_;
      tokens_ = std::min(burst_, tokens_ + std::max(elapsed.count(), 0.0) * per_second_);
    }
    started_ = true;
    at_ = std::max(at_, now);
    if (tokens_ < 1.0) {
      ++held_;
      return std::nullopt;
    }
    tokens_ -= 1.0;
    auto held = held_;
    held_ = 0;
    return held;
  }

private:
  double per_second_;
  double burst_;
  std::mutex mutex_;
  double tokens_;
  bool started_ = false;
  clock::time_point at_{};
  std::uint64_t held_ = 0;
};

} // namespace emporium
