// Sliding-window failure counting (see rate_limiter.hpp).
#include "http/auth/rate_limiter.hpp"

namespace emporium::http {

namespace {
constexpr auto window = std::chrono::minutes(1);
constexpr std::size_t max_keys = 100'000;
} // namespace

void failure_limiter::prune(std::deque<clock::time_point>& q, clock::time_point now) {
  while (!q.empty() && now - q.front() >= window)
    q.pop_front();
}

unsigned failure_limiter::retry_after(const std::string& key, clock::time_point now) {
  std::lock_guard guard{mutex_};
  auto it = failures_.find(key);
  if (it == failures_.end())
    return 0;
  prune(it->second, now);
  if (it->second.size() < max_)
    return 0;
  auto wait = window - (now - it->second.front());
  return static_cast<unsigned>(
           std::chrono::duration_cast<std::chrono::seconds>(wait).count()) + 1;
}

void failure_limiter::record_failure(const std::string& key, clock::time_point now) {
  std::lock_guard guard{mutex_};
  if (failures_.size() >= max_keys) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune(it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
  auto& q = failures_[key];
  prune(q, now);
  q.push_back(now);
}

void failure_limiter::reset(const std::string& key) {
  std::lock_guard guard{mutex_};
  failures_.erase(key);
}

} // namespace emporium::http
