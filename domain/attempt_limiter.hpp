// Attempts per key in a sliding one-minute window (logins per client
// address, per client address and account, registrations per address).
// An attempt is counted when it STARTS: checking first and counting only
// after a 100 ms password hash let every request already in flight through.
// A success takes its attempt back, so only failures (and attempts still
// running) use up the allowance. Thread-safe; memory bounded by pruning.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace emporium {

class attempt_limiter {
public:
  using clock = std::chrono::steady_clock;

  explicit attempt_limiter(unsigned max_per_minute) : max_(max_per_minute) {
  }

  /// Counts an attempt for `key` and answers 0, or refuses it uncounted and
  /// answers the seconds until one may be made (for Retry-After).
  unsigned admit(const std::string& key, clock::time_point now = clock::now());

  /// Takes back the latest attempt of `key` (it succeeded).
  void forgive(const std::string& key);

  /// Attempts of `key` within the window.
  std::size_t count(const std::string& key, clock::time_point now = clock::now());

  /// Counts an attempt without a limit (failures that only slow down).
  void record(const std::string& key, clock::time_point now = clock::now());

private:
  void prune(std::deque<clock::time_point>& q, clock::time_point now);
  void make_room(clock::time_point now);
  unsigned max_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<clock::time_point>> attempts_;
};

} // namespace emporium
