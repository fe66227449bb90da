// Counts failures per key in a sliding one-minute window (login attempts per
// client address and per account). Thread-safe; memory bounded by pruning.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace emporium::http {

class failure_limiter {
public:
  using clock = std::chrono::steady_clock;

  explicit failure_limiter(unsigned max_per_minute) : max_(max_per_minute) {
  }

  /// Seconds until `key` may try again; 0 when it may try now.
  unsigned retry_after(const std::string& key, clock::time_point now = clock::now());

  void record_failure(const std::string& key, clock::time_point now = clock::now());

  void reset(const std::string& key);

private:
  void prune(std::deque<clock::time_point>& q, clock::time_point now);
  unsigned max_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<clock::time_point>> failures_;
};

} // namespace emporium::http
