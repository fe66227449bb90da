// The HTTP edge's sockets: a listener and one session per connection
// (Boost.Beast, asynchronous, one io_context run by N threads). Sessions own
// limits and timeouts and hand each parsed request to the router; answers
// come back through a responder from any thread and are written in request
// order (bounded pipelining). No Beast type leaks out of this header.
#pragma once

#include "http/client_address.hpp"
#include "http/router.hpp"
#include "http/websocket.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace emporium::http {

struct server_options {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 2;
  /// The I/O threads' names, numbered: "http io 0" (`top -H`, README Threads).
  std::string thread_name = "http io";
  std::uint64_t max_body_bytes = 1 << 20;
  std::uint64_t max_header_bytes = 8 << 10;
  std::chrono::seconds read_timeout{30};
  unsigned max_connections = 10'000;
  unsigned max_connections_per_client = 256; // by socket peer; trusted proxies exempt
  /// Requests a client address may make per second, with bursts of twice
  /// that (request_limiter.hpp); only the API and live sockets count. 0 = no limit.
  double requests_per_second_per_client = 0;
  /// Requests the whole node holds at once (read, not yet answered): past
  /// it an API request gets a 503 with Retry-After instead of a place in
  /// the queue. The global counterpart of the limits per client. 0 = none.
  std::uint64_t max_requests_in_flight = 0;
  /// A connection must send a complete request head this soon after it
  /// opens or after its previous answer (slow or idle clients hold slots).
  std::chrono::seconds header_timeout{10};
  std::size_t max_pipelined = 16;
  std::vector<std::string> cors_origins; // "*" allows any origin
  trusted_proxies proxies;               // whose X-Forwarded-For is believed
  ws_factory websocket;                   // decides WebSocket upgrades; empty = none
};

class server {
public:
  server(server_options opts, const router& routes);
  ~server();

  /// Binds and starts the I/O threads; returns the bound port (useful with
  /// port 0). Throws std::runtime_error when the address cannot be bound.
  std::uint16_t start();

  /// Graceful stop: close the listener, let in-flight requests finish (at
  /// most `grace`), then stop the I/O threads and join them. Does nothing
  /// for a server that never started.
  void stop(std::chrono::milliseconds grace);

  /// Requests accepted but not yet answered (for graceful shutdown).
  std::uint64_t in_flight() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace emporium::http
