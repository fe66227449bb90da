// A small HTTPS client for calling a payment provider: Boost.Beast over
// OpenSSL, the certificate chain and the host name verified, a bounded pool
// of keep-alive connections, every exchange under a deadline. Its own I/O
// thread does the work; answers arrive on that thread through a callback,
// so a caller never blocks. Keeps Beast and OpenSSL out of this header.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emporium {
class name_lookups; // support/name_lookup.hpp
}

namespace emporium::payments {

struct https_url {
  std::string host;
  std::string port = "443";
  std::string prefix; ///< path before every request's path ("" or "/x")
};

/// https://host[:port][/prefix]; nullopt and `why` for anything else
/// (plain http is refused: a payment key never crosses the network in clear).
std::optional<https_url> parse_https_url(std::string_view text, std::string& why);

struct https_options {
  std::string base_url;                       ///< https://api.stripe.com
  std::string ca_file;                        ///< PEM bundle; "" = the system's store
  std::size_t max_connections = 64;           ///< open at once; more requests wait
  /// One deadline per exchange, counted from its send: the wait for a free
  /// connection, the lookup, connecting and the round trip all come out of it.
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_response_bytes = 1 << 20;
  /// Where the API host's name is looked up (tests hold a slow resolver);
  /// null: the process's own, name_lookups::system().
  name_lookups* lookups = nullptr;
};

struct https_request {
  bool post = true;
  std::string path; ///< after the base URL's prefix
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct https_response {
  int status = 0;    ///< 0: no answer (error says why)
  std::string body;
  std::string error; ///< e.g. "handshake: certificate verify failed"
};

using https_done = std::function<void(https_response)>;

class https_client {
public:
  /// Throws std::invalid_argument for a bad URL or an unreadable CA file.
  explicit https_client(https_options opts);
  ~https_client(); ///< stops the I/O thread; unanswered callbacks are dropped
  https_client(const https_client&) = delete;
  https_client& operator=(const https_client&) = delete;

  /// Sends on the I/O thread; `done` runs there exactly once (unless the
  /// client is destroyed first).
  void send(https_request req, https_done done);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace emporium::payments
