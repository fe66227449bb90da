// Sliding-window attempt counting (see attempt_limiter.hpp).
#include "domain/attempt_limiter.hpp"

namespace emporium {

namespace {
constexpr auto window = std::chrono::minutes(1);
constexpr std::size_t max_keys = 100'000;
} // namespace

void attempt_limiter::prune(std::deque<clock::time_point>& q, clock::time_point now) {
  while (!q.empty() && now - q.front() >= window)
    q.pop_front();
}

void attempt_limiter::make_room(clock::time_point now) {
  if (attempts_.size() < max_keys)
    return;
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    prune(it->second, now);
    it = it->second.empty() ? attempts_.erase(it) : std::next(it);
  }
}

unsigned attempt_limiter::admit(const std::string& key, clock::time_point now) {
  std::lock_guard guard{mutex_};
  make_room(now);
  auto& q = attempts_[key];
  prune(q, now);
  if (q.size() < max_) {
    q.push_back(now);
    return 0;
  }
  auto wait = window - (now - q.front());
  return static_cast<unsigned>(
           std::chrono::duration_cast<std::chrono::seconds>(wait).count()) + 1;
}

void attempt_limiter::forgive(const std::string& key) {
  std::lock_guard guard{mutex_};
  auto it = attempts_.find(key);
  if (it == attempts_.end() || it->second.empty())
    return;
  it->second.pop_back();
  if (it->second.empty())
    attempts_.erase(it);
}

std::size_t attempt_limiter::count(const std::string& key, clock::time_point now) {
  std::lock_guard guard{mutex_};
  auto it = attempts_.find(key);
  if (it == attempts_.end())
    return 0;
  prune(it->second, now);
  return it->second.size();
}

void attempt_limiter::record(const std::string& key, clock::time_point now) {
  std::lock_guard guard{mutex_};
  make_room(now);
  auto& q = attempts_[key];
  prune(q, now);
  q.push_back(now);
}

} // namespace emporium
