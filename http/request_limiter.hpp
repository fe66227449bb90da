// Requests per client address: a token bucket each (`per_second` tokens a
// second, up to `burst`), so one client cannot take the node's request
// capacity from the others however fast it sends. The client is the
// key client_address.hpp resolves (behind trusted proxies, the one they
// forwarded for; an IPv6 client's network, not its address). Only the
// dynamic surface counts (counted_path): the API and the live sockets.
// Health probes must never be refused, and the storefront's static files
// are cheap and come many per page.
//
// Memory is bounded: at most `max_clients` buckets. A bucket that has
// refilled is the same as none, so a full table first drops those; if
// every bucket is still in use, a new client is let through uncounted
// (fail open) instead of refused: that many busy addresses are a
// distributed flood, which a per-client limit cannot stop, and refusing
// would lock out every newcomer. Thread-safe (the edge's I/O threads share
// one), striped so that they rarely wait for each other.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace emporium::http {

/// Whether a request to `path` counts against its client's limit: its first
/// segment is `api`, `ws` or `notificationHub` (in any case, empty segments
/// skipped: what the router would route there).
bool counted_path(std::string_view path);

class request_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// `per_second` > 0; a burst below one request is taken as one.
  request_limiter(double per_second, double burst, std::size_t max_clients = 65536);

  /// Takes a token of `client`'s bucket and answers 0, or refuses and
  /// answers the whole seconds until a token is back (>= 1, for
  /// Retry-After).
  unsigned admit(std::string_view client, clock::time_point now = clock::now());

  /// Buckets held now (for tests).
  std::size_t tracked();

private:
  struct bucket {
    double tokens = 0;
    clock::time_point at{};
  };
  /// Looks up by string_view without making a string (every request does).
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  struct stripe {
    std::mutex mutex;
    std::unordered_map<std::string, bucket, text_hash, std::equal_to<>> buckets;
    clock::time_point pruned{};
  };
  static constexpr std::size_t stripes = 16;

  double refilled(const bucket& b, clock::time_point now) const;
  bool make_room(stripe& s, clock::time_point now);

  double per_second_;
  double burst_;
  std::size_t max_per_stripe_;
  std::array<stripe, stripes> stripes_;
};

} // namespace emporium::http
