// Token buckets per client address (see request_limiter.hpp).
#include "http/request_limiter.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

namespace emporium::http {

bool counted_path(std::string_view path) {
  // Routed as the router does: empty segments skipped, any case.
  auto first = path.find_first_not_of('/');
  if (first == std::string_view::npos)
    return false;
  auto segment = path.substr(first, path.find('/', first) - first);
  auto is = [&](std::string_view name) {
    return segment.size() == name.size() &&
           std::equal(name.begin(), name.end(), segment.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  };
  return is("api") || is("ws") || is("notificationhub");
}

request_limiter::request_limiter(double per_second, double burst, std::size_t max_clients)
  : per_second_(per_second > 0 ? per_second : 1),
    burst_(std::max(1.0, burst)),
    max_per_stripe_(std::max<std::size_t>(1, max_clients / stripes)) {
}

double request_limiter::refilled(const bucket& b, clock::time_point now) const {
  auto elapsed = std::chrono::duration<double>(now - b.at).count();
  return std::min(burst_, b.tokens + std::max(0.0, elapsed) * per_second_);
}

/// Drops the buckets that have refilled (idle clients); at most ten times a
/// second per stripe, so that a flood of new addresses does not make every
/// request walk the table. True when there is room after it.
bool request_limiter::make_room(stripe& s, clock::time_point now) {
  if (s.buckets.size() < max_per_stripe_)
    return true;
  if (now - s.pruned < std::chrono::milliseconds(100))
    return false;
  s.pruned = now;
  std::erase_if(s.buckets, [&](const auto& entry) { return refilled(entry.second, now) >= burst_; });
  return s.buckets.size() < max_per_stripe_;
}

unsigned request_limiter::admit(std::string_view client, clock::time_point now) {
  auto hash = std::hash<std::string_view>{}(client);
  // The stripe from the hash's high bits: the map's buckets use its low ones.
  auto& s = stripes_[(hash >> 56) % stripes];
  std::lock_guard guard{s.mutex};
  auto it = s.buckets.find(client);
  if (it == s.buckets.end()) {
    if (!make_room(s, now))
      return 0; // fail open, see the header
    it = s.buckets.emplace(std::string{client}, bucket{burst_, now}).first;
  }
  auto& b = it->second;
  b.tokens = refilled(b, now);
  b.at = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return static_cast<unsigned>(std::max(1.0, std::ceil((1 - b.tokens) / per_second_)));
}

std::size_t request_limiter::tracked() {
  std::size_t n = 0;
  for (auto& s : stripes_) {
    std::lock_guard guard{s.mutex};
    n += s.buckets.size();
  }
  return n;
}

} // namespace emporium::http
