// What the listener and every session of the HTTP edge share: the options,
// the routes, and the connection counts (global and per client). Internal to
// the edge's socket code (server.cpp, http_session.cpp, websocket_session.cpp).
#pragma once

#include "http/request_limiter.hpp"
#include "http/server.hpp"
#include "support/metrics.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace emporium::http {

/// Owned by the server and every open session (a session may outlive stop()).
struct shared_state {
  shared_state(server_options o, const router& r) : opts(std::move(o)), routes(r) {
    if (opts.requests_per_second_per_client > 0)
      limiter = std::make_unique<request_limiter>(opts.requests_per_second_per_client,
                                                  2 * opts.requests_per_second_per_client);
  }
  server_options opts;
  const router& routes;
  std::atomic<unsigned> connections{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::mutex per_client_mutex;
  std::unordered_map<std::string, unsigned> per_client; // open connections by peer's client key
  std::unique_ptr<request_limiter> limiter; // requests per client; null = no limit
};

/// One open connection's place in the global and per-client counts, held by
/// the HTTP session and handed on to the WebSocket session after an
/// upgrade; released when the last of them ends.
class connection_slot {
public:
  /// nullptr when over a cap. `client` is the peer's client key
  /// (`state->opts.proxies.key_of(peer)`). A trusted proxy's connections
  /// carry many clients: they count globally, not per client.
  static std::shared_ptr<connection_slot> take(const std::shared_ptr<shared_state>& state,
                                               const std::string& peer, std::string client,
                                               bool& per_client_full);
  ~connection_slot();

  /// The peer's client key (client_key: an IPv6 peer's network), computed
  /// once per connection for the caps and for requests that carry no
  /// X-Forwarded-For.
  const std::string& client() const {
    return client_;
  }

private:
  connection_slot(std::shared_ptr<shared_state> s, std::string client, bool per_client)
    : state_(std::move(s)), client_(std::move(client)), per_client_(per_client) {
  }
  std::shared_ptr<shared_state> state_;
  std::string client_;
  bool per_client_;
};

/// WebSocket sessions open now (the session counts itself in and out).
metrics::gauge& live_sockets_gauge();

} // namespace emporium::http
